"""`make run`: set up, then serve the store with a Celery worker and beat.

If no Redis answers at REDIS_URL, no worker is started and tasks run in-process
(CELERY_TASK_ALWAYS_EAGER), which the console says once.
"""

import os
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
        if redis_answers(settings.CELERY_BROKER_URL):
            celery = [sys.executable, "-m", "celery", "-A", "config"]
            children.append(subprocess.Popen([*celery, "worker", "-l", "warning", "-c", "2"]))
            children.append(subprocess.Popen([*celery, "beat", "-l", "warning"]))
            self.stdout.write(f"Celery worker and beat started on {settings.CELERY_BROKER_URL}.")
        else:
            tasks_in_process()
            self.stdout.write(
                self.style.WARNING(
                    f"No Redis answers at {settings.CELERY_BROKER_URL}: "
                    "background tasks will run in-process."
                )
            )

        def stop(*_):
            for child in children:
                child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()

        signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
        self.stdout.write(self.style.SUCCESS(f"Marlow & Vale is open at http://{host}:{port}/"))
        try:
            call_command("runserver", f"{host}:{port}", use_reloader=False)
        finally:
            stop()
