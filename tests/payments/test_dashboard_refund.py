"""Staff refunds from the dashboard, through localstripe: recorded on the order once (Oscar
payment event and source, order note), confirmed by a replayed `charge.refunded`."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from oscar.test.factories import UserFactory

from shop.order.services import order_refund
from shop.payments.exceptions import RefundRefused
from shop.payments.localstripe import free_port
from shop.payments.models import PaymentIntentRecord, PaymentRefund
from tests.payments.helpers import charge_obj, make_event, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    user = UserFactory(is_staff=True, is_superuser=True, email="boss@marlowandvale.example")
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def _url(order) -> str:
    return f"/dashboard/payments/orders/{order.number}/refund/"


def _record(order) -> PaymentIntentRecord:
    return PaymentIntentRecord.objects.get(order_number=order.number)


def _form(staff, order):
    response = staff.get(_url(order))
    assert response.status_code == 200
    form = response.context["form"]
    return {
        "amount": str(form.initial["amount"]),
        "refunded_before": str(form.initial["refunded_before"]),
        "reason": "",
    }


def _oscar_refunds(order) -> list[Decimal]:
    return list(
        order.payment_events.filter(event_type__name="Refunded")
        .order_by("pk")
        .values_list("amount", flat=True)
    )


def _source(order):
    return order.sources.get(source_type__name="Stripe")


def test_full_refund(staff, paid_order):
    order = paid_order
    page = staff.get(_url(order)).content.decode()
    total = order.total_incl_tax
    assert f"£{total}" in page  # paid and refundable
    data = _form(staff, order)
    assert Decimal(data["amount"]) == total
    response = staff.post(_url(order), data | {"reason": "Scratched on arrival"})
    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/orders/{order.number}/"

    refund = PaymentRefund.objects.get()
    assert refund.amount == total and refund.status == "succeeded"
    assert _record(order).amount_refunded == total
    assert _oscar_refunds(order) == [total]
    assert order.payment_events.get(event_type__name="Refunded").reference == refund.refund_id
    source = _source(order)
    assert source.amount_refunded == total and source.amount_available_for_refund == 0
    assert source.transactions.get(txn_type="Refund").reference == refund.refund_id
    note = order.notes.get()
    assert "Scratched on arrival" in note.message and note.user == staff.user
    # Nothing left: the page says so and offers no form.
    assert "refunded in full" in staff.get(_url(order)).content.decode()
    detail = staff.get(f"/dashboard/orders/{order.number}/").content.decode()
    assert f'href="{_url(order)}"' in detail


def test_partial_refund_then_the_rest(staff, paid_order):
    order = paid_order
    total = order.total_incl_tax
    data = _form(staff, order)
    assert staff.post(_url(order), data | {"amount": "10.00"}).status_code == 302
    page = staff.get(_url(order))
    assert page.context["refundable"] == total - Decimal("10.00")
    rest = _form(staff, order)
    assert Decimal(rest["amount"]) == total - Decimal("10.00")
    assert Decimal(rest["refunded_before"]) == Decimal("10.00")
    assert staff.post(_url(order), rest).status_code == 302
    assert _oscar_refunds(order) == [Decimal("10.00"), total - Decimal("10.00")]
    assert _record(order).amount_refunded == total
    assert _source(order).amount_refunded == total
    assert PaymentRefund.objects.count() == 2 and order.notes.count() == 2


@pytest.mark.parametrize(
    "amount, error",
    [
        ("0", "more than 0"),
        ("0.00", "more than 0"),
        ("-5", "more than 0"),
        ("abc", "Enter a number"),
        ("", "required"),
        ("NaN", "Enter a number"),
        ("1.234", "decimal places"),
        ("1e400", ""),
        ("999999.00", "At most"),
    ],
)
def test_bad_amounts_are_refused_with_a_field_error(staff, paid_order, amount, error):
    order = paid_order
    response = staff.post(_url(order), _form(staff, order) | {"amount": amount})
    assert response.status_code == 200
    errors = response.context["form"].errors["amount"]
    assert errors and error in " ".join(errors)
    assert PaymentRefund.objects.count() == 0 and not _oscar_refunds(order)
    assert _record(order).amount_refunded == 0


def test_over_refund_after_a_partial_refund_is_refused(staff, paid_order):
    order = paid_order
    total = order.total_incl_tax
    staff.post(_url(order), _form(staff, order) | {"amount": "10.00"})
    response = staff.post(_url(order), _form(staff, order) | {"amount": str(total)})
    assert response.status_code == 200 and "At most" in str(response.context["form"].errors)
    # The service refuses it too (not only the form).
    with pytest.raises(RefundRefused):
        order_refund(order=order, amount=total, staff=staff.user)
    assert _oscar_refunds(order) == [Decimal("10.00")]
    assert _record(order).amount_refunded == Decimal("10.00")


def test_the_same_form_sent_twice_refunds_once(staff, paid_order):
    order = paid_order
    data = _form(staff, order) | {"amount": "10.00"}
    first = staff.post(_url(order), data)
    second = staff.post(_url(order), data, follow=True)
    assert first.status_code == 302
    assert "nothing more was refunded" in second.content.decode()
    assert PaymentRefund.objects.count() == 1 and _oscar_refunds(order) == [Decimal("10.00")]
    assert _record(order).amount_refunded == Decimal("10.00")
    # A full-amount form sent twice too.
    data = _form(staff, order)
    staff.post(_url(order), data)
    staff.post(_url(order), data)
    assert PaymentRefund.objects.count() == 2
    assert _record(order).amount_refunded == order.total_incl_tax
    assert sum(_oscar_refunds(order)) == order.total_incl_tax


def test_charge_refunded_replay_counts_nothing_twice(
    staff, paid_order, webhook_secret, eager_tasks, django_capture_on_commit_callbacks
):
    order = paid_order
    staff.post(_url(order), _form(staff, order) | {"amount": "10.00"})
    refund = PaymentRefund.objects.get()
    record = _record(order)
    charge = charge_obj(
        record.payment_intent_id,
        amount=int(record.amount * 100),
        refunds=[(refund.refund_id, 1000)],
    )
    hook = Client()
    for _ in range(3):  # the same event replayed, and a new event of the same refund
        for event in (
            make_event("charge.refunded", charge, event_id="evt_refund_1"),
            make_event("charge.refunded", charge),
        ):
            with django_capture_on_commit_callbacks(execute=True):
                assert post_event(hook, event).status_code == 200
    assert PaymentRefund.objects.count() == 1
    assert _record(order).amount_refunded == Decimal("10.00")
    assert _oscar_refunds(order) == [Decimal("10.00")]
    assert _source(order).amount_refunded == Decimal("10.00")
    assert _source(order).transactions.filter(txn_type="Refund").count() == 1


def test_charge_refunded_records_a_refund_made_elsewhere_once(
    paid_order, webhook_secret, eager_tasks, django_capture_on_commit_callbacks
):
    """A refund made in Stripe's own dashboard (or whose reply was lost) reaches the order."""
    order = paid_order
    record = _record(order)
    charge = charge_obj(
        record.payment_intent_id, amount=int(record.amount * 100), refunds=[("re_elsewhere", 500)]
    )
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            post_event(Client(), make_event("charge.refunded", charge))
    assert _oscar_refunds(order) == [Decimal("5.00")]
    assert _source(order).amount_refunded == Decimal("5.00")


