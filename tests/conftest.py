import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo_catalogue(db):
    """The demo catalogue from fixtures/catalogue.json, loaded the way `make run` loads it."""
    call_command("load_catalogue", str(ROOT / "fixtures" / "catalogue.json"), verbosity=0)


@pytest.fixture
def mail_dir(tmp_path) -> Path:
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def celery_worker(transactional_db, mail_dir):
    """A real Celery worker process on the machine's Redis, using the test database.

    Emails it sends land as files in `mail_dir`. The worker consumes only this test run's
    queue (CELERY_TASK_DEFAULT_QUEUE), which is deleted from Redis afterwards.
    """
    db = settings.DATABASES["default"]
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
    }
    cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue]
    cmd += ["-c", "1", "-P", "prefork", "-l", "info", "--without-heartbeat", "--without-gossip"]
    log_path = mail_dir.parent / "worker.log"
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
    yield proc
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)


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
def demo_personalization(demo_catalogue):
    """The demo personalization offers (fixtures/personalization.json) on the demo catalogue."""
    call_command("load_personalization", verbosity=0)
