import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery.result import _set_task_join_will_block
from django.conf import settings
from django.core.management import call_command
from oscar.core.loading import get_model

from config.celery_app import app as celery_app
from shop.payments import stripe_api
from shop.payments.localstripe import LocalStripe
from tests import snapshots
from tests.payments.helpers import WEBHOOK_SECRET

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _broker_queue_cleanup():
    """Tasks queued by tests without a worker stay in this run's Redis queue: drop it at the
    end (the queue name is unique to the run, see config/settings/test.py)."""
    yield
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


@pytest.fixture(scope="session", autouse=True)
def _static_root():
    """whitenoise warns each time a request handler is built while STATIC_ROOT is missing,
    as in a fresh clone that has not collected static files (the tests do not need them)."""
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (the test settings' cache is per process), so
    cached pages, category URLs and the like never leak from one test into the next."""
    from django.core.cache import cache

    from shop.catalogue.selectors import listing_version_seen
    from shop.storefront.page_cache import MENU_VERSION

    cache.clear()
    listing_version_seen(None)  # the process's memo of the listing version goes with it
    MENU_VERSION.forget()  # and its menus' catalogue version
    # Celery's "never wait for a result inside a task" guard is a process global: eager tasks
    # run at once by two live-server threads can leave it set for every later test.
    _set_task_join_will_block(False)
    yield


def _load_demo_catalogue() -> None:
    call_command("load_catalogue", str(ROOT / "fixtures" / "catalogue.json"), verbosity=0)


def _load_demo_personalization() -> None:
    call_command("load_personalization", verbosity=0)


@pytest.fixture(scope="session")
def loader_snapshots(django_db_setup, django_db_blocker) -> dict[str, snapshots.Snapshot]:
    """What load_catalogue and load_personalization write, captured once per test process
    (tests/snapshots.py says how, and when the real command runs instead)."""
    with django_db_blocker.unblock():
        return snapshots.capture(
            [("catalogue", _load_demo_catalogue), ("personalization", _load_demo_personalization)]
        )


@pytest.fixture
def demo_catalogue(db, loader_snapshots):
    """The demo catalogue from fixtures/catalogue.json, as `make run`'s load_catalogue makes it."""
    snapshots.restore(loader_snapshots["catalogue"], _load_demo_catalogue)


@pytest.fixture
def mail_dir(tmp_path) -> Path:
    path = tmp_path / "mail"
    path.mkdir()
    return path


def start_worker(*, mail_dir: Path, log_path: Path, broker_url: str | None = None):
    """Start a real Celery worker process on the test database (one prefork child). Emails
    it sends land as files in `mail_dir`; it consumes only this test run's queue."""
    db = settings.DATABASES["default"]
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "MV_TEST_QUEUE": queue,
        "CELERY_BROKER_URL": broker_url or settings.CELERY_BROKER_URL,
    }
    cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue]
    cmd += ["-c", "1", "-P", "prefork", "-l", "info", "--without-heartbeat", "--without-gossip"]
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while "ready." not in log_path.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("Celery worker did not start:\n" + log_path.read_text())
        time.sleep(0.1)
    proc.log_path = log_path
    return proc


EMAIL_END = "\n" + "-" * 79 + "\n"


def sent_emails(mail_dir: Path) -> list[str]:
    """The messages a worker has finished writing to `mail_dir` (Django's file backend ends
    each with a line of 79 dashes; a file still being written is not read half-way)."""
    messages = []
    for path in sorted(mail_dir.glob("*.log")):
        text = path.read_text()
        messages += [m for m in text.split(EMAIL_END)[:-1] if m.strip()]
    return messages


def stop_worker(proc) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def celery_worker(transactional_db, mail_dir):
    """A real Celery worker process on the machine's Redis, using the test database.

    Emails it sends land as files in `mail_dir`. The worker consumes only this test run's
    queue (CELERY_TASK_DEFAULT_QUEUE), which is deleted from Redis afterwards.
    """
    # Tasks that earlier tests published with no worker running wait in this run's queue:
    # drop them, or this worker would run them against this test's data.
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(settings.CELERY_TASK_DEFAULT_QUEUE)
    proc = start_worker(mail_dir=mail_dir, log_path=mail_dir.parent / "worker.log")
    yield proc
    stop_worker(proc)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(settings.CELERY_TASK_DEFAULT_QUEUE)


@pytest.fixture
def published_tasks(monkeypatch):
    """Record the tasks the outbox publishes, as (task name, args), instead of sending them."""
    published: list[tuple[str, list]] = []
    monkeypatch.setattr(
        "shop.common.outbox._publish",
        lambda message: published.append((message.task.rsplit(".", 1)[-1], list(message.args))),
    )
    return published


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    """Poll until predicate() is truthy; return its value or fail the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s")


@pytest.fixture
def demo_personalization(demo_catalogue, loader_snapshots):
    """The demo personalization offers (fixtures/personalization.json) on the demo catalogue."""
    snapshots.restore(loader_snapshots["personalization"], _load_demo_personalization)


# --- localstripe (tests/payments, tests/checkout, tests/browser) ---


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


def _celery_conf(**values):
    """Set Celery settings for the test, then put them back."""
    before = {name: celery_app.conf[name] for name in values}
    celery_app.conf.update(values)
    yield
    celery_app.conf.update(before)


@pytest.fixture
def eager_tasks():
    """Celery tasks run in the calling process (and thread) while the test runs."""
    yield from _celery_conf(task_always_eager=True)


@pytest.fixture
def errors_kept_in_results():
    """Tasks run in process as a worker runs them: errors end in the result, not raised."""
    yield from _celery_conf(task_eager_propagates=False)


@pytest.fixture
def paid_order(client, demo_catalogue, localstripe):
    """An order paid with 4242 through the real checkout pages."""
    from tests.factories import pay, to_payment_page

    pi_id = to_payment_page(client).context["payment_intent_id"]
    pay(pi_id)
    response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
    assert response["Location"] == "/checkout/thank-you/"
    return get_model("order", "Order").objects.get()


@pytest.fixture
def redis_cache(settings):
    """Points the default cache at a real Redis with django-redis, production's backend, under
    a key prefix of its own; call it (``location=`` another server). Its keys go afterwards."""
    import uuid

    def point(location: str = "redis://127.0.0.1:6379/0") -> None:
        settings.CACHES = {
            **settings.CACHES,
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": location,
                "KEY_PREFIX": f"test-redis-cache-{uuid.uuid4().hex}",
                "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
            },
        }

    yield point
    from django.core.cache import cache

    try:
        cache.delete_pattern("*")  # the prefix's keys only
    except Exception:  # a server nothing listens on
        pass
