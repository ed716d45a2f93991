"""Cache writes made while a request is served go to the cache together at its end
(shop.common.cache_writes), in one pipeline on django-redis."""

import logging
import threading

import pytest
import redis
from django.core.cache import cache

from shop.common import cache_writes


def test_outside_a_batch_a_write_goes_at_once():
    cache_writes.set_many({"cw:a": 1}, timeout=60)
    assert cache.get("cw:a") == 1
    cache_writes.delete("cw:a")
    assert cache.get("cw:a") is None


def test_in_a_batch_writes_wait_for_its_end_and_keep_their_order():
    cache.set("cw:gone", "old")
    with cache_writes.batched():
        cache_writes.set_many({"cw:a": {"x": 1}, "cw:gone": "new"}, timeout=60)
        cache_writes.delete("cw:gone")  # made after the set: the key ends up deleted
        cache_writes.set_many({"cw:b": "later"}, timeout=60)
        assert cache_writes.pending_count() == 3
        assert cache.get("cw:a") is None and cache.get("cw:gone") == "old"
    assert cache_writes.pending_count() == 0
    assert cache.get("cw:a") == {"x": 1}
    assert cache.get("cw:gone") is None
    assert cache.get("cw:b") == "later"


def test_a_failing_request_still_sends_what_it_wrote():
    with pytest.raises(ZeroDivisionError), cache_writes.batched():
        cache_writes.set_many({"cw:kept": "yes"}, timeout=60)
        1 / 0  # noqa: B018
    assert cache.get("cw:kept") == "yes"


def test_a_batch_inside_a_batch_sends_its_own_at_its_end():
    with cache_writes.batched():
        cache_writes.set_many({"cw:outer": 1}, timeout=60)
        with cache_writes.batched():
            cache_writes.set_many({"cw:inner": 2}, timeout=60)
        assert cache.get("cw:inner") == 2 and cache.get("cw:outer") is None
    assert cache.get("cw:outer") == 1


def test_on_redis_a_batch_is_one_pipeline_without_multi(redis_cache, monkeypatch):
    redis_cache()
    executed = []
    real_execute = redis.client.Pipeline.execute

    this_thread = threading.get_ident()  # not the funnel events' buffer, which pushes too

    def counted(pipeline, *args, **kwargs):
        if threading.get_ident() == this_thread:
            executed.append((pipeline.transaction, len(pipeline.command_stack)))
        return real_execute(pipeline, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", counted)
    cache.set("cw:lock", 1)
    with cache_writes.batched():
        cache_writes.set_many({"cw:a": {"x": 1}, "cw:n": 7}, timeout=60)
        cache_writes.set_many({"cw:b": "b"}, timeout=None)
        cache_writes.delete("cw:lock")
    assert executed == [(False, 4)]
    assert cache.get_many(["cw:a", "cw:n", "cw:b", "cw:lock"]) == {
        "cw:a": {"x": 1},
        "cw:n": 7,
        "cw:b": "b",
    }
    assert 0 < cache.ttl("cw:a") <= 60
    assert cache.ttl("cw:b") is None  # no timeout: kept until evicted


def test_a_cache_that_does_not_answer_at_the_end_is_logged_not_raised(redis_cache, caplog):
    redis_cache(location="redis://127.0.0.1:1/0")  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="shop.common.cache_writes"):
        with cache_writes.batched():
            cache_writes.set_many({"cw:a": 1}, timeout=60)
            cache_writes.delete("cw:b")
    assert "2 not sent" in caplog.text
