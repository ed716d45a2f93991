"""Requests that answered 500 on the order screens (issue "No request gets a 500"): ids
that are not ids on the dispatch list and Oscar's order page, far dates on Oscar's order
list. Each ends in a message or a clean page."""

import pytest

from shop.order import pipeline as p
from shop.order.models import Order
from shop.order.services import order_mark_paid
from shop.personalization.rules import Choices
from tests.workshop.helpers import place_order, plain_product

pytestmark = pytest.mark.django_db

URL = "/dashboard/fulfilment/"


def _paid_plain() -> Order:
    return order_mark_paid(order=place_order(lines=[(plain_product(), Choices(), 1)]))


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.mark.parametrize("bad", ["²", "abc", "99999999999", "-1"])
def test_fulfilment_ship_with_an_id_that_is_not_one(boss, demo_catalogue, bad):
    order = _paid_plain()
    response = boss.post(URL, {"ship": bad, f"tracking-{order.pk}": "TRK1"}, follow=True)
    assert response.status_code == 200
    assert "That order no longer exists." in _messages(response)
    order.refresh_from_db()
    assert order.status == p.PAID


@pytest.mark.parametrize("bad", ["²", "abc", "99999999999"])
def test_fulfilment_selected_with_an_id_that_is_not_one(boss, demo_catalogue, bad):
    order = _paid_plain()
    response = boss.post(
        URL, {"to_status": p.IN_WORKSHOP, "selected": [order.pk, bad]}, follow=True
    )
    assert response.status_code == 200
    assert "The selection holds something that is not an order." in _messages(response)
    order.refresh_from_db()
    assert order.status == p.PAID


def test_fulfilment_list_with_a_superscript_page(boss, demo_catalogue):
    assert boss.get(URL, {"page": "²"}).status_code == 200


def test_fulfilment_ship_with_a_nul_in_the_tracking_number(boss, demo_catalogue):
    order = _paid_plain()
    Order.objects.filter(pk=order.pk).update(status=p.READY_TO_SHIP)
    response = boss.post(URL, {"ship": order.pk, f"tracking-{order.pk}": "TRK\x001"}, follow=True)
    assert response.status_code == 200
    order.refresh_from_db()
    assert "\x00" not in order.tracking_number


@pytest.mark.parametrize(
    "query",
    [
        {"date_to": "9999-12-31"},
        {"date_from": "9999-12-31"},
        {"date_from": "2020-01-01", "date_to": "9999-12-31"},
        {"date_from": "0001-01-01"},
    ],
)
def test_oscar_order_list_with_date_to_in_year_9999(boss, demo_catalogue, query):
    _paid_plain()
    assert boss.get("/dashboard/orders/", query).status_code == 200


@pytest.mark.parametrize("bad", ["²", "abc", "99999999999"])
def test_oscar_order_list_bulk_with_selected_ids_that_are_not_ids(boss, demo_catalogue, bad):
    _paid_plain()
    response = boss.post(
        "/dashboard/orders/", {"action": "download_order_csv", "selected_order": [bad]}
    )
    assert response.status_code in (200, 302)


@pytest.mark.parametrize("bad", ["²", "abc", "99999999999", ""])
def test_oscar_order_detail_delete_note_with_a_note_id_that_is_not_one(boss, demo_catalogue, bad):
    order = _paid_plain()
    note = order.notes.create(message="keep me", note_type="Info")
    response = boss.post(
        f"/dashboard/orders/{order.number}/",
        {"order_action": "delete_note", "note_id": bad},
        follow=True,
    )
    assert response.status_code == 200
    assert "Note cannot be deleted" in _messages(response)
    assert order.notes.filter(pk=note.pk).exists()
