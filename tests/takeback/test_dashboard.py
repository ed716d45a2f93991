"""Staff screens: the queue with filters, search and bulk actions; receiving by tracking
number; grading with photos; approving or adjusting the credit; rules and time limits; the
report; the audit log; and the permissions (staff without the grading permission: 403)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from shop.takeback.models import CreditRule, ProductWeight, TakeBack, TakeBackPolicy
from shop.takeback.services import takeback_approve, takeback_credit_issue, takeback_label_issue
from tests.takeback.helpers import (
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
def grader(db):
    return staff_member()


@pytest.fixture
def grader_client(client, grader):
    client.force_login(grader)
    return client


def labelled(user):
    return takeback_label_issue(takeback=register_line(user, delivered_order(user=user)))


def test_customers_and_anonymous_visitors_are_kept_out(client, jo):
    takeback = labelled(jo)
    urls = [
        reverse("takeback-dashboard:queue"),
        reverse("takeback-dashboard:detail", kwargs={"pk": takeback.pk}),
        reverse("takeback-dashboard:rules"),
        reverse("takeback-dashboard:report"),
    ]
    for url in urls:
        assert client.get(url).status_code == 302
    client.force_login(jo)
    for url in urls:
        assert client.get(url).status_code == 403


def test_staff_without_the_grading_permission_get_403(client, jo):
    takeback = received(jo, staff=staff_member())
    client.force_login(staff_member(perms=False, email="viewer@marlowandvale.example"))
    assert client.get(reverse("takeback-dashboard:queue")).status_code == 200
    assert (
        client.get(reverse("takeback-dashboard:detail", kwargs={"pk": takeback.pk})).status_code
        == 200
    )
    act = reverse("takeback-dashboard:act", kwargs={"pk": takeback.pk, "action": "grade"})
    assert client.post(act, {"grade": "A", "route": "resell"}).status_code == 403
    assert (
        client.post(reverse("takeback-dashboard:receive"), {"tracking_number": "x"}).status_code
        == 403
    )
    assert client.post(reverse("takeback-dashboard:bulk"), {"action": "close"}).status_code == 403
    assert client.get(reverse("takeback-dashboard:rules")).status_code == 403
    takeback.refresh_from_db()
    assert takeback.status == S.RECEIVED


def test_queue_filters_and_search(grader_client, jo):
    sam = customer("sam.green@example.com")
    mine, theirs = labelled(jo), labelled(sam)
    TakeBack.objects.filter(pk=theirs.pk).update(condition="damaged")
    url = reverse("takeback-dashboard:queue")
    page = grader_client.get(url).content.decode()
    assert mine.reference in page and theirs.reference in page
    page = grader_client.get(url, {"q": "sam.green"}).content.decode()
    assert theirs.reference in page and mine.reference not in page
    spaced = mine.tracking_number[:6] + " " + mine.tracking_number[6:]
    page = grader_client.get(url, {"q": spaced.lower()}).content.decode()
    assert mine.reference in page and theirs.reference not in page
    page = grader_client.get(url, {"condition": "damaged", "status": ""}).content.decode()
    assert theirs.reference in page and mine.reference not in page
    page = grader_client.get(url, {"status": "received"}).content.decode()
    assert "No take-backs match" in page
    page = grader_client.get(url, {"age_days": "3", "status": "open"}).content.decode()
    assert "No take-backs match" in page
    # Nonsense filters: the page still works.
    assert grader_client.get(url, {"age_days": "abc", "status": "nope"}).status_code == 200


def test_receive_by_scanned_tracking_number(grader_client, jo, grader):
    takeback = labelled(jo)
    url = reverse("takeback-dashboard:receive")
    response = grader_client.post(url, {"tracking_number": f" {takeback.tracking_number.lower()} "})
    assert response.status_code == 200 and "received" in response.content.decode()
    takeback.refresh_from_db()
    assert takeback.status == S.RECEIVED
    assert takeback.events.get(kind="received").actor == grader
    response = grader_client.post(url, {"tracking_number": "MV9999999999GB"}, follow=True)
    assert "No take-back has the tracking number MV9999999999GB" in response.content.decode()


def test_grade_with_photos_then_adjust_credit(grader_client, jo, grader, settings, tmp_path):
    settings.TAKEBACK_PRIVATE_ROOT = str(tmp_path)
    takeback = received(jo, staff=grader)
    act = lambda action: reverse(  # noqa: E731
        "takeback-dashboard:act", kwargs={"pk": takeback.pk, "action": action}
    )
    bad = grader_client.post(act("grade"), {"grade": "Z", "route": "resell"})
    assert bad.status_code == 400
    response = grader_client.post(
        act("grade"),
        {"grade": "B", "route": "repair_return", "notes": "Edge wear", "photos": [image_upload()]},
    )
    assert response.status_code == 302
    takeback.refresh_from_db()
    assert takeback.status == S.GRADED and takeback.grade == "B"
    assert takeback.photos.filter(kind="grading").count() == 1
    photo = takeback.photos.get()
    assert (
        grader_client.get(reverse("takeback-dashboard:photo", kwargs={"pk": photo.pk})).status_code
        == 200
    )
    # Outside the rule's range: refused with the range.
    out = grader_client.post(act("approve"), {"amount": "50.00"})
    assert out.status_code == 400 and "between £12.00 and £20.00" in out.content.decode()
    assert grader_client.post(act("approve"), {"amount": "15.00"}).status_code == 302
    takeback.refresh_from_db()
    assert takeback.status == S.APPROVED and takeback.credit_amount == Decimal("15.00")
    page = grader_client.get(reverse("takeback-dashboard:detail", kwargs={"pk": takeback.pk}))
    log = page.content.decode()
    assert "Graded" in log and "Credit approved" in log and grader.email in log
    # An action the state does not allow: a message, not an error.
    again = grader_client.post(act("grade"), {"grade": "A", "route": "resell"})
    assert again.status_code == 400 and "cannot move to graded" in again.content.decode()
    assert grader_client.post(act("explode"), {}).status_code == 404


def test_bulk_actions_report_each_outcome(grader_client, jo, grader):
    a, b = labelled(jo), labelled(jo)
    fresh = register_line(jo, delivered_order(user=jo))
    url = reverse("takeback-dashboard:bulk")
    response = grader_client.post(
        url, {"action": "receive", "ids": [a.pk, b.pk, fresh.pk]}, follow=True
    )
    page = response.content.decode()
    assert "2 take-back(s) updated" in page and "has no label yet" in page
    assert set(TakeBack.objects.filter(status=S.RECEIVED).values_list("pk", flat=True)) == {
        a.pk,
        b.pk,
    }
    page = grader_client.post(
        url, {"action": "reject", "ids": [fresh.pk]}, follow=True
    ).content.decode()
    assert "needs a reason" in page
    grader_client.post(url, {"action": "reject", "ids": [fresh.pk], "reason": "Not ours"})
    fresh.refresh_from_db()
    assert fresh.status == S.REJECTED and fresh.reason == "Not ours"


def test_bulk_approve_and_close(grader_client, jo, grader):
    one = graded(jo, staff=grader)
    url = reverse("takeback-dashboard:bulk")
    grader_client.post(url, {"action": "approve", "ids": [one.pk]})
    one.refresh_from_db()
    assert one.status == S.APPROVED
    takeback_credit_issue(takeback=one)
    grader_client.post(url, {"action": "close", "ids": [one.pk]})
    one.refresh_from_db()
    assert one.status == S.CLOSED


def test_rules_and_time_limits(grader_client, jo, grader):
    url = reverse("takeback-dashboard:rules")
    page = grader_client.get(url).content.decode()
    assert "Default" in page and "£20.00–£30.00" in page
    wallet = product().parent
    response = grader_client.post(
        url,
        {
            "form": "rule",
            "rule-scope": "product",
            "rule-product": wallet.pk,
            "rule-grade": "A",
            "rule-min_amount": "30",
            "rule-max_amount": "45",
        },
    )
    assert response.status_code == 302
    assert CreditRule.objects.get(product=wallet, grade="A").max_amount == Decimal("45.00")
    bad = grader_client.post(
        url,
        {
            "form": "rule",
            "rule-scope": "class",
            "rule-grade": "A",
            "rule-min_amount": "9",
            "rule-max_amount": "3",
        },
    )
    assert bad.status_code == 400
    response = grader_client.post(
        url,
        {
            "form": "policy",
            "policy-reminder_days": "10",
            "policy-expiry_days": "20",
            "policy-offer_days": "7",
        },
    )
    assert response.status_code == 302
    policy = TakeBackPolicy.objects.get()
    assert (policy.reminder_days, policy.expiry_days, policy.offer_days, policy.updated_by) == (
        10,
        20,
        7,
        grader,
    )
    bad = grader_client.post(
        url,
        {
            "form": "policy",
            "policy-reminder_days": "20",
            "policy-expiry_days": "20",
            "policy-offer_days": "7",
        },
    )
    assert bad.status_code == 400 and "after the reminder" in bad.content.decode()
    grader_client.post(
        url, {"form": "weight", "weight-product": wallet.pk, "weight-leather_kg": "0.180"}
    )
    assert ProductWeight.objects.get(product=wallet).leather_kg == Decimal("0.180")
    default = CreditRule.objects.get(product=None, product_class=None, grade="A")
    grader_client.post(url, {"form": "delete", "rule_id": default.pk})
    assert CreditRule.objects.filter(pk=default.pk).exists()


def test_report_page(grader_client, jo, grader):
    done = takeback_credit_issue(
        takeback=takeback_approve(takeback=graded(jo, staff=grader), staff=grader)
    )
    labelled(jo)
    page = grader_client.get(reverse("takeback-dashboard:report")).content.decode()
    assert f"£{done.credit_amount}" in page
    assert "Resell as pre-loved" in page and "100.0 %" in page
    assert "0.2 kg" in page or "0.3 kg" in page  # one graded item at the default 0.25 kg
    bad = grader_client.get(
        reverse("takeback-dashboard:report"), {"start": "nope", "end": "2020-13-01"}
    )
    assert bad.status_code == 200
