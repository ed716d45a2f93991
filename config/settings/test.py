"""Test settings: real PostgreSQL and Redis on this machine, simple search backend."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-key")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/marlowvale")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
# One broker queue per test process, so a demo worker on the same Redis never takes test
# tasks, nor one pytest-xdist worker another's (they inherit the controller's environment,
# hence no setdefault). A Celery worker the tests start is told its queue (MV_TEST_QUEUE).
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = (
    os.environ.get("MV_TEST_QUEUE") or f"marlowvale-test-{os.getpid()}"
)

# The funnel's Redis list, per test process too (a Celery worker a test starts is told it).
os.environ["GROWTH_EVENTS_KEY"] = (
    os.environ.get("MV_TEST_EVENTS_KEY") or f"mv:growth:events:test-{os.getpid()}"
)

from .base import *  # noqa: E402,F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "shop.common.storage.AtomicFileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Parallel local runs (several people, one machine) can each pick their own test database.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default="test_marlowvale")}  # noqa: F405
