"""Order workflow benchmark (part of `make bench`): how long from an order's commit to its
confirmation email, and how many tasks per second one worker process gets through.

    python tests/perf/bench_orders.py [--orders 500]

On its own PostgreSQL database (marlowvale_bench_orders, recreated) and Redis db 13, with
production settings on loopback and one Celery worker process (prefork, concurrency 1)
writing emails to files. Two phases:

1. Latency: orders are paid one after another at a steady pace while the worker runs; for
   each, the time from the commit of "paid" to the confirmation's communication event (the
   row is written right after the email has gone to the backend). Each paid order queues two
   tasks (email, workshop tickets), so the worker has 2 × N tasks to do.
2. Throughput: N more orders are paid with the worker stopped (2 × N tasks wait in Redis);
   the worker is started and the rate of finished tasks is read from its log, first to last.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASE_DIR))
BENCH_DIR = BASE_DIR / "var" / "bench"
DB_URL = os.environ.get(
    "BENCH_ORDERS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/marlowvale_bench_orders"
)
REDIS_URL = os.environ.get("BENCH_ORDERS_REDIS_URL", "redis://127.0.0.1:6379/13")
QUEUE = f"marlowvale-bench-{os.getpid()}"
SUCCEEDED = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): INFO/ForkPoolWorker-\d+\] Task "
)


def environment(mail_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": DB_URL,
        "REDIS_URL": REDIS_URL,
        "CACHE_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "MEDIA_ROOT": str(BENCH_DIR / "media"),
    }


def recreate_database() -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(DB_URL).path.lstrip("/")
    assert "bench" in name, name
    admin = urlunsplit(urlsplit(DB_URL)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", QUEUE, "-c", "1"]
    cmd += [
        "-P",
        "prefork",
        "-l",
        "info",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
    ]
    out = log.open("w")
    proc = subprocess.Popen(
        cmd, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("worker did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.1)
    return proc


def stop_worker(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def pay_orders(count: int, *, pace: float) -> list[tuple[int, datetime]]:
    """Place and pay `count` orders for a stock item; (order id, commit time) for each."""
    from django.db import transaction
    from django.utils import timezone
    from oscar.test.factories import create_order

    from shop.basket.models import Basket
    from shop.catalogue.models import Product
    from shop.order.services import order_mark_paid
    from shop.partner.models import StockRecord
    from shop.partner.strategy import UKStrategy

    product = Product.objects.get(upc="MV-HE-KEY")
    StockRecord.objects.filter(product=product).update(num_in_stock=10_000_000)
    done = []
    for _ in range(count):
        started = time.monotonic()
        basket = Basket.objects.create()
        basket.strategy = UKStrategy()
        basket.add_product(product, 1)
        with transaction.atomic():
            order = order_mark_paid(order=create_order(basket=basket, guest_email="b@example.com"))
        done.append((order.pk, timezone.now()))
        if pace:
            time.sleep(max(0.0, pace - (time.monotonic() - started)))
    return done


def sent_at(order_ids: list[int]) -> dict[int, datetime]:
    from shop.order.models import CommunicationEvent

    return dict(
        CommunicationEvent.objects.filter(
            order_id__in=order_ids, event_type__code="ORDER_PLACED"
        ).values_list("order_id", "date_created")
    )


def wait_all(order_ids: list[int], timeout: float) -> dict[int, datetime]:
    deadline = time.monotonic() + timeout
    while True:
        found = sent_at(order_ids)
        if len(found) == len(order_ids) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--pace", type=float, default=0.05, help="seconds between orders")
    args = parser.parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    mail_dir = Path(tempfile.mkdtemp(prefix="bench-mail-", dir=BENCH_DIR))
    env = environment(mail_dir)
    print(f"Order workflow bench: {args.orders} orders, one worker process (concurrency 1)")
    recreate_database()
    for command in (["migrate", "--noinput"], ["load_catalogue"], ["bootstrap_store"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=BASE_DIR,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    os.environ.update(env)
    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    import redis

    log = BENCH_DIR / "bench-orders-worker.log"
    worker = start_worker(env, log)
    try:
        paid = pay_orders(args.orders, pace=args.pace)
        found = wait_all([pk for pk, _ in paid], timeout=300)
        latencies = [(found[pk] - at).total_seconds() * 1000 for pk, at in paid if pk in found]
        missing = len(paid) - len(latencies)
    finally:
        stop_worker(worker)

    backlog = pay_orders(args.orders, pace=0)  # nobody consumes: 2 tasks per order wait
    worker = start_worker(env, log)
    try:
        wait_all([pk for pk, _ in backlog], timeout=600)
        deadline = time.monotonic() + 120
        while True:  # the tickets task of the last order may still run
            stamps = [m.group(1) for m in map(SUCCEEDED.match, log.read_text().splitlines()) if m]
            if len(stamps) >= 2 * len(backlog) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        stop_worker(worker)
        redis.Redis.from_url(REDIS_URL).delete(QUEUE)
    times = [datetime.strptime(s, "%Y-%m-%d %H:%M:%S,%f") for s in stamps]
    span = (max(times) - min(times)).total_seconds()
    rate = (len(times) - 1) / span if span > 0 else float("nan")
    # The file backend appends messages sent in the same second to one file: count messages.
    emails = sum(path.read_text().count("\nSubject: ") for path in mail_dir.glob("*.log"))

    print(
        f"  commit → confirmation email: p50 {pct(latencies, 50):.0f} ms, "
        f"p99 {pct(latencies, 99):.0f} ms, max {max(latencies):.0f} ms "
        f"over {len(latencies)} orders paid every {args.pace * 1000:.0f} ms"
        + (f" ({missing} never sent!)" if missing else "")
    )
    print(
        f"  worker throughput: {rate:.1f} tasks/s ({len(times)} tasks from a backlog: "
        f"confirmation emails and workshop-ticket checks)"
    )
    print(f"  emails written: {emails} (expected {2 * args.orders})")
    return 0 if not missing and emails == 2 * args.orders else 1


if __name__ == "__main__":
    raise SystemExit(main())
