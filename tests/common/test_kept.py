"""shop.common.kept.Kept: values a process keeps once read, read through to the cache."""

from django.core.cache import cache

from shop.common.kept import Kept


def test_read_asks_the_cache_only_for_what_is_not_kept_and_clears_when_full(monkeypatch):
    cache.set_many({"a": 1, "b": 2, "c": 3})
    kept = Kept(entries=2)
    assert kept.read(["a", "b", "z"], cache) == {"a": 1, "b": 2}
    asked = []
    get_many = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys: asked.append(keys) or get_many(keys))
    assert kept.read(["a", "b"], cache) == {"a": 1, "b": 2} and asked == []
    assert kept.read(["c"], cache) == {"c": 3} and asked == [["c"]]  # full: cleared, then c
    assert kept.get_many(["a", "b", "c"]) == {"c": 3}
    kept.clear()
    assert kept.get_many(["c"]) == {}
