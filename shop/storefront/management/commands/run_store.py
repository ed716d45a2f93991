"""`make run`: set up, then serve the store with a Celery worker and beat.

If no Redis answers at REDIS_URL, no worker is started and tasks run in-process
(CELERY_TASK_ALWAYS_EAGER), which the console says once.

Unless real Stripe is configured (a `sk_` STRIPE_SECRET_KEY and no STRIPE_API_BASE), a
localstripe is started on a free loopback port for the run: the web process, worker and beat
get its API base, test keys, its Stripe.js URL and a webhook secret made for this run, and
localstripe sends its signed webhooks to this server. It stops when the store stops.
"""

import os
import secrets
import signal
import subprocess
import sys

import redis
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


def real_stripe_configured() -> bool:
    return not settings.STRIPE_API_BASE and settings.STRIPE_SECRET_KEY.startswith("sk_")


def localstripe_for_run(host: str, port: int):
    """Start localstripe and point this process and its children (through os.environ) at it."""
    from shop.payments import stripe_api
    from shop.payments.localstripe import LocalStripe

    server = LocalStripe().start()
    values = {
        "STRIPE_API_BASE": server.base_url,
        "STRIPE_SECRET_KEY": "sk_test_localstripe",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_localstripe",
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(16),
        "STRIPE_JS_URL": server.js_url,
    }
    for name, value in values.items():
        os.environ[name] = value
        setattr(settings, name, value)
    stripe_api._client_for.cache_clear()
    webhook_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    webhook_url = f"http://{webhook_host}:{port}/payments/stripe/webhook/"
    try:
        server.configure_webhook(webhook_url, values["STRIPE_WEBHOOK_SECRET"])
    except Exception:
        server.stop()
        raise
    return server, webhook_url


def tasks_in_process() -> None:
    """No broker: run every task in this process, now (the demo keeps working)."""
    from config.celery_app import app

    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True


class Command(BaseCommand):
    help = "Set the store up and serve it with a worker and beat (the `make run` command)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))

    def handle(self, *args, port: int, host: str, **options):
        call_command("bootstrap_store", domain=f"{host}:{port}")
        children: list[subprocess.Popen] = []
        localstripe = None
        if real_stripe_configured():
            self.stdout.write("Stripe: real Stripe (STRIPE_SECRET_KEY is set, no STRIPE_API_BASE).")
        else:
            localstripe, webhook_url = localstripe_for_run(host, port)
            self.stdout.write(
                f"Stripe: localstripe at {localstripe.base_url} (test cards, e.g. 4242 4242 4242 "
                f"4242), webhooks to {webhook_url}."
            )

        def stop(*_):
            for child in children:
                child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
            if localstripe is not None:
                localstripe.stop()

        signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
        try:
            if redis_answers(settings.CELERY_BROKER_URL):
                celery = [sys.executable, "-m", "celery", "-A", "config"]
                children.append(subprocess.Popen([*celery, "worker", "-l", "warning", "-c", "2"]))
                children.append(subprocess.Popen([*celery, "beat", "-l", "warning"]))
                self.stdout.write(
                    f"Celery worker and beat started on {settings.CELERY_BROKER_URL}."
                )
            else:
                tasks_in_process()
                self.stdout.write(
                    self.style.WARNING(
                        f"No Redis answers at {settings.CELERY_BROKER_URL}: "
                        "background tasks will run in-process."
                    )
                )
            self.stdout.write(self.style.SUCCESS(f"Marlow & Vale is open at http://{host}:{port}/"))
            call_command("runserver", f"{host}:{port}", use_reloader=False)
        finally:
            # Also when starting the worker or beat failed: nothing we started outlives us.
            stop()
