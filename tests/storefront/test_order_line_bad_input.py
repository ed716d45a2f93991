"""The customer's order-line URL: Oscar had no page for it (a 500 on GET, on an unknown
action and on a line of another order); found by tests/security/test_sweep.py."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.takeback.helpers import customer, delivered_order, small_catalogue

pytestmark = pytest.mark.django_db


def test_order_line_get_bad_action_and_foreign_line_are_not_500s():
    small_catalogue()
    jo = customer()
    order, other = delivered_order(user=jo), delivered_order(user=jo)
    client = Client(raise_request_exception=False)
    client.force_login(jo)
    line_url = f"/accounts/orders/{order.number}/{order.lines.first().pk}/"
    assert client.get(line_url)["Location"] == f"/accounts/orders/{order.number}/"
    assert client.post(line_url, {"action": "a\x00b"}).status_code == 302
    assert client.post(line_url, {"action": "reorder"}).status_code == 302
    foreign = f"/accounts/orders/{order.number}/{other.lines.first().pk}/"
    assert client.get(foreign).status_code == 404
