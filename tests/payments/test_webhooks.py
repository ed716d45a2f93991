"""The webhook endpoint: signature checked, events stored once by id, processing enqueued."""

import json

import pytest

from shop.payments.models import PaymentIntentRecord, StripeEvent
from tests.payments.helpers import (
    WEBHOOK_PATH,
    intent_obj,
    make_event,
    post_event,
    sign,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fee_queue(webhook_secret, eager_tasks, monkeypatch):
    """Fee tasks are recorded, not run (they would ask Stripe; see test_services)."""
    from shop.payments import tasks

    queued = []
    monkeypatch.setattr(tasks.record_payment_fee, "delay", queued.append)
    return queued


def test_signed_event_is_stored_and_processed(
    client, django_capture_on_commit_callbacks, fee_queue
):
    event = make_event("payment_intent.succeeded", intent_obj("pi_A", basket_id=42))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_event(client, event)
    assert response.status_code == 200
    assert len(callbacks) == 2  # processing, then (from the processing) the fee
    stored = StripeEvent.objects.get()
    assert (stored.stripe_id, stored.type, stored.attempts) == (
        event["id"],
        "payment_intent.succeeded",
        1,
    )
    assert stored.payload == event and stored.processed_at is not None
    record = PaymentIntentRecord.objects.get(payment_intent_id="pi_A")
    assert (record.status, record.basket_id, str(record.amount), record.currency) == (
        "succeeded",
        42,
        "125.00",
        "GBP",
    )
    assert fee_queue == [record.pk]


def test_nothing_is_enqueued_before_commit(client, django_capture_on_commit_callbacks):
    event = make_event("payment_intent.succeeded", intent_obj("pi_A"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post_event(client, event)
    assert len(callbacks) == 1
    assert StripeEvent.objects.get().processed_at is None  # waits for the commit


@pytest.mark.parametrize(
    "header",
    ["", "t=1,v1=deadbeef", sign("{}", secret="whsec_forged")],
    ids=["missing", "garbage", "forged"],
)
def test_bad_or_missing_signature_is_refused_and_nothing_stored(client, header):
    event = make_event("payment_intent.succeeded", intent_obj("pi_A"))
    response = post_event(client, event, header=header)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert len(response.content) < 100
    assert not StripeEvent.objects.exists()
    assert not PaymentIntentRecord.objects.exists()


def test_event_signed_with_another_secret_is_refused(client):
    response = post_event(client, make_event("charge.refunded", {}), secret="whsec_other")
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_tampered_payload_is_refused(client):
    event = make_event("payment_intent.succeeded", intent_obj("pi_A", amount=12500))
    header = sign(json.dumps(event))
    event["data"]["object"]["amount"] = 1
    response = post_event(client, event, header=header)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_signed_garbage_is_refused(client):
    response = post_event(client, "this is not json")
    assert response.status_code == 400
    assert response.content == b"Body is not JSON."
    assert not StripeEvent.objects.exists()


def test_unconfigured_secret_refuses_everything(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = post_event(client, make_event("payment_intent.succeeded", intent_obj()))
    assert response.status_code == 503
    assert not StripeEvent.objects.exists()


def test_get_is_not_allowed(client):
    assert client.get(WEBHOOK_PATH).status_code == 405


def test_webhook_needs_no_csrf_token(webhook_secret):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = post_event(strict, make_event("payment_intent.created", intent_obj()))
    assert response.status_code == 200


def test_same_event_twenty_times_is_one_row_processed_once(
    client, django_capture_on_commit_callbacks, monkeypatch
):
    from shop.payments import signals

    hook_calls = []

    def heard(sender, **kwargs):
        hook_calls.append(kwargs)

    signals.payment_succeeded.connect(heard, dispatch_uid="test-heard")
    event = make_event("payment_intent.succeeded", intent_obj("pi_A"))
    payload = json.dumps(event)
    with django_capture_on_commit_callbacks(execute=True):
        responses = [post_event(client, payload) for _ in range(20)]
    assert {r.status_code for r in responses} == {200}
    stored = StripeEvent.objects.get()
    assert stored.attempts == 1 and stored.processed_at is not None
    signals.payment_succeeded.disconnect(dispatch_uid="test-heard")
    assert len(hook_calls) == 1
    assert PaymentIntentRecord.objects.count() == 1


def test_replay_after_processing_enqueues_nothing(client, django_capture_on_commit_callbacks):
    event = make_event("payment_intent.succeeded", intent_obj("pi_A"))
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, event)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert post_event(client, event).status_code == 200
    assert callbacks == []
    assert StripeEvent.objects.get().attempts == 1


def test_broker_down_still_answers_200_and_keeps_the_event(
    client, django_capture_on_commit_callbacks, monkeypatch
):
    from shop.payments import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(tasks.process_stripe_event, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, make_event("payment_intent.succeeded", intent_obj()))
    assert response.status_code == 200
    assert StripeEvent.objects.get().processed_at is None  # left for the sweeper
