"""From the buffer to the tables: a process's buffer pushed to Redis in one batch, the drain
task storing visitors (first visit wins) and events, bots only as a number per day, every item
checked again (forged ones left out), and the real Celery worker doing it."""

import json
import time

import pytest
from django.conf import settings

from shop.growth import events
from shop.growth.buffer import BUFFER, FLUSH_EVENTS, events_flush, events_redis
from shop.growth.landing import Landing, landing_from
from shop.growth.models import BotDay, Event, Visitor
from shop.growth.services import events_drain
from shop.growth.tasks import drain_events
from tests.conftest import wait_for
from tests.growth.helpers import VISITOR_ID, drain

pytestmark = pytest.mark.django_db
OTHER = "ZyXwVuTsRqPoNmLkJiHgFe"


def _queued() -> list[dict]:
    return [json.loads(v) for v in events_redis().lrange(settings.GROWTH_EVENTS_KEY, 0, -1)]


def test_the_buffer_is_pushed_in_one_batch_and_the_task_stores_it():
    now = time.time()
    landing = landing_from(
        query={"utm_source": ["<b>news</b>\x00" + "x" * 5000]},
        path="/catalogue/",
        referer="https://social.example/post/1",
        own_host="shop.example",
        agent="Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)",
    )
    events.visit_record(visitor_id=VISITOR_ID, landing=landing, at=now - 5)
    events.event_record(
        visitor_id=VISITOR_ID, step="product_view", path="/catalogue/x_1/", at=now - 4
    )
    events.bot_request_count()
    events.bot_request_count()
    assert _queued() == []  # still in this process
    assert events_flush() == 3  # two events, one day of bots
    assert [item["k"] for item in _queued()] == ["e", "e", "b"]
    result = drain_events()
    assert result == {
        "events": 2,
        "visitors": 1,
        "bot_requests": 2,
        "rejected": 0,
        "forgotten": 0,
    }
    row = Visitor.objects.get()
    assert row.utm_source == ("<b>news</b>" + "x" * 5000)[:64]
    assert (row.referrer_host, row.landing_path, row.device) == (
        "social.example",
        "/catalogue/",
        "tablet",
    )
    assert list(Event.objects.order_by("at").values_list("step", flat=True)) == [
        "visit",
        "product_view",
    ]
    assert BotDay.objects.get().requests == 2
    assert _queued() == []


def test_the_first_visit_wins_even_when_its_event_arrives_late():
    now = time.time()
    # Another process pushed the product view first: a bare row.
    events.event_record(visitor_id=VISITOR_ID, step="product_view", at=now - 10)
    drain()
    assert Visitor.objects.get().landing_path == ""
    events.visit_record(
        visitor_id=VISITOR_ID, landing=Landing(utm_source="first", landing_path="/a/"), at=now - 11
    )
    drain()
    events.visit_record(
        visitor_id=VISITOR_ID, landing=Landing(utm_source="second", landing_path="/b/"), at=now
    )
    drain()
    row = Visitor.objects.get()
    assert (row.utm_source, row.landing_path) == ("first", "/a/")
    assert row.first_seen_at.timestamp() == pytest.approx(now - 11)
    assert row.last_seen_at.timestamp() == pytest.approx(now)
    assert Event.objects.count() == 3


def test_forged_items_are_left_out():
    good = {"k": "e", "v": VISITOR_ID, "s": "visit", "t": time.time()}
    forged = [
        "not json",
        json.dumps({**good, "v": "short"}),
        json.dumps({**good, "v": "<script>alert(1)</script>xx"}),
        json.dumps({**good, "s": "refund"}),
        json.dumps({**good, "t": "yesterday"}),
        json.dumps({**good, "t": 10**12}),  # far in the future
        json.dumps({"k": "b", "d": "2026-13-40", "n": 3}),
        json.dumps({"k": "b", "d": "2026-11-01", "n": -3}),
        json.dumps({"k": "x"}),
        json.dumps([1, 2]),
    ]
    with_bad_fields = {**good, "v": OTHER, "u": 987654, "p": "/x\x00y" + "p" * 500, "o": 12}
    events_redis().rpush(settings.GROWTH_EVENTS_KEY, json.dumps(good), *forged)
    events_redis().rpush(settings.GROWTH_EVENTS_KEY, json.dumps(with_bad_fields))
    result = events_drain()
    assert result.rejected == len(forged)
    assert result.events == 2
    odd = Event.objects.get(visitor_id=OTHER)
    assert odd.user_id is None  # no such account: not linked
    assert odd.path == ("/xy" + "p" * 500)[:200] and odd.order_number == ""


def test_the_drain_takes_the_list_in_chunks():
    for i in range(25):
        events.event_record(visitor_id=VISITOR_ID, step="product_view", at=time.time() - i)
    events_flush()
    result = events_drain(chunk=10)
    assert result.events == 25 and Event.objects.count() == 25


def test_a_full_buffer_wakes_the_flusher():
    for _ in range(FLUSH_EVENTS):
        events.event_record(visitor_id=VISITOR_ID, step="visit")
    wait_for(lambda: len(_queued()) == FLUSH_EVENTS, timeout=5, interval=0.05)
    assert BUFFER.pending() == 0


def test_redis_down_the_drain_stores_nothing_and_does_not_fail(settings, caplog):
    settings.GROWTH_EVENTS_REDIS_URL = "redis://127.0.0.1:1/0"
    assert events_drain().events == 0
    assert "not drained" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_real_worker_drains_the_events(growth_worker):
    events.visit_record(
        visitor_id=VISITOR_ID, landing=Landing(utm_source="worker", landing_path="/")
    )
    events.event_record(visitor_id=VISITOR_ID, step="add_to_basket", path="/basket/add/1/")
    events.bot_request_count()
    events_flush()
    drain_events.delay()
    wait_for(lambda: Event.objects.count() == 2 and BotDay.objects.exists())
    assert Visitor.objects.get().utm_source == "worker"
    assert BotDay.objects.get().requests == 1
