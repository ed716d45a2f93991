import pytest
from django.conf import settings

from shop.growth.buffer import BUFFER, events_redis


@pytest.fixture(autouse=True)
def _events_clean():
    """Each test starts with an empty buffer and an empty events list (this process's own key,
    config/settings/test.py), and leaves them so."""
    BUFFER.clear()
    events_redis().delete(settings.GROWTH_EVENTS_KEY)
    yield
    BUFFER.clear()
    events_redis().delete(settings.GROWTH_EVENTS_KEY)


@pytest.fixture
def _worker_events_key(monkeypatch):
    """The worker the next fixture starts drains this process's events list."""
    monkeypatch.setenv("MV_TEST_EVENTS_KEY", settings.GROWTH_EVENTS_KEY)


@pytest.fixture
def growth_worker(_worker_events_key, celery_worker):
    return celery_worker
