"""Referral credit in the business reports: each credit is a cost of the account it went to
(the friend's welcome credit the friend's, the thank-you credit the referrer's), less what a
withdrawal took back; and the funnel's referral figures (summary and per day)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shop.credit.services import credit_spend
from shop.order import pipeline
from shop.order.services import order_status_change
from shop.referrals.selectors import referral_summary, referrals_by_day
from shop.referrals.services import referral_reward
from shop.reports import selectors as reports
from shop.reports.services import report_facts_refresh
from tests.referrals.conftest import customer, place_paid

pytestmark = pytest.mark.django_db
D = Decimal


def _rows(**dates) -> dict[str, dict]:
    report_facts_refresh()
    page = reports.customer_profitability(**dates, per_page=100)
    return {row["customer_key"]: row for row in page.rows}


def test_each_referral_credit_is_a_cost_of_its_own_account(friend, referrer):
    today = timezone.localdate()
    dates = {"start": today, "end": today}
    place_paid(referrer, line1="1 Maker Lane", postcode="WS1 1AA", card="fp_maker")
    order = place_paid(friend, card="fp_friend")
    before = _rows(**dates)
    f, r = f"u:{friend.pk}", f"u:{referrer.pk}"
    assert before[f]["credits_issued"] is None and before[r]["credits_issued"] is None
    referral_reward(order=order)
    after = _rows(**dates)
    for key in (f, r):
        assert after[key]["credits_issued"] == D("10.00")
        assert after[key]["margin"] == before[key]["margin"] - D("10.00")
    # The referrer spends 6.00 of it; the friend's order is cancelled: the friend's credit is
    # all withdrawn (no cost left), the referrer's only the 4.00 still on the balance.
    credit_spend(user=referrer, amount=D("6.00"), order_number="MV-ELSEWHERE")
    order_status_change(order=order, to_status=pipeline.CANCELLED)
    ended = _rows(**dates)
    # (The friend's only order is cancelled: no longer a customer row; no cost either way.)
    assert f not in ended or ended[f]["credits_issued"] in (None, D("0.00"))
    assert ended[r]["credits_issued"] == D("6.00")
    assert reports.takeback_credits_by_customer(**dates)[f]["issued"] == D("0.00")
    assert reports.takeback_credits_by_customer(**dates)[r]["issued"] == D("6.00")


def test_funnel_figures_by_day_and_in_sum(friend, referrer):
    today = timezone.localdate()
    refused_friend = customer("second@example.org")
    from shop.referrals.services import referral_join

    referral_join(friend=refused_friend, code=referrer.referral_code.code)
    place_paid(referrer, line1="1 Maker Lane", postcode="WS1 1AA", card="fp_maker")
    referral_reward(order=place_paid(refused_friend, card="fp_maker"))  # the referrer's card
    order = place_paid(friend, card="fp_friend")
    referral_reward(order=order)
    credit_spend(user=friend, amount=D("2.50"), order_number="MV-ELSEWHERE")
    order_status_change(order=order, to_status=pipeline.REFUNDED)

    summary = referral_summary(start=today - timedelta(days=6), end=today)
    assert {k: summary[k] for k in ("joined", "rewarded", "refused", "withdrawn")} == {
        "joined": 2,
        "rewarded": 1,
        "refused": 1,
        "withdrawn": 1,
    }
    assert summary["refused_reasons"] == [
        {"reason": "same_card", "label": "Paid with a card the referrer has paid with", "count": 1}
    ]
    assert (summary["credit_issued"], summary["credit_withdrawn"]) == (D("20.00"), D("17.50"))
    assert summary["credit_net"] == D("2.50")

    days = referrals_by_day(start=today - timedelta(days=6), end=today)
    assert [d["day"] for d in days] == [today - timedelta(days=n) for n in range(6, -1, -1)]
    assert days[-1] == {
        "day": today,
        "joined": 2,
        "rewarded": 1,
        "refused": 1,
        "withdrawn": 1,
        "credit_issued": D("20.00"),
        "credit_withdrawn": D("17.50"),
    }
    assert all(d["joined"] == 0 and d["credit_issued"] == 0 for d in days[:-1])
    # A range before any of it, and a reversed one.
    empty = referral_summary(start=today - timedelta(days=30), end=today - timedelta(days=7))
    assert (empty["joined"], empty["credit_issued"], empty["refused_reasons"]) == (0, 0, [])
    assert referrals_by_day(start=today, end=today - timedelta(days=1)) == []


def test_the_funnel_report_shows_the_referral_figures(client, friend, referrer):
    from django.contrib.auth.models import Permission

    referral_reward(order=place_paid(friend, card="fp_friend"))
    staff = customer("analyst@example.com")
    staff.is_staff = True
    staff.save()
    staff.user_permissions.add(Permission.objects.get(codename="view_funnel"))
    client.force_login(staff)
    html = client.get("/dashboard/growth/funnel/").content.decode()
    table = html[html.index("data-referrals") :]
    assert 'Friends who joined</th><td class="text-right">1<' in table
    assert 'First orders rewarded</th><td class="text-right">1<' in table
    assert 'Referral credit issued</th><td class="text-right">£20.00<' in table
