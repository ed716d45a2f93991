"""The take-back scheme's rules: every transition, one take-back per purchased unit, the
estimate from staff rules, offers below the estimate, credit issued once and never for a
rejected or expired take-back, the periodic reminder/expiry/auto-accept."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from shop.common.models import OutboxMessage
from shop.credit.models import CreditEntry
from shop.credit.selectors import credit_balance, credit_ledger_sum
from shop.takeback.models import CreditRule, TakeBack, TakeBackEvent, TakeBackTransitionError
from shop.takeback.selectors import takeback_estimate, takeback_timeline
from shop.takeback.services import (
    RegistrationItem,
    TakeBackRefused,
    credit_rule_save,
    takeback_approve,
    takeback_close,
    takeback_credit_issue,
    takeback_email_send,
    takeback_grade,
    takeback_label_issue,
    takeback_mark_shipped,
    takeback_offer_answer,
    takeback_policy_update,
    takeback_receive,
    takeback_register,
    takeback_reject,
    takeback_sweep,
)
from tests.takeback.helpers import (
    D,
    customer,
    delivered_order,
    graded,
    image_upload,
    product,
    received,
    register_line,
    staff_member,
)

pytestmark = pytest.mark.django_db
S = TakeBack.Status


@pytest.fixture
def staff(db):
    return staff_member()


def queued():
    return [(m.task.rsplit(".", 1)[-1], m.args) for m in OutboxMessage.objects.order_by("pk")]


def kinds(takeback):
    return list(takeback.events.values_list("kind", flat=True))


def test_register_an_order_line_records_the_estimate_and_queues_the_label(jo):
    order = delivered_order(user=jo)
    takeback = register_line(jo, order, condition="good", notes="Corners worn")
    assert takeback.status == S.REGISTERED
    assert takeback.source == "online" and takeback.unit == 1
    assert takeback.product_title == order.lines.first().title
    assert takeback.purchase_year == order.date_placed.year
    # Default rules: good → grades B..C → £6.00 (C min) to £20.00 (B max).
    assert (takeback.estimate_low, takeback.estimate_high) == (D("6.00"), D("20.00"))
    assert takeback.terms_accepted_at is not None
    assert kinds(takeback) == ["registered"]
    assert takeback.events.get().actor == jo
    assert queued() == [("issue_label", [takeback.pk])]


def test_terms_must_be_accepted(jo):
    order = delivered_order(user=jo)
    with pytest.raises(TakeBackRefused, match="terms"):
        takeback_register(
            customer=jo,
            items=[RegistrationItem(condition="good", line=order.lines.first())],
            terms_accepted=False,
        )
    assert not TakeBack.objects.exists()


def test_one_takeback_per_purchased_unit(jo):
    order = delivered_order(user=jo, quantity=2)
    first = register_line(jo, order)
    second = register_line(jo, order)
    assert (first.unit, second.unit) == (1, 2)
    with pytest.raises(TakeBackRefused, match="already registered for take-back"):
        register_line(jo, order)
    assert TakeBack.objects.count() == 2


def test_a_second_registration_of_a_single_line_is_refused_and_nothing_is_kept(jo):
    order = delivered_order(user=jo)
    other = delivered_order(user=jo, upc="MV-EG-TOT")
    register_line(jo, order)
    with pytest.raises(TakeBackRefused, match="each item can be taken back once"):
        takeback_register(
            customer=jo,
            items=[
                RegistrationItem(condition="good", line=other.lines.first()),
                RegistrationItem(condition="good", line=order.lines.first()),
            ],
            terms_accepted=True,
        )
    # All or nothing: the tote was not registered either.
    assert TakeBack.objects.count() == 1


def test_an_expired_takeback_frees_its_unit(jo, staff):
    order = delivered_order(user=jo)
    takeback = register_line(jo, order)
    takeback_label_issue(takeback=takeback)
    TakeBack.objects.filter(pk=takeback.pk).update(
        label_issued_at=timezone.now() - timedelta(days=31)
    )
    assert takeback_sweep()["expired"] == 1
    again = register_line(jo, order)
    assert again.unit == 1 and again.pk != takeback.pk


def test_someone_elses_order_line_is_refused(jo):
    order = delivered_order(user=customer("sam@example.com"))
    with pytest.raises(TakeBackRefused, match="could not find"):
        register_line(jo, order)


def test_register_a_boutique_or_gift_product_with_photos(jo, settings, tmp_path):
    settings.TAKEBACK_PRIVATE_ROOT = str(tmp_path)
    (takeback,) = takeback_register(
        customer=jo,
        items=[
            RegistrationItem(
                condition="worn",
                product=product("MV-EG-TOT"),
                source="gift",
                purchase_year=2019,
                photos=[image_upload("PNG"), image_upload("JPEG", "a.jpg")],
            )
        ],
        terms_accepted=True,
    )
    assert takeback.source == "gift" and takeback.line is None and takeback.purchase_year == 2019
    photos = list(takeback.photos.all())
    assert [p.content_type for p in photos] == ["image/png", "image/jpeg"]
    for photo in photos:
        name = photo.image.name
        # The customer's file names are not kept ("a.jpg" may end a random name: compare the
        # whole stored name, not a substring, or one run in ~60 fails).
        assert name.startswith("takeback/") and "photo" not in name
        assert Path(name).name not in {"photo.png", "a.jpg"} and Path(name).stem != "a"
        assert (tmp_path / name).exists()
        assert not str(tmp_path / name).startswith(str(settings.MEDIA_ROOT))


def test_boutique_purchase_year_is_checked(jo):
    with pytest.raises(TakeBackRefused, match="purchase year"):
        takeback_register(
            customer=jo,
            items=[
                RegistrationItem(
                    condition="worn", product=product(), source="boutique", purchase_year=1900
                )
            ],
            terms_accepted=True,
        )


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("fake.jpg", b"<?php echo 'not an image'; ?>", "image/jpeg"),
        SimpleUploadedFile("doc.png", b"%PDF-1.4 not a png", "image/png"),
    ],
)
def test_photos_are_checked_by_content_not_name(jo, upload, tmp_path, settings):
    settings.TAKEBACK_PRIVATE_ROOT = str(tmp_path)
    with pytest.raises(ValidationError, match="not a JPEG, PNG or WebP"):
        takeback_register(
            customer=jo,
            items=[
                RegistrationItem(
                    condition="worn", product=product(), source="gift", photos=[upload]
                )
            ],
            terms_accepted=True,
        )
    assert not TakeBack.objects.exists()


def test_gif_and_large_photos_are_refused(jo, settings, tmp_path):
    settings.TAKEBACK_PRIVATE_ROOT = str(tmp_path)
    from tests.takeback.helpers import image_upload as img

    gif = img("PNG")
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="GIF")
    gif = SimpleUploadedFile("x.png", buf.getvalue(), "image/png")
    with pytest.raises(ValidationError, match="not a JPEG, PNG or WebP"):
        takeback_register(
            customer=jo,
            items=[
                RegistrationItem(condition="worn", product=product(), source="gift", photos=[gif])
            ],
            terms_accepted=True,
        )
    settings.TAKEBACK_PHOTO_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="larger than"):
        takeback_register(
            customer=jo,
            items=[
                RegistrationItem(
                    condition="worn",
                    product=product(),
                    source="gift",
                    photos=[img("PNG", size=(200, 200))],
                )
            ],
            terms_accepted=True,
        )


def test_estimate_uses_the_most_specific_rule(jo):
    wallet = product()
    assert takeback_estimate(product=wallet, condition="like_new") == (D("12.00"), D("30.00"))
    credit_rule_save(
        grade="A", min_amount=D("25"), max_amount=D("40"), product_class=wallet.get_product_class()
    )
    assert takeback_estimate(product=wallet, condition="like_new") == (D("12.00"), D("40.00"))
    # A rule on the parent product applies to its variants, and beats the class.
    credit_rule_save(grade="A", min_amount=D("30"), max_amount=D("45"), product=wallet.parent)
    credit_rule_save(grade="B", min_amount=D("18"), max_amount=D("28"), product=wallet.parent)
    assert takeback_estimate(product=wallet, condition="like_new") == (D("18.00"), D("45.00"))
    assert takeback_estimate(product=product("MV-EG-TOT"), condition="damaged") == (
        D("2.00"),
        D("5.00"),
    )
    with pytest.raises(TakeBackRefused):
        credit_rule_save(grade="A", min_amount=D("10"), max_amount=D("5"))


def test_label_issue_is_idempotent_and_gives_a_tracking_number(jo):
    takeback = register_line(jo, delivered_order(user=jo))
    first = takeback_label_issue(takeback=takeback)
    number = first.tracking_number
    assert first.status == S.LABEL_ISSUED and number.startswith("MV") and first.label_issued_at
    again = takeback_label_issue(takeback=takeback)
    assert again.tracking_number == number
    assert kinds(again) == ["registered", "label_issued"]


def test_label_email_is_sent_once_with_the_pdf(jo):
    takeback = takeback_label_issue(takeback=register_line(jo, delivered_order(user=jo)))
    assert takeback_email_send(takeback=takeback, kind="label") is True
    assert takeback_email_send(takeback=takeback, kind="label") is False
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [jo.email] and takeback.tracking_number in message.body
    (name, content, mimetype) = message.attachments[0]
    assert mimetype == "application/pdf" and content.startswith(b"%PDF")
    assert takeback.events.filter(kind="emailed", note="label").count() == 1


def test_the_happy_path_through_every_step(jo, staff):
    takeback = register_line(jo, delivered_order(user=jo))
    takeback = takeback_label_issue(takeback=takeback)
    takeback = takeback_mark_shipped(takeback=takeback, actor=jo)
    assert takeback.status == S.IN_TRANSIT and takeback.shipped_at
    takeback = takeback_receive(
        tracking_number=takeback.tracking_number.lower(), staff=staff, note="Box fine"
    )
    assert takeback.status == S.RECEIVED and takeback.received_at
    takeback = takeback_grade(
        takeback=takeback, grade="A", route="resell", staff=staff, notes="Barely used"
    )
    assert takeback.status == S.GRADED
    assert (takeback.credit_min, takeback.credit_max, takeback.credit_amount) == (
        D("20.00"),
        D("30.00"),
        D("30.00"),
    )
    takeback = takeback_approve(takeback=takeback, staff=staff, amount=D("25.00"))
    assert takeback.status == S.APPROVED
    assert ("issue_credit", [takeback.pk]) in queued()
    takeback = takeback_credit_issue(takeback=takeback)
    assert takeback.status == S.CREDIT_ISSUED
    assert credit_balance(user=jo) == D("25.00") == credit_ledger_sum(user=jo)
    # Idempotent: a redelivered task adds nothing.
    takeback_credit_issue(takeback=takeback)
    assert credit_balance(user=jo) == D("25.00")
    assert CreditEntry.objects.filter(takeback=takeback).count() == 1
    takeback = takeback_close(takeback=takeback, staff=staff, note="Listed as pre-loved")
    assert takeback.status == S.CLOSED
    assert kinds(takeback) == [
        "registered",
        "label_issued",
        "shipped",
        "received",
        "graded",
        "approved",
        "credit_issued",
        "closed",
    ]
    staff_events = takeback.events.filter(kind__in=["received", "graded", "approved", "closed"])
    assert {e.actor for e in staff_events} == {staff}
    steps = takeback_timeline(takeback=takeback)
    assert [s.state for s in steps] == ["done"] * 7
    assert all(s.at for s in steps)


def test_receive_directly_from_label_issued_and_unknown_numbers(jo, staff):
    takeback = takeback_label_issue(takeback=register_line(jo, delivered_order(user=jo)))
    with pytest.raises(TakeBackRefused, match="No take-back has the tracking number"):
        takeback_receive(tracking_number="MV0000000000GB", staff=staff)
    with pytest.raises(TakeBackRefused, match="enter or scan"):
        takeback_receive(tracking_number="  ", staff=staff)
    spaced = " ".join(takeback.tracking_number[i : i + 4] for i in range(0, 14, 4))
    assert takeback_receive(tracking_number=spaced, staff=staff).status == S.RECEIVED
    with pytest.raises(TakeBackRefused, match="already received"):
        takeback_receive(tracking_number=takeback.tracking_number, staff=staff)


@pytest.mark.parametrize(
    "call",
    [
        lambda tb, staff: takeback_grade(takeback=tb, grade="A", route="resell", staff=staff),
        lambda tb, staff: takeback_approve(takeback=tb, staff=staff),
        lambda tb, staff: takeback_close(takeback=tb, staff=staff),
        lambda tb, staff: takeback_credit_issue(takeback=tb),
        lambda tb, staff: takeback_mark_shipped(takeback=tb, actor=staff),
    ],
)
def test_illegal_moves_from_registered_are_refused(jo, staff, call):
    takeback = register_line(jo, delivered_order(user=jo))
    with pytest.raises(TakeBackTransitionError):
        call(takeback, staff)
    takeback.refresh_from_db()
    assert takeback.status == S.REGISTERED and kinds(takeback) == ["registered"]


def test_grade_and_approve_check_their_input(jo, staff):
    takeback = received(jo, staff=staff)
    with pytest.raises(TakeBackRefused, match="grade"):
        takeback_grade(takeback=takeback, grade="E", route="resell", staff=staff)
    with pytest.raises(TakeBackRefused, match="route"):
        takeback_grade(takeback=takeback, grade="A", route="landfill", staff=staff)
    takeback = takeback_grade(takeback=takeback, grade="B", route="repair_return", staff=staff)
    with pytest.raises(TakeBackRefused, match="between £12.00 and £20.00"):
        takeback_approve(takeback=takeback, staff=staff, amount=D("25.00"))
    with pytest.raises(TakeBackRefused, match="between"):
        takeback_approve(takeback=takeback, staff=staff, amount=D("11.99"))
    assert TakeBack.objects.get(pk=takeback.pk).status == S.GRADED


def test_an_offer_below_the_estimate_waits_for_the_customer(jo, staff):
    takeback = graded(jo, staff=staff, grade="D")  # like new → estimate £12–30; D pays £2–5
    takeback = takeback_approve(takeback=takeback, staff=staff)
    assert takeback.status == S.OFFERED and takeback.credit_amount == D("5.00")
    assert takeback.offer_below_estimate
    assert takeback.offer_expires_at - takeback.offer_made_at == timedelta(days=14)
    assert ("send_email", [takeback.pk, "offer"]) in queued()
    # Not credited before the customer answers.
    with pytest.raises(TakeBackTransitionError):
        takeback_credit_issue(takeback=takeback)
    other = customer("sam@example.com")
    with pytest.raises(TakeBackRefused, match="not your take-back"):
        takeback_offer_answer(takeback=takeback, customer=other, accept=True)
    takeback = takeback_offer_answer(takeback=takeback, customer=jo, accept=True)
    assert takeback.status == S.APPROVED
    takeback = takeback_credit_issue(takeback=takeback)
    assert credit_balance(user=jo) == D("5.00")
    with pytest.raises(TakeBackRefused, match="already been answered"):
        takeback_offer_answer(takeback=takeback, customer=jo, accept=False, decline_choice="return")


def test_a_declined_offer_closes_with_the_customers_choice(jo, staff):
    takeback = takeback_approve(takeback=graded(jo, staff=staff, grade="D"), staff=staff)
    with pytest.raises(TakeBackRefused, match="send the item back or recycle"):
        takeback_offer_answer(takeback=takeback, customer=jo, accept=False)
    takeback = takeback_offer_answer(
        takeback=takeback, customer=jo, accept=False, decline_choice="recycle"
    )
    assert takeback.status == S.CLOSED and takeback.decline_choice == "recycle"
    assert "recycle it" in takeback.reason
    steps = takeback_timeline(takeback=takeback)
    assert [s.status for s in steps][-2:] == ["graded", "closed"]
    with pytest.raises(TakeBackTransitionError):
        takeback_credit_issue(takeback=takeback)
    assert credit_balance(user=jo) == D("0.00")
    assert kinds(takeback)[-1] == "declined"


def test_rejected_takebacks_cannot_be_credited(jo, staff):
    takeback = received(jo, staff=staff)
    with pytest.raises(TakeBackRefused, match="reason"):
        takeback_reject(takeback=takeback, staff=staff, reason=" ")
    takeback = takeback_reject(takeback=takeback, staff=staff, reason="Not one of ours")
    assert takeback.status == S.REJECTED and takeback.reason == "Not one of ours"
    for call in (
        lambda: takeback_credit_issue(takeback=takeback),
        lambda: takeback_grade(takeback=takeback, grade="A", route="resell", staff=staff),
        lambda: takeback_approve(takeback=takeback, staff=staff),
    ):
        with pytest.raises(TakeBackTransitionError):
            call()
    assert not CreditEntry.objects.exists()
    steps = takeback_timeline(takeback=takeback)
    assert steps[-1].status == "rejected" and steps[-1].state == "ended"
    assert "graded" not in [s.status for s in steps]


def test_an_approved_takeback_rejected_in_the_database_is_still_not_credited(jo, staff):
    """Belt and braces: the credit service checks the status under the lock."""
    takeback = takeback_approve(takeback=graded(jo, staff=staff), staff=staff)
    TakeBack.objects.filter(pk=takeback.pk).update(status=S.EXPIRED)
    with pytest.raises(TakeBackTransitionError, match="cannot be credited"):
        takeback_credit_issue(takeback=takeback)
    assert credit_balance(user=jo) == D("0.00")


def test_sweep_reminds_once_expires_and_auto_accepts(jo, staff):
    now = timezone.now()
    fresh = takeback_label_issue(takeback=register_line(jo, delivered_order(user=jo)))
    late = takeback_label_issue(takeback=register_line(jo, delivered_order(user=jo)))
    gone = takeback_label_issue(takeback=register_line(jo, delivered_order(user=jo)))
    posted = takeback_label_issue(takeback=register_line(jo, delivered_order(user=jo)))
    takeback_mark_shipped(takeback=posted, actor=jo)
    TakeBack.objects.filter(pk=late.pk).update(label_issued_at=now - timedelta(days=15))
    TakeBack.objects.filter(pk__in=[gone.pk, posted.pk]).update(
        label_issued_at=now - timedelta(days=31)
    )
    offer = takeback_approve(takeback=graded(jo, staff=staff, grade="D"), staff=staff)

    assert takeback_sweep(now=now) == {"reminded": 1, "expired": 1, "accepted": 0}
    assert takeback_sweep(now=now) == {"reminded": 0, "expired": 0, "accepted": 0}
    fresh.refresh_from_db(), late.refresh_from_db(), gone.refresh_from_db()
    posted.refresh_from_db()
    assert fresh.status == S.LABEL_ISSUED and fresh.reminder_sent_at is None
    assert late.status == S.LABEL_ISSUED and late.reminder_sent_at == now
    assert gone.status == S.EXPIRED and "30 days" in gone.reason
    assert posted.status == S.IN_TRANSIT
    assert ("send_email", [late.pk, "reminder"]) in queued()
    assert ("send_email", [gone.pk, "expired"]) in queued()
    with pytest.raises(TakeBackTransitionError):
        takeback_credit_issue(takeback=gone)

    later = now + timedelta(days=14, minutes=1)
    assert takeback_sweep(now=later)["accepted"] == 1
    offer.refresh_from_db()
    assert offer.status == S.APPROVED and kinds(offer)[-1] == "auto_accepted"
    assert offer.events.last().actor is None


def test_time_limits_are_staff_data(jo, staff):
    policy = takeback_policy_update(staff=staff, reminder_days=3, expiry_days=5, offer_days=2)
    assert (policy.reminder_days, policy.expiry_days, policy.offer_days) == (3, 5, 2)
    with pytest.raises(TakeBackRefused):
        takeback_policy_update(staff=staff, reminder_days=5, expiry_days=5, offer_days=2)
    takeback = takeback_label_issue(takeback=register_line(jo, delivered_order(user=jo)))
    TakeBack.objects.filter(pk=takeback.pk).update(
        label_issued_at=timezone.now() - timedelta(days=4)
    )
    assert takeback_sweep()["reminded"] == 1


def test_default_rules_are_ensured_and_match_the_migration(jo):
    from importlib import import_module

    from shop.takeback.services import DEFAULT_RULES, credit_rules_default_ensure

    migration = import_module("shop.takeback.migrations.0002_default_credit_rules")
    assert {g: (D(a), D(b)) for g, (a, b) in migration.DEFAULTS.items()} == DEFAULT_RULES
    assert CreditRule.objects.filter(product=None, product_class=None).count() == 4
    assert credit_rules_default_ensure() == 0
    CreditRule.objects.filter(grade="A", product=None).update(max_amount=D("50.00"))
    CreditRule.objects.filter(grade="D", product=None).delete()
    assert credit_rules_default_ensure() == 1  # D again; A keeps the staff's change
    assert CreditRule.objects.get(grade="A", product=None).max_amount == D("50.00")


def test_every_event_names_status_and_time(jo, staff):
    takeback = graded(jo, staff=staff)
    for event in TakeBackEvent.objects.filter(takeback=takeback):
        assert event.created_at and event.status
    assert Decimal(takeback.leather_kg) > 0


def test_a_refused_registration_leaves_no_photo_files(jo, settings, tmp_path):
    settings.TAKEBACK_PRIVATE_ROOT = str(tmp_path)
    order = delivered_order(user=jo)
    register_line(jo, order)
    with pytest.raises(TakeBackRefused):
        takeback_register(
            customer=jo,
            items=[
                RegistrationItem(
                    condition="worn", product=product(), source="gift", photos=[image_upload()]
                ),
                RegistrationItem(condition="good", line=order.lines.first()),  # taken already
            ],
            terms_accepted=True,
        )
    assert TakeBack.objects.count() == 1
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
