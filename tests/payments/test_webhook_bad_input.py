"""Signed but malformed webhook events that answered 500 (issue "No request gets a 500"):
each answers 400 with a logged warning, and nothing is stored."""

import json
import logging

import pytest

from shop.payments.models import StripeEvent
from tests.payments.helpers import intent_obj, make_event, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _secret(webhook_secret):
    return webhook_secret


def _refused(client, caplog, payload) -> None:
    with caplog.at_level(logging.WARNING, logger="shop.payments.webhooks"):
        response = post_event(client, payload)
    assert response.status_code == 400
    assert any("Stripe webhook refused" in r.getMessage() for r in caplog.records)
    assert not StripeEvent.objects.exists()


def test_created_1e20(client, caplog):
    event = make_event("payment_intent.succeeded", intent_obj())
    payload = json.dumps(event).replace(f'"created": {event["created"]}', '"created": 1e20')
    assert '"created": 1e20' in payload
    _refused(client, caplog, payload)


def test_created_a_huge_integer(client, caplog):
    _refused(client, caplog, make_event("payment_intent.succeeded", intent_obj(), created=10**20))


def test_json_nested_10000_levels(client, caplog):
    event = make_event("payment_intent.succeeded", intent_obj())
    payload = json.dumps(event)[:-1] + ', "deep": ' + "[" * 10_000 + "]" * 10_000 + "}"
    _refused(client, caplog, payload)


def test_json_nested_500_levels(client, caplog):
    event = make_event("payment_intent.succeeded", intent_obj())
    event["data"]["object"]["metadata"] = {"deep": json.loads("[" * 500 + "]" * 500)}
    _refused(client, caplog, event)


def test_an_event_id_of_5000_characters(client, caplog):
    event_id = "evt_" + "x" * 4996
    event = make_event("payment_intent.succeeded", intent_obj(), event_id=event_id)
    _refused(client, caplog, event)


def test_a_nul_in_the_event_id(client, caplog):
    _refused(
        client, caplog, make_event("payment_intent.succeeded", intent_obj(), event_id="evt_\x00a")
    )


def test_a_nul_in_the_payload(client, caplog):
    _refused(client, caplog, make_event("payment_intent.succeeded", intent_obj("pi_\x00x")))
