"""Staff screens: the dispatch list (late first, bulk moves, shipping with a tracking
number), the order page's fulfilment panel and timeline, the failed-task screen; and the
customer's view of the same timeline."""

from datetime import timedelta

import pytest
from django.utils import timezone
from oscar.test.factories import UserFactory

from shop.common.models import OutboxMessage, TaskFailure
from shop.order import pipeline as p
from shop.order.models import Order
from shop.order.services import order_mark_paid, order_status_change
from shop.personalization.rules import Choices
from tests.workshop.helpers import place_order, place_personalized_order, plain_product

pytestmark = pytest.mark.django_db

URL = "/dashboard/fulfilment/"


def _paid_plain(**kwargs) -> Order:
    return order_mark_paid(order=place_order(lines=[(plain_product(), Choices(), 1)], **kwargs))


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_who_may_see_the_dispatch_list(client, db):
    assert client.get(URL)["Location"].startswith("/dashboard/login/")
    customer = UserFactory()
    client.force_login(customer)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"to_status": p.DELIVERED, "selected": ["1"]}).status_code == 403
    helper = UserFactory(is_staff=True)  # staff without the order permissions
    client.force_login(helper)
    assert client.get(URL).status_code == 403
    assert client.get("/dashboard/tasks/").status_code == 200  # staff may see tasks


def test_late_orders_come_first(boss, demo_personalization):
    on_time = _paid_plain()
    late = _paid_plain()
    Order.objects.filter(pk=late.pk).update(
        promised_dispatch_date=timezone.localdate() - timedelta(days=3)
    )
    page = boss.get(URL)
    html = page.content.decode()
    assert html.index(f'data-order="{late.number}"') < html.index(f'data-order="{on_time.number}"')
    assert "Late 3 days" in html and "1 order past its promised date" in html
    only_late = boss.get(URL, {"late": "on"}).content.decode()
    assert late.number in only_late and f'data-order="{on_time.number}"' not in only_late


def test_bulk_move_reports_each_refusal(boss, demo_personalization):
    plain = _paid_plain()
    personal = order_mark_paid(order=place_personalized_order())
    response = boss.post(
        URL,
        {"to_status": p.READY_TO_SHIP, "selected": [plain.pk, personal.pk], "bulk": "1"},
        follow=True,
    )
    msgs = _messages(response)
    assert f"1 order(s) moved to ready to ship: {plain.number}" in msgs
    assert any("goes to the workshop first" in m for m in msgs)
    plain.refresh_from_db(), personal.refresh_from_db()
    assert (plain.status, personal.status) == (p.READY_TO_SHIP, p.PAID)
    change = plain.status_changes.order_by("-pk").first()
    assert change.actor == boss.user and change.source == "staff"


def test_ship_from_the_list_needs_a_tracking_number(boss, demo_personalization):
    order = _paid_plain()
    order_status_change(order=order, to_status=p.READY_TO_SHIP, actor=boss.user)
    response = boss.post(URL, {"ship": order.pk, f"tracking-{order.pk}": ""}, follow=True)
    assert any("Enter the parcel's tracking number" in m for m in _messages(response))
    order.refresh_from_db()
    assert order.status == p.READY_TO_SHIP
    response = boss.post(
        URL, {"ship": order.pk, f"tracking-{order.pk}": "AB123456789GB"}, follow=True
    )
    assert f"Order {order.number} shipped; the customer has been emailed." in _messages(response)
    order.refresh_from_db()
    assert order.status == p.SHIPPED and order.tracking_number == "AB123456789GB"
    assert OutboxMessage.objects.filter(args=[order.pk, "ORDER_SHIPPED"]).exists()


@pytest.mark.parametrize(
    "data",
    [
        {"to_status": "Lost", "selected": ["1"]},
        {"to_status": p.DELIVERED, "selected": ["x", "<b>"]},
        {"to_status": p.DELIVERED},
        {"ship": "abc"},
        {"ship": "99999"},
        {"to_status": "\x00", "selected": ["1\x00"]},
    ],
)
def test_bad_posts_get_a_message_not_an_error(boss, db, data):
    response = boss.post(URL, data, follow=True)
    assert response.status_code == 200 and _messages(response)


