import pytest

from config.celery_app import app as celery_app
from shop.payments import stripe_api
from shop.payments.localstripe import LocalStripe
from tests.payments.helpers import WEBHOOK_SECRET


@pytest.fixture(scope="session")
def localstripe_server():
    """One localstripe process for the test session, on a free loopback port."""
    server = LocalStripe().start()
    yield server
    server.stop()


@pytest.fixture
def localstripe(localstripe_server, settings):
    """localstripe with no objects, and settings (hence stripe_api) pointing at it."""
    localstripe_server.reset()
    settings.STRIPE_SECRET_KEY = "sk_test_localstripe"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_localstripe"
    settings.STRIPE_API_BASE = localstripe_server.base_url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    yield localstripe_server
    stripe_api._client_for.cache_clear()


@pytest.fixture
def webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return WEBHOOK_SECRET


@pytest.fixture
def eager_tasks():
    """Celery tasks run in the calling process (and thread) while the test runs."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before
