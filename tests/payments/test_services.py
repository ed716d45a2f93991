"""Processing stored events: idempotent, never backwards, refunds counted once; refunds and
fees through localstripe."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shop.payments import services, stripe_api
from shop.payments.exceptions import PaymentError, PaymentProviderUnavailable
from shop.payments.localstripe import free_port
from shop.payments.models import PaymentIntentRecord, PaymentRefund, StripeEvent
from shop.payments.money import from_minor, to_minor
from shop.payments.tasks import process_stripe_event, stripe_events_sweep
from tests.payments.helpers import charge_obj, intent_obj, make_event

pytestmark = pytest.mark.django_db


def deliver(event: dict) -> StripeEvent:
    """Store (as the webhook does) and run the task function directly."""
    stored, _ = services.stripe_event_store(event=event)
    process_stripe_event(stored.pk)
    return StripeEvent.objects.get(pk=stored.pk)


def record(pi_id="pi_test1") -> PaymentIntentRecord:
    return PaymentIntentRecord.objects.get(payment_intent_id=pi_id)


@pytest.fixture
def on_success():
    """Connect a receiver to payments' payment_succeeded for one test."""
    from shop.payments import signals

    connected = []

    def connect(receiver):
        signals.payment_succeeded.connect(receiver, weak=False, dispatch_uid="test-receiver")
        connected.append(receiver)

    yield connect
    signals.payment_succeeded.disconnect(dispatch_uid="test-receiver")


def test_processing_twice_does_the_work_once(on_success):
    calls = []
    on_success(lambda sender, **kw: calls.append(kw))
    stored, created = services.stripe_event_store(
        event=make_event("payment_intent.succeeded", intent_obj())
    )
    assert created
    for _ in range(3):
        services.stripe_event_process(event=stored)
    stored.refresh_from_db()
    assert stored.attempts == 1 and stored.processed_at is not None
    assert len(calls) == 1


def test_store_ignores_a_duplicate_id():
    event = make_event("payment_intent.succeeded", intent_obj())
    first, created_first = services.stripe_event_store(event=event)
    second, created_second = services.stripe_event_store(event={**event, "type": "other"})
    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk and second.type == "payment_intent.succeeded"


def test_failure_then_success_in_order():
    now = int(timezone.now().timestamp())
    deliver(
        make_event(
            "payment_intent.payment_failed",
            intent_obj(status="requires_payment_method", error="Your card was declined."),
            created=now - 10,
        )
    )
    assert (record().status, record().last_payment_error) == (
        "payment_failed",
        "Your card was declined.",
    )
    deliver(make_event("payment_intent.succeeded", intent_obj(), created=now))
    assert (record().status, record().last_payment_error) == ("succeeded", "")


def test_late_failure_after_success_changes_nothing():
    now = int(timezone.now().timestamp())
    deliver(make_event("payment_intent.succeeded", intent_obj(amount=12500), created=now))
    before = record()
    late = deliver(
        make_event(
            "payment_intent.payment_failed",
            intent_obj(amount=999, status="requires_payment_method", error="declined"),
            created=now - 5,
        )
    )
    assert late.processed_at is not None
    after = record()
    assert (after.status, after.amount, after.last_payment_error, after.last_event_at) == (
        "succeeded",
        before.amount,
        "",
        before.last_event_at,
    )
    # ...even when the failure claims to be newer: succeeded is final.
    deliver(make_event("payment_intent.payment_failed", intent_obj(), created=now + 60))
    assert record().status == "succeeded"
    assert PaymentIntentRecord.objects.count() == 1


def test_older_failure_does_not_override_a_newer_one():
    now = int(timezone.now().timestamp())
    deliver(make_event("payment_intent.payment_failed", intent_obj(error="newer"), created=now))
    deliver(make_event("payment_intent.payment_failed", intent_obj(error="older"), created=now - 9))
    assert record().last_payment_error == "newer"