def test_stripe_unreachable_refunds_nothing(staff, paid_order, settings):
    order = paid_order
    data = _form(staff, order)
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    response = staff.post(_url(order), data)
    assert response.status_code == 503
    assert "Stripe can&#x27;t be reached; nothing was refunded" in response.content.decode()
    assert PaymentRefund.objects.count() == 0 and not _oscar_refunds(order)
    assert _record(order).amount_refunded == 0 and _source(order).amount_refunded == 0
    assert order.notes.count() == 0


def test_customers_and_visitors_cannot_refund(client, paid_order):
    order = paid_order
    url = _url(order)
    anonymous = Client()
    for method in (anonymous.get, anonymous.post):
        response = method(url, {"amount": "1.00", "refunded_before": "0"})
        assert response.status_code == 302 and response["Location"].startswith("/dashboard/login/")
    customer = Client()
    customer.force_login(UserFactory(is_staff=False))
    plain_staff = Client()  # staff without Oscar's order permissions
    plain_staff.force_login(UserFactory(is_staff=True))
    for who in (customer, plain_staff):
        assert who.get(url).status_code == 403
        assert who.post(url, {"amount": "1.00", "refunded_before": "0"}).status_code == 403
    assert PaymentRefund.objects.count() == 0


def test_staff_with_order_permissions_can_refund(paid_order):
    order = paid_order
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="order", codename__in=["view_order", "change_order"]
        )
    )
    clerk = Client()
    clerk.force_login(user)
    assert clerk.get(_url(order)).status_code == 200
    response = clerk.post(_url(order), _form(clerk, order) | {"amount": "1.00"})
    assert response.status_code == 302 and PaymentRefund.objects.count() == 1
