"""`make run`: set up, then serve the store with a Celery worker and beat.

It supervises what it starts: the embedded PostgreSQL (when DATABASE_URL is not set: see
shop.storefront.embedded_db), localstripe, the worker, beat and the web server (Django's
runserver, as a child process). When any of them ends, or on Ctrl-C or SIGTERM, it stops all
of them, the database last, and nothing it started outlives it. A start-up it cannot make
(the port taken, the database folder in use or not writable) is one line and exit status 1.

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
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from shop.storefront.embedded_db import EmbeddedDatabaseError, EmbeddedPostgres


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

    # Its log beside the store's other local data (a temp file per run piled up otherwise).
    log_path = Path(settings.VAR_DIR) / "localstripe.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    server = LocalStripe(log_path=log_path).start()
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


def port_free(host: str, port: int) -> bool:
    """Whether the web server can listen there (as runserver does, with SO_REUSEADDR)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def stop_processes(children: list[subprocess.Popen], *, timeout: float = 15.0) -> None:
    """Ask each child to stop (SIGTERM: Celery's warm shutdown), then kill what is left."""
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=10)


def interrupt(*_) -> None:
    raise KeyboardInterrupt


def tasks_in_process() -> None:
    """No broker: run every task in this process, now (the demo keeps working)."""
    from config.celery_app import app

    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True


class Command(BaseCommand):
    help = "Set the store up and serve it with a worker and beat (the `make run` command)."
    requires_system_checks = []  # runserver checks; the database may not be up yet

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))

    def handle(self, *args, port: int, host: str, **options):
        if not port_free(host, port):
            raise CommandError(f"port {port} on {host} is in use: stop what serves it, or PORT=…")
        database = None
        children: list[subprocess.Popen] = []
        localstripe = None
        # SIGTERM (a supervisor, `kill`) stops everything as Ctrl-C does.
        signal.signal(signal.SIGTERM, interrupt)
        signal.signal(signal.SIGINT, interrupt)  # Ctrl-C, even if a shell started us ignoring it
        try:
            if settings.EMBEDDED_DATABASE:
                started = time.monotonic()
                try:
                    database = EmbeddedPostgres(var_dir=settings.VAR_DIR).start()
                except EmbeddedDatabaseError as exc:
                    raise CommandError(str(exc)) from None
                self.stdout.write(
                    f"Database: embedded PostgreSQL in {database.data} "
                    f"(ready in {time.monotonic() - started:.1f} s)."
                )
            call_command("bootstrap_store", domain=f"{host}:{port}")
            # The demo's sales history for the reports (once; never in production set-up).
            call_command("seed_demo_history")
            # The funnel's visitors and events for the same demo (once; after the orders).
            call_command("seed_growth_history")
            if real_stripe_configured():
                self.stdout.write("Stripe: real Stripe (a secret key, no STRIPE_API_BASE).")
            else:
                localstripe, webhook_url = localstripe_for_run(host, port)
                self.stdout.write(
                    f"Stripe: localstripe at {localstripe.base_url} (test cards, e.g. 4242 4242 "
                    f"4242 4242), webhooks to {webhook_url}."
                )
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
            manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
            web = subprocess.Popen([*manage, "runserver", f"{host}:{port}", "--noreload"])
            children.insert(0, web)
            self.stdout.write(self.style.SUCCESS(f"Marlow & Vale is open at http://{host}:{port}/"))
            self.stdout.flush()
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            ended = next(child for child in children if child.poll() is not None)
            raise CommandError(f"{' '.join(ended.args[1:4])} stopped (exit {ended.returncode})")
        except KeyboardInterrupt:
            self.stdout.write("Stopping the store…")
        finally:
            # Whatever happened: nothing we started outlives us; the database goes last.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            stop_processes(children)
            if localstripe is not None:
                localstripe.stop()
            if database is not None:
                database.stop()