def test_metadata_fills_in_basket_id_once_known():
    deliver(make_event("charge.refunded", charge_obj(refunds=[("re_1", 100)])))
    assert record().basket_id is None
    deliver(make_event("payment_intent.succeeded", intent_obj(basket_id=77)))
    assert record().basket_id == 77


def test_charge_refunded_twice_counts_the_refund_once():
    deliver(make_event("payment_intent.succeeded", intent_obj(amount=12500)))
    refunded = charge_obj(amount=12500, refunds=[("re_1", 2500)])
    deliver(make_event("charge.refunded", refunded))
    deliver(make_event("charge.refunded", refunded))  # same refund, another event id
    assert record().amount_refunded == Decimal("25.00")
    assert PaymentRefund.objects.count() == 1


def test_refunds_accumulate_and_older_events_do_not_undo_them():
    deliver(make_event("payment_intent.succeeded", intent_obj(amount=12500)))
    first = make_event("charge.refunded", charge_obj(refunds=[("re_1", 2500)]))
    second = make_event("charge.refunded", charge_obj(refunds=[("re_1", 2500), ("re_2", 1000)]))
    deliver(second)
    deliver(first)  # arrives late
    assert record().amount_refunded == Decimal("35.00")
    assert sorted(PaymentRefund.objects.values_list("refund_id", flat=True)) == ["re_1", "re_2"]
    assert record().status == "succeeded"


def test_charge_refunded_without_refund_list_uses_stripes_total():
    # Recent API versions send charge.refunded without the refunds list.
    charge = charge_obj(refunds=[("re_1", 4000)])
    del charge["refunds"]
    deliver(make_event("charge.refunded", charge))
    deliver(make_event("charge.refunded", charge))
    assert record().amount_refunded == Decimal("40.00")


