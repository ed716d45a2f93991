"""The campaigns' rules: who is found, once per subject, and what the send checks again at
send time (consent, pause, relevance)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from shop.basket.models import Basket
from shop.lifecycle.models import Campaign, ConsentSource, Send
from shop.lifecycle.services import consent_set, lifecycle_send_deliver, lifecycle_sweep
from shop.order import pipeline
from shop.order.models import Order
from shop.takeback.models import TakeBack
from tests.lifecycle.helpers import (
    campaign,
    customer,
    deliver_all,
    left_basket,
    order_delivered,
    sends,
    touch,
)
from tests.takeback.helpers import register_line

pytestmark = pytest.mark.django_db
BASKET = Campaign.Kind.ABANDONED_BASKET
WIN_BACK = Campaign.Kind.WIN_BACK
TAKEBACK = Campaign.Kind.TAKEBACK_REMINDER
REVIEW = Campaign.Kind.REVIEW_REQUEST


# --- Abandoned basket ---


def test_an_abandoned_basket_is_emailed_once_and_a_second_sweep_queues_nothing(
    jo, published_tasks, django_capture_on_commit_callbacks
):
    basket = left_basket(jo, hours_ago=30)
    with django_capture_on_commit_callbacks(execute=True):
        assert lifecycle_sweep(kind=BASKET) == {BASKET: 1}
    (send,) = sends(BASKET)
    assert (send.key, send.basket_id, send.user_id, send.status) == (
        f"basket:{basket.pk}",
        basket.pk,
        jo.pk,
        Send.Status.QUEUED,
    )
    # One send task per new row went through the outbox after the commit.
    assert published_tasks == [("send_lifecycle_email", [send.pk])]
    assert lifecycle_sweep(kind=BASKET) == {BASKET: 0}
    assert deliver_all() == ["sent"]
    assert len(mail.outbox) == 1
    assert "Evergreen bifold wallet" in mail.outbox[0].body
    # Delivered again (a redelivered task): nothing more is sent.
    assert lifecycle_send_deliver(send_id=send.pk) == "sent"
    assert len(mail.outbox) == 1


def test_a_basket_touched_again_later_is_not_emailed_again(jo):
    basket = left_basket(jo, hours_ago=30)
    lifecycle_sweep(kind=BASKET)
    deliver_all()
    # The customer comes back, changes the basket, and leaves it again for days.
    touch(basket, hours_ago=50)
    assert lifecycle_sweep(kind=BASKET) == {BASKET: 0}
    assert len(sends(BASKET)) == 1
    assert len(mail.outbox) == 1


def test_only_baskets_untouched_for_the_wait_of_customers_who_consented(catalogue):
    campaign(BASKET, wait=24)
    fresh = left_basket(customer("fresh@example.com"), hours_ago=2)
    left = left_basket(customer("left@example.com"), hours_ago=25)
    left_basket(customer("never@example.com", consent=False), hours_ago=25)
    withdrawn = customer("withdrawn@example.com")
    consent_set(user=withdrawn, opted_in=False, source=ConsentSource.ACCOUNT)
    left_basket(withdrawn, hours_ago=25)
    empty = Basket.objects.create(owner=customer("empty@example.com"))
    submitted = left_basket(customer("ordered@example.com"), hours_ago=25)
    Basket.objects.filter(pk=submitted.pk).update(status=Basket.SUBMITTED)
    lifecycle_sweep(kind=BASKET)
    assert [s.basket_id for s in sends(BASKET)] == [left.pk]
    assert fresh.pk and empty.pk


def test_the_wait_setting_makes_a_basket_abandoned_after_seconds(jo, settings):
    campaign(BASKET, wait=24)
    left_basket(jo, hours_ago=0.01)  # 36 seconds
    assert lifecycle_sweep(kind=BASKET) == {BASKET: 0}
    settings.LIFECYCLE_ABANDONED_AFTER_SECONDS = 5
    assert lifecycle_sweep(kind=BASKET) == {BASKET: 1}


def test_consent_withdrawn_after_queueing_skips_the_email(jo):
    left_basket(jo)
    lifecycle_sweep(kind=BASKET)
    consent_set(user=jo, opted_in=False, source=ConsentSource.ACCOUNT)
    assert deliver_all() == ["skipped"]
    (send,) = sends(BASKET)
    assert (send.status, send.reason) == (Send.Status.SKIPPED, Send.Reason.NO_CONSENT)
    assert send.skipped_at is not None and send.sent_at is None
    assert mail.outbox == []
    # Opting in again does not bring a skipped email back.
    consent_set(user=jo, opted_in=True, source=ConsentSource.ACCOUNT)
    assert lifecycle_send_deliver(send_id=send.pk) == "skipped"
    assert lifecycle_sweep(kind=BASKET) == {BASKET: 0}
    assert mail.outbox == []


def test_a_paused_campaign_queues_nothing_and_skips_what_was_queued(jo):
    left_basket(jo)
    lifecycle_sweep(kind=BASKET)
    campaign(BASKET, paused=True)
    assert deliver_all() == ["skipped"]
    assert sends(BASKET)[0].reason == Send.Reason.PAUSED
    left_basket(customer("other@example.com"))
    assert lifecycle_sweep() == {WIN_BACK: 0, TAKEBACK: 0, REVIEW: 0}
    assert len(sends(BASKET)) == 1
    assert mail.outbox == []


def test_a_basket_ordered_or_emptied_after_queueing_has_nothing_to_say(catalogue):
    ordered = left_basket(customer("a@example.com"))
    emptied = left_basket(customer("b@example.com"))
    lifecycle_sweep(kind=BASKET)
    Basket.objects.filter(pk=ordered.pk).update(status=Basket.SUBMITTED)
    emptied.lines.all().delete()
    assert deliver_all() == ["skipped", "skipped"]
    assert {(s.reason, s.detail) for s in sends(BASKET)} == {
        (Send.Reason.NOT_RELEVANT, "The basket was ordered or closed."),
        (Send.Reason.NOT_RELEVANT, "The basket is empty."),
    }
    assert mail.outbox == []


# --- Win-back ---


def test_win_back_writes_to_customers_in_its_segments_once_per_last_order(catalogue):
    from shop.reports.selectors import customer_segments
    from shop.reports.services import report_facts_refresh

    loyal, lapsed, recent = (
        customer("loyal@example.com"),
        customer("lapsed@example.com"),
        customer("recent@example.com"),
    )
    for days in (200, 220, 240, 260, 280, 300):
        order_delivered(loyal, days_ago=days)
    order_delivered(lapsed, days_ago=400)
    order_delivered(recent, days_ago=10)
    report_facts_refresh()
    segments = customer_segments(user_ids=[loyal.pk, lapsed.pk])
    assert segments[loyal.pk] != segments[lapsed.pk]
    campaign(WIN_BACK, wait=120, segments=[segments[lapsed.pk]])
    assert lifecycle_sweep(kind=WIN_BACK) == {WIN_BACK: 1}
    (send,) = sends(WIN_BACK)
    last = Order.objects.filter(user=lapsed).get()
    assert (send.user_id, send.order_id, send.key) == (
        lapsed.pk,
        last.pk,
        f"user:{lapsed.pk}:order:{last.pk}",
    )
    # Both segments: the loyal customer too, the lapsed one not again.
    campaign(WIN_BACK, segments=[segments[lapsed.pk], segments[loyal.pk]])
    assert lifecycle_sweep(kind=WIN_BACK) == {WIN_BACK: 1}
    assert [s.user_id for s in sends(WIN_BACK)] == [lapsed.pk, loyal.pk]
    assert deliver_all() == ["sent", "sent"]
    assert "since your last order" in mail.outbox[0].body


def test_a_win_back_queued_before_a_new_order_is_skipped(jo, monkeypatch):
    order_delivered(jo, days_ago=200)
    monkeypatch.setattr(
        "shop.reports.selectors.customer_segments", lambda user_ids, on: {jo.pk: "Lost"}
    )
    campaign(WIN_BACK, segments=["Lost"])
    assert lifecycle_sweep(kind=WIN_BACK) == {WIN_BACK: 1}
    order_delivered(jo, days_ago=1)
    assert deliver_all() == ["skipped"]
    assert sends(WIN_BACK)[0].detail == "The customer has ordered since."


# --- Take-back reminder ---


def test_takeback_reminder_once_per_line_delivered_long_ago_not_taken_back(catalogue):
    jo, al = customer("jo@example.com"), customer("al@example.com")
    old = order_delivered(jo, days_ago=800)
    order_delivered(jo, days_ago=100)  # too recent
    taken = order_delivered(al, days_ago=800)
    register_line(al, taken)
    campaign(TAKEBACK, wait=730)
    assert lifecycle_sweep(kind=TAKEBACK) == {TAKEBACK: 1}
    (send,) = sends(TAKEBACK)
    assert (send.line_id, send.order_id, send.key) == (
        old.lines.get().pk,
        old.pk,
        f"line:{old.lines.get().pk}",
    )
    assert lifecycle_sweep(kind=TAKEBACK) == {TAKEBACK: 0}
    assert deliver_all() == ["sent"]
    message = mail.outbox[0]
    assert "it may be time to send it home" in message.subject
    assert "/accounts/take-back/new/" in message.body


def test_a_line_taken_back_after_queueing_is_skipped(jo):
    order = order_delivered(jo, days_ago=800)
    lifecycle_sweep(kind=TAKEBACK)
    register_line(jo, order)
    assert deliver_all() == ["skipped"]
    assert sends(TAKEBACK)[0].reason == Send.Reason.NOT_RELEVANT
    # An expired take-back (never posted) frees the unit, but the line had its reminder.
    TakeBack.objects.update(status=TakeBack.Status.EXPIRED)
    assert lifecycle_sweep(kind=TAKEBACK) == {TAKEBACK: 0}


# --- Review request ---


def test_review_request_once_per_order_after_delivery(catalogue):
    jo = customer("jo@example.com")
    delivered = order_delivered(jo, days_ago=8)
    order_delivered(jo, days_ago=3)  # not yet
    order_delivered(jo, days_ago=8, status=pipeline.SHIPPED)  # not delivered
    campaign(REVIEW, wait=7)
    assert lifecycle_sweep(kind=REVIEW) == {REVIEW: 1}
    assert [s.order_id for s in sends(REVIEW)] == [delivered.pk]
    assert lifecycle_sweep(kind=REVIEW) == {REVIEW: 0}
    assert deliver_all() == ["sent"]
    product = delivered.lines.get().product.parent
    assert f"/catalogue/{product.slug}_{product.pk}/reviews/add/" in mail.outbox[0].body
    assert delivered.number in mail.outbox[0].subject


def test_a_review_request_for_an_order_refunded_since_is_skipped(jo):
    order = order_delivered(jo, days_ago=8)
    lifecycle_sweep(kind=REVIEW)
    Order.objects.filter(pk=order.pk).update(status=pipeline.REFUNDED)
    assert deliver_all() == ["skipped"]
    assert mail.outbox == []


def test_a_sweep_after_each_wait_finds_each_subject_once_across_campaigns(jo):
    left_basket(jo)
    order_delivered(jo, days_ago=800)
    order_delivered(jo, days_ago=8)
    now = timezone.now()
    first = lifecycle_sweep(now=now)
    second = lifecycle_sweep(now=now + timedelta(minutes=5))
    assert first == {BASKET: 1, WIN_BACK: 0, TAKEBACK: 1, REVIEW: 1}
    assert set(second.values()) == {0}
    assert Send.objects.count() == 3


def test_an_unknown_campaign_kind_is_refused(db):
    with pytest.raises(ValueError):
        lifecycle_sweep(kind="spam")


def test_the_sweep_and_the_staff_page_cost_the_same_queries_for_more_rows(catalogue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shop.lifecycle.selectors import campaign_overview

    def queries(fn) -> int:
        with CaptureQueriesContext(connection) as ctx:
            fn()
        return len(ctx.captured_queries)

    for i in range(3):
        left_basket(customer(f"a{i}@example.com"))
    few = queries(lambda: lifecycle_sweep(kind=BASKET))
    page_few = queries(campaign_overview)
    for i in range(9):
        left_basket(customer(f"b{i}@example.com"))
    many = queries(lambda: lifecycle_sweep(kind=BASKET))
    assert len(sends(BASKET)) == 12
    assert many == few
    assert queries(campaign_overview) == page_few