@pytest.mark.parametrize("query", ["?status=nope", "?page=abc", "?page=999999", "?q=" + "x" * 5000])
def test_bad_filters_still_render(boss, db, query):
    assert boss.get(URL + query).status_code == 200


def test_a_nul_in_the_filter_is_a_bad_request(boss, db):
    # Refused for every URL by shop.common.request_guard, before the view.
    assert boss.get(URL + "?q=%00").status_code == 400


def test_order_page_moves_ships_cancels_and_shows_the_timeline(boss, demo_personalization):
    order = _paid_plain()
    order.notes.create(message="Customer asked for a plain box", note_type="Info")
    detail = f"/dashboard/orders/{order.number}/"
    html = boss.get(detail).content.decode()
    assert "data-fulfilment" in html and "Move to ready to ship" in html
    assert "Customer asked for a plain box" in html and "Pending payment → Paid" in html

    boss.post(f"{URL}orders/{order.number}/move/", {"to_status": p.READY_TO_SHIP})
    boss.post(f"{URL}orders/{order.number}/ship/", {"tracking_number": "1Z999AA10123456784"})
    order.refresh_from_db()
    assert order.status == p.SHIPPED
    response = boss.post(f"{URL}orders/{order.number}/cancel/", {"reason": "x"}, follow=True)
    assert any("cannot be moved to cancelled" in m for m in _messages(response))
    response = boss.post(f"{URL}orders/{order.number}/move/", {"to_status": "Paid"}, follow=True)
    assert "Choose a status to move the order to." in _messages(response)
    assert boss.post(f"{URL}orders/nope/move/", {"to_status": p.DELIVERED}).status_code == 404

    # Oscar's own status form goes through the same rules and records who moved it.
    boss.post(detail, {"order_action": "change_order_status", "new_status": p.DELIVERED})
    order.refresh_from_db()
    assert order.status == p.DELIVERED
    assert order.status_changes.order_by("-pk").first().actor == boss.user


def test_the_customer_sees_the_timeline_without_internal_notes(client, demo_personalization):
    customer = UserFactory(email="ada@example.com")
    order = _paid_plain(user=customer)
    order.notes.create(message="Difficult customer", note_type="Info")
    order_status_change(order=order, to_status=p.READY_TO_SHIP, note="Packed by Kit")
    order_status_change(order=order, to_status=p.SHIPPED, tracking_number="AB123456789GB")
    client.force_login(customer)
    html = client.get(f"/accounts/orders/{order.number}/").content.decode()
    assert "Payment received" in html and "Packed and ready to go" in html
    assert "AB123456789GB" in html and "data-order-timeline" in html
    assert "Difficult customer" not in html and "Packed by Kit" not in html
    other = UserFactory()
    client.force_login(other)
    assert client.get(f"/accounts/orders/{order.number}/").status_code == 404


def test_failed_tasks_can_be_sent_again_once(boss, db):
    failure = TaskFailure.objects.create(
        task_id="abc",
        task="shop.order.tasks.send_order_email",
        args=[1, "ORDER_PLACED"],
        subject="order:1",
        error="SMTPServerDisconnected: Connection unexpectedly closed",
    )
    html = boss.get("/dashboard/tasks/").content.decode()
    assert "SMTPServerDisconnected" in html and "Retry" in html
    boss.post(f"/dashboard/tasks/{failure.pk}/retry/")
    failure.refresh_from_db()
    assert failure.retried_at is not None and failure.retried_by == boss.user
    assert OutboxMessage.objects.filter(task=failure.task, args=failure.args).count() == 1
    response = boss.post(f"/dashboard/tasks/{failure.pk}/retry/", follow=True)
    assert "This task has already been sent again." in _messages(response)
    assert OutboxMessage.objects.count() == 1
    assert boss.post("/dashboard/tasks/999/retry/").status_code == 404