def test_unknown_event_types_are_marked_processed_and_change_nothing():
    stored = deliver(make_event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert stored.processed_at is not None
    assert not PaymentIntentRecord.objects.exists()


def test_a_failing_handler_keeps_nothing_and_records_the_attempt(monkeypatch):
    from shop.payments import signals

    def boom(sender, **kwargs):
        raise RuntimeError("order placement failed")

    signals.payment_succeeded.connect(boom, weak=False, dispatch_uid="test-boom")
    stored, _ = services.stripe_event_store(
        event=make_event("payment_intent.succeeded", intent_obj())
    )
    with pytest.raises(RuntimeError):
        services.stripe_event_process(event=stored)
    stored.refresh_from_db()
    assert (stored.processed_at, stored.attempts) == (None, 1)
    assert "order placement failed" in stored.processing_error
    assert not PaymentIntentRecord.objects.exists()  # rolled back with the handler
    signals.payment_succeeded.disconnect(dispatch_uid="test-boom")
    services.stripe_event_process(event=stored)
    stored.refresh_from_db()
    assert stored.processed_at is not None and stored.attempts == 2
    assert stored.processing_error == ""


def test_sweeper_requeues_only_stale_unprocessed_events(monkeypatch):
    queued = []
    monkeypatch.setattr(process_stripe_event, "delay", lambda pk: queued.append(pk))
    old, _ = services.stripe_event_store(event=make_event("x.old", {}))
    fresh, _ = services.stripe_event_store(event=make_event("x.fresh", {}))
    done, _ = services.stripe_event_store(event=make_event("x.done", {}))
    StripeEvent.objects.filter(pk__in=[old.pk, done.pk]).update(
        received_at=timezone.now() - timedelta(hours=1)
    )
    services.stripe_event_process(event=done)
    assert stripe_events_sweep() == 1
    assert queued == [old.pk]


def test_a_payment_no_checkout_made_places_nothing():
    from oscar.core.loading import get_model

    deliver(make_event("payment_intent.succeeded", intent_obj()))
    assert not get_model("order", "Order").objects.exists()


def test_money_conversions():
    assert to_minor(Decimal("12.50"), "GBP") == 1250
    assert from_minor(1250, "gbp") == Decimal("12.50")
    assert from_minor("9900", "gbp") == Decimal("99.00")
    assert to_minor(Decimal("500"), "JPY") == 500
    with pytest.raises(ValueError):
        to_minor(Decimal("1.005"), "GBP")
    with pytest.raises(TypeError):
        to_minor(1.5, "GBP")


def test_fee_at_the_configured_rate(settings):
    settings.STRIPE_FEE_PERCENT = "1.5"
    settings.STRIPE_FEE_FIXED = "0.20"
    assert services.fee_at_rate(amount=Decimal("125.00"), currency="GBP") == Decimal("2.08")


# --- Against localstripe ---


def _paid_intent(amount_minor=10000):
    intent = stripe_api.payment_intent_create(
        amount_minor=amount_minor, currency="gbp", metadata={"basket_id": 5}, idempotency_key="k"
    )
    card = stripe_api.payment_method_create_card(
        number="4242424242424242", exp_month=1, exp_year=2035, cvc="123"
    )
    stripe_api.payment_intent_update(payment_intent_id=intent.id, payment_method=card.id)
    stripe_api.payment_intent_confirm(payment_intent_id=intent.id)
    return intent.id


def _succeeded_record(pi_id, amount_minor=10000):
    deliver(make_event("payment_intent.succeeded", intent_obj(pi_id, amount=amount_minor)))
    return record(pi_id)


def test_fee_from_stripe_balance_transaction(localstripe):
    rec = _succeeded_record(_paid_intent())
    rec = services.payment_fee_record(record=rec)
    assert (rec.fee, rec.fee_source) == (Decimal("0.00"), "stripe")  # localstripe's fee is 0


def test_fee_falls_back_to_the_rate_without_a_balance_transaction(localstripe, monkeypatch):
    rec = _succeeded_record("pi_nocharge")
    monkeypatch.setattr(stripe_api, "balance_fee_for", lambda **kw: None)
    rec = services.payment_fee_record(record=rec)
    assert (rec.fee, rec.fee_source) == (Decimal("1.70"), "rate")


def test_fee_when_stripe_is_unreachable_raises_for_a_retry(localstripe, settings):
    rec = _succeeded_record("pi_x")
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PaymentProviderUnavailable):
        services.payment_fee_record(record=rec)
    assert record("pi_x").fee is None


def test_refund_through_stripe_is_recorded_once(localstripe):
    rec = _succeeded_record(_paid_intent(10000))
    refund = services.payment_refund_create(
        record=rec, amount=Decimal("30.00"), idempotency_key="r1"
    )
    assert refund.refund_id.startswith("re_") and refund.amount == Decimal("30.00")
    assert record(rec.payment_intent_id).amount_refunded == Decimal("30.00")
    # Stripe's charge.refunded for the same refund later changes nothing.
    charge = charge_obj(rec.payment_intent_id, amount=10000, refunds=[(refund.refund_id, 3000)])
    deliver(make_event("charge.refunded", charge))
    assert record(rec.payment_intent_id).amount_refunded == Decimal("30.00")
    rest = services.payment_refund_create(record=rec, amount=None, idempotency_key="r2")
    assert rest.amount == Decimal("70.00")
    assert record(rec.payment_intent_id).amount_refunded == Decimal("100.00")
    with pytest.raises(PaymentError):
        services.payment_refund_create(record=rec, amount=Decimal("0.01"), idempotency_key="r3")


def test_refund_more_than_paid_is_refused_before_stripe(localstripe, monkeypatch):
    rec = _succeeded_record("pi_y", 1000)
    monkeypatch.setattr(stripe_api, "refund_create", lambda **kw: pytest.fail("called Stripe"))
    with pytest.raises(PaymentError):
        services.payment_refund_create(record=rec, amount=Decimal("10.01"), idempotency_key="r")
