"""The staff page: each campaign's sends and skips, orders attributed within 7 days, recent
sends, "Opens are not tracked", Pause / Resume and the parameters, under permissions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from shop.lifecycle import selectors
from shop.lifecycle.models import Campaign, ConsentSource, Send
from shop.lifecycle.services import consent_set, lifecycle_sweep
from shop.order.models import Order
from tests.lifecycle.helpers import (
    campaign,
    customer,
    deliver_all,
    left_basket,
    order_delivered,
    staff_member,
)

pytestmark = pytest.mark.django_db
URL = "/dashboard/lifecycle/"
BASKET = Campaign.Kind.ABANDONED_BASKET


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager(db):
    return staff_member()


def test_the_page_shows_each_campaign_its_figures_and_says_opens_are_not_tracked(
    catalogue, manager
):
    jo, al = customer("jo@example.com"), customer("al@example.com")
    left_basket(jo)
    left_basket(al)
    lifecycle_sweep(kind=BASKET)
    consent_set(user=al, opted_in=False, source=ConsentSource.ACCOUNT)
    deliver_all()
    page = _client(manager).get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Opens are not tracked." in html
    for kind in Campaign.Kind.values:
        assert f'data-campaign="{kind}"' in html
    row = {r.campaign.kind: r for r in page.context["rows"]}[BASKET]
    assert (row.counts["sent"], row.counts["sent_recent"], row.counts["skipped"]) == (1, 1, 1)
    assert [(r["reason"], r["recent"], r["total"]) for r in row.skipped_by_reason] == [
        ("No consent", 1, 1)
    ]
    assert "jo@example.com" in html and "al@example.com" in html
    assert "Pause abandoned basket" in html
    assert "Save abandoned basket settings" in html


def test_orders_paid_within_7_days_of_an_email_are_attributed_to_the_last_email(catalogue):
    jo, al = customer("jo@example.com"), customer("al@example.com")
    left_basket(jo)
    left_basket(al)
    lifecycle_sweep(kind=BASKET)
    assert deliver_all() == ["sent", "sent"]
    sent_at = timezone.now() - timedelta(days=20)
    Send.objects.update(sent_at=sent_at)
    within = order_delivered(jo, days_ago=17)  # paid 3 days after the email (days_ago + 3)
    Order.objects.filter(pk=within.pk).update(
        paid_at=sent_at + timedelta(days=3), total_incl_tax=Decimal("114.00")
    )
    late = order_delivered(al, days_ago=1)
    Order.objects.filter(pk=late.pk).update(paid_at=sent_at + timedelta(days=8))
    before = order_delivered(al, days_ago=1)
    Order.objects.filter(pk=before.pk).update(paid_at=sent_at - timedelta(hours=1))
    basket = Campaign.objects.get(kind=BASKET)
    assert selectors.attributed_orders() == {basket.pk: {"orders": 1, "revenue": Decimal("114.00")}}
    assert selectors.attributed_orders(since=timezone.now() - timedelta(days=10)) == {}
    # A later email from another campaign takes the orders paid after it.
    review = campaign(Campaign.Kind.REVIEW_REQUEST)
    Send.objects.create(
        campaign=review,
        key="order:x",
        user=jo,
        status=Send.Status.SENT,
        sent_at=sent_at + timedelta(days=1),
    )
    assert selectors.attributed_orders() == {review.pk: {"orders": 1, "revenue": Decimal("114.00")}}


def test_without_the_permission_staff_get_403_and_anonymous_the_login(catalogue):
    nobody = staff_member(view=False, manage=False, email="nobody@marlowandvale.example")
    assert _client(nobody).get(URL).status_code == 403
    response = Client().get(URL)
    assert response.status_code == 302 and "/dashboard/login/" in response["Location"]
    customer_client = _client(customer("c@example.com"))
    assert customer_client.get(URL).status_code in (302, 403)


def test_viewers_see_the_page_but_cannot_pause_or_edit(catalogue):
    viewer = staff_member(manage=False, email="viewer@marlowandvale.example")
    client = _client(viewer)
    html = client.get(URL).content.decode()
    assert "Opens are not tracked." in html
    assert "Pause abandoned basket" not in html
    assert client.post(f"{URL}{BASKET}/pause/", {"action": "pause"}).status_code == 403
    assert client.post(f"{URL}{BASKET}/edit/", {f"{BASKET}-wait": "2"}).status_code == 403
    assert not Campaign.objects.get(kind=BASKET).paused


def test_pause_and_resume(manager):
    client = _client(manager)
    response = client.post(f"{URL}{BASKET}/pause/", {"action": "pause"})
    assert response.status_code == 302
    assert Campaign.objects.get(kind=BASKET).paused
    html = client.get(URL).content.decode()
    assert "Resume abandoned basket" in html
    client.post(f"{URL}{BASKET}/pause/", {"action": "resume"})
    row = Campaign.objects.get(kind=BASKET)
    assert not row.paused and row.updated_by == manager
    assert client.get(f"{URL}{BASKET}/pause/").status_code == 405
    assert client.post(f"{URL}{BASKET}/pause/", {"action": "x" * 5000}).status_code == 302
    assert client.post(f"{URL}nonsense/pause/", {"action": "pause"}).status_code == 404


def test_edit_the_parameters(manager):
    client = _client(manager)
    response = client.post(f"{URL}{BASKET}/edit/", {f"{BASKET}-wait": "2"})
    assert response.status_code == 302
    assert Campaign.objects.get(kind=BASKET).wait == 2
    win_back = Campaign.Kind.WIN_BACK
    response = client.post(
        f"{URL}{win_back}/edit/",
        {f"{win_back}-wait": "90", f"{win_back}-segments": ["Lost", "At risk"]},
    )
    assert response.status_code == 302
    row = Campaign.objects.get(kind=win_back)
    assert (row.wait, row.segments) == (90, ["At risk", "Lost"])


@pytest.mark.parametrize(
    "data",
    [
        {"wait": "0"},
        {"wait": "-3"},
        {"wait": "1.5"},
        {"wait": "9" * 5000},
        {"wait": "12\x00"},
        {"wait": "٣"},
        {"wait": "99999"},
        {"wait": "30", "segments": ["<b>VIP</b>"]},
        {"wait": "30", "segments": []},
        {"wait": "30", "segments": ["Lost\u202e"]},
    ],
)
def test_bad_parameters_are_refused_with_a_message(manager, data):
    win_back = Campaign.Kind.WIN_BACK
    before = Campaign.objects.get(kind=win_back)
    payload = {f"{win_back}-{name}": value for name, value in data.items()}
    if "segments" not in data:
        payload[f"{win_back}-segments"] = ["Lost"]
    response = _client(manager).post(f"{URL}{win_back}/edit/", payload)
    assert response.status_code == 200
    assert "settings not saved" in response.content.decode()
    assert "<b>VIP</b>" not in response.content.decode()
    after = Campaign.objects.get(kind=win_back)
    assert (after.wait, after.segments) == (before.wait, before.segments)


def test_the_growth_menu_lists_the_page(manager):
    html = _client(manager).get("/dashboard/").content.decode()
    assert "Lifecycle emails" in html
    assert 'href="/dashboard/lifecycle/"' in html


def test_pause_works_when_the_campaign_rows_are_gone(manager):
    """A database flushed since the migration made the campaigns (a live-server test before
    this one): the staff action makes them again instead of a 404."""
    Campaign.objects.all().delete()
    client = _client(manager)
    response = client.post(f"{URL}{BASKET}/pause/", {"action": "pause"})
    assert response.status_code == 302
    assert Campaign.objects.get(kind=BASKET).paused
    assert client.post(f"{URL}no-such-kind/pause/", {"action": "pause"}).status_code == 404
