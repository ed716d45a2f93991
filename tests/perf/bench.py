#!/usr/bin/env python
"""`make bench`: the storefront's pages served by gunicorn against PostgreSQL, at two sizes.

    .venv/bin/python tests/perf/bench.py [--products 2000] [--duration 10] [--keep-db]

(``--keep-db`` then ``--reuse-db``: measure again on the same catalogue without loading it anew;
the 20,000-product catalogue takes the real loader a quarter of an hour or more.)

Loopback only; about 6 minutes on an idle 2-core machine (more when it is busy). Steps:
 1. (Re)creates the PostgreSQL database ``marlowvale_bench`` on 127.0.0.1:5432 (user postgres),
    migrates it and collects static files (var/staticfiles).
 2. Loads the demo catalogue: ``manage.py load_catalogue``, ``load_personalization`` and
    ``generate_product_images``
    (into var/bench/media).
 3. Starts gunicorn (4 sync workers, ``config.wsgi``, ``config.settings.production``, Redis db 14
    as cache) on a free loopback port; warms each page, then loads it with wrk (``-t2 -c16
    -d10s``; a Python client if wrk is missing and cannot be installed): requests/s, p50/p99
    latency; bytes of the HTML. First as an anonymous shopper (pages from the page cache), then
    as a visitor with a basket of 3 personalized lines (made in-process through the real
    add-to-basket view; its cookies sent by wrk), the basket page included. At the demo size,
    Lighthouse (node_modules, ``npm ci``; mobile) scores the home, category and product pages
    against Debian's chromium.
 4. Counts each page's SQL queries in-process (Django test Client + CaptureQueriesContext,
    same database and cache): as served, and rendered (the page cache invalidated); times both;
    counts the queries of adding a 4th personalized line to the basket.
 5. Grows the catalogue to 2,000 browsable products (tests/perf/catalogue_generator.py, loaded
    by the real loader) and repeats 3 and 4. At that size it also loads the category and
    product pages while orders are placed (a thread allocating one unit of a random product's
    stock ``--order-rate`` times a second, as order placement does), once as the shop
    invalidates (a stock change stales that product's page only) and once with every stock
    change staling the whole cache (how it was before): what per-product invalidation buys.
 6. Prints the table, whether each page's query count is the same at both sizes, the
    statements a page runs more than twice (N+1 suspects), each page's slowest statement, the
    Lighthouse scores and the issue's targets, met or missed; writes var/bench/results.json
    (every query, with its time) and logs under var/bench/.
 7. Stops gunicorn and drops the database (``--keep-db`` leaves it for inspection).

 8. Funnel events (issue 21), at the largest size: the cached category and product pages and
    the (uncached) basket page loaded by a browser that accepted analytics (wrk sends the
    consent and visitor cookies and a browser's user agent), with events on and with
    GROWTH_EVENTS=false, side by side; the events the web processes queued per second; and
    the drain's absorb rate (``--growth-events`` events, 100,000 by default, queued in Redis
    and stored by ``shop.growth.services.events_drain`` in-process). ``--growth-only`` runs
    this step alone on the demo catalogue (about a minute with ``--duration 3``).

Exit status 0 when every page answered 200 and no page's query count grew; 1 otherwise (the
targets are reported, not enforced: load figures depend on the machine).
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[2]
PERF_DIR = Path(__file__).resolve().parent
BENCH_DIR = BASE_DIR / "var" / "bench"
FIXTURE = BASE_DIR / "fixtures" / "catalogue.json"
WRK_SCRIPT = PERF_DIR / "wrk_report.lua"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
PAGES = ("home", "category", "product", "search")
# A visitor with a basket of 3 personalized lines (tests/basket/helpers.py) loads these.
BASKET_PAGES = (*PAGES, "basket")
LIGHTHOUSE_PAGES = ("home", "category", "product")
LIGHTHOUSE_CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
    " --disable-background-networking --disable-component-update --disable-sync"
)
# The issue's targets (issue 9): anonymous req/s and p99, basket visitor req/s, query budgets.
TARGET_RPS = {"home": 500, "category": 500, "search": 500, "product": 600}
TARGET_P99_MS = 100
TARGET_BASKET_RPS = 150
BASKET_PAGE_BUDGET = 15
ADD_TO_BASKET_BUDGET = 20
TARGET_LIGHTHOUSE = 95
TARGET_HOME_BYTES = 300 * 1024
SEARCH_PATH = "/search/?q=wallet"
# The category and product benchmarked: the same rows at both sizes.
PREFERRED_CATEGORY = "wallets"
REPEAT_THRESHOLD = 3
# Pages loaded while orders are placed, and the two ways a stock change can stale the cache.
ORDER_PAGES = ("category", "product")
INVALIDATION_MODES = ("per product", "whole cache")
TIMED_REQUESTS = 7
# Issue 20: pages the page cache cannot serve (every request a different URL: a search with
# other words, a category with other filters, sort and page), and the issue's targets.
COLD_PAGES = ("search", "category")
COLD_SCRIPT = PERF_DIR / "wrk_cold.lua"
TARGET_COLD_RPS = ((20000, 150), (2000, 300))  # (from this many products, req/s)
TARGET_COLD_P99_MS = 150  # at 2,000 products
TARGET_BASKET_PAGE_RPS = 400
TARGET_CACHED_RPS = 1000
QUICK_PAGES = ("category", "search")
# The cold pages counted and timed in-process: many matches, a filter, sorted by price.
COLD_SAMPLES = {
    "search": "/search/?q=leather+wallets&sort_by=price-asc",
    "category": "{category}?line=Evergreen&sort_by=price-asc&page=2",
}  # --quick: the cached pages issue 20 looks at
# What shoppers type: products, plurals, typos, synonyms of the trade, colours, line names.
SEARCH_WORDS = (
    "wallet", "wallets", "walet", "billfold", "bilfold", "bifold", "card holder", "card case",
    "cardholder", "sleeve", "coin purse", "purse", "passport", "tote", "totes", "crossbody",
    "holdall", "weekend bag", "laptop", "belt", "belts", "bridle", "dress belt", "key fob",
    "keyring", "watch strap", "notebook", "chestnut", "dark brown", "forest", "black", "tan",
    "evergreen", "heritage", "vegetable tanned", "chrome free", "leather", "gift",
)  # fmt: skip

sys.path.insert(0, str(BASE_DIR))


class BenchError(RuntimeError):
    pass


@dataclass
class Load:
    """One load run of one page."""

    client: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int = 0  # connect/read/write/timeout errors
    bad_status: int = 0  # responses that were not 2xx/3xx

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class PageResult:
    page: str
    path: str
    visitor: str = "anonymous"  # or "basket": 3 personalized lines
    status: int = 0
    bytes: int = 0
    load: Load | None = None
    queries: list[dict] = field(default_factory=list)  # {"sql": ..., "ms": ...}, as served
    app_ms: float = 0.0  # median in-process time of one request, no concurrency
    render_queries: list[dict] = field(default_factory=list)  # the page rendered (cache miss)
    render_ms: float = 0.0  # median in-process time of a cache miss
    problem: str = ""

    @property
    def statements(self) -> list[str]:
        return [query["sql"] for query in self.queries]

    @property
    def sql_ms(self) -> float:
        return sum(query["ms"] for query in self.queries)


@dataclass
class SizeResult:
    label: str
    browsable: int
    product_rows: int
    stock_records: int
    pages: dict[str, PageResult] = field(default_factory=dict)
    basket_pages: dict[str, PageResult] = field(default_factory=dict)
    add_to_basket: list[dict] = field(default_factory=list)  # its statements
    lighthouse: dict[str, dict] = field(default_factory=dict)  # page -> scores, bytes
    checkout: dict[str, dict] = field(default_factory=dict)  # step -> p50_ms, queries
    # invalidation mode -> page -> its load while orders are placed; mode -> allocations/s
    with_orders: dict[str, dict[str, PageResult]] = field(default_factory=dict)
    order_rates: dict[str, float] = field(default_factory=dict)
    cold: dict[str, PageResult] = field(default_factory=dict)  # page -> every request a miss


# --- environment ---------------------------------------------------------------------------


def bench_environment(args: argparse.Namespace) -> dict[str, str]:
    """What gunicorn, manage.py and this process run with: production settings on loopback."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CACHE_URL": args.redis_url,
        "CELERY_BROKER_URL": args.redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "MEDIA_ROOT": str(BENCH_DIR / "media"),
    }


def check_loopback(url: str, what: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise BenchError(f"{what} must be on the loopback (127.0.0.1), not {host!r}")


def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if "bench" not in name:
        raise BenchError(f"refusing to recreate {name!r}: the bench database's name has 'bench'")
    return name


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = database_name(url)
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            version = conn.execute("SHOW server_version").fetchone()[0]
    except psycopg.OperationalError as exc:
        raise BenchError(f"PostgreSQL at {admin} does not answer: {exc}") from exc
    print(f"  database {name} created (PostgreSQL {version})")


def database_exists(url: str) -> bool:
    import psycopg

    name = database_name(url)
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return found is not None


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = database_name(url)
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def flush_cache(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=5).flushdb()
    except redis.RedisError as exc:
        raise BenchError(f"Redis at {url} does not answer: {exc}") from exc


def manage(*commands: tuple[str, ...], env: dict[str, str]) -> None:
    """Run manage.py commands side by side (each logged to var/bench/manage-<name>.log);
    raise if any fails."""
    running = []
    for args in commands:
        log = BENCH_DIR / f"manage-{args[0]}.log"
        with log.open("w") as out:
            cmd = [sys.executable, "manage.py", *args]
            proc = subprocess.Popen(cmd, cwd=BASE_DIR, env=env, stdout=out, stderr=out)
        running.append((cmd, proc, log))
    failures = []
    for cmd, proc, log in running:
        try:
            code = proc.wait(timeout=600)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        if code:
            tail = log.read_text(errors="replace")[-3000:]
            failures.append(f"{' '.join(cmd[1:])} exited {code} (log {log}):\n{tail}")
    if failures:
        raise BenchError("\n".join(failures))


def find_wrk(*, allow_install: bool) -> str | None:
    """wrk from Debian; installed with apt-get when missing and we are root."""
    wrk = shutil.which("wrk")
    if wrk or not allow_install or os.geteuid() != 0 or not shutil.which("apt-get"):
        return wrk
    print("  wrk is missing: apt-get install -y wrk")
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    for steps in ([install], [["apt-get", "update", "-q"], install]):
        for cmd in steps:
            subprocess.run(cmd, env=apt_env, capture_output=True, timeout=300, check=False)
        if wrk := shutil.which("wrk"):
            return wrk
    return None


# --- gunicorn ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, *, env: dict[str, str], workers: int, log_name: str):
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.log = BENCH_DIR / f"{log_name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        program = str(gunicorn) if gunicorn.exists() else shutil.which("gunicorn") or "gunicorn"
        cmd = [program, "config.wsgi:application", "--workers", str(self.workers)]
        cmd += ["--worker-class", "sync", "--bind", f"127.0.0.1:{self.port}", "--timeout", "30"]
        cmd += ["--no-control-socket", "--error-logfile", "-"]
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=BASE_DIR, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log.read_text(errors="replace")[-3000:]
                code = self.proc.returncode
                raise BenchError(f"gunicorn exited {code} (log {self.log}):\n{tail}")
            try:
                fetch(self.port, "/")
                return
            except OSError:
                time.sleep(0.25)
        raise BenchError(f"gunicorn did not answer on port {self.port} within 60 s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # graceful: the master stops its workers
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- load ----------------------------------------------------------------------------------


def load_with_wrk(
    wrk: str,
    port: int,
    path: str,
    *,
    threads: int,
    connections: int,
    seconds: int,
    headers: dict[str, str] | None = None,
    paths_file: Path | None = None,
) -> Load:
    """`path` loaded by wrk; with `paths_file`, every request another URL (wrk_cold.lua)."""
    url = f"http://127.0.0.1:{port}{path}"
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    if paths_file is None:
        cmd += ["--latency", "-s", str(WRK_SCRIPT), url]
    else:
        seed = secrets.token_hex(4)
        cmd += ["--latency", "-s", str(COLD_SCRIPT), url, "--", str(paths_file), seed, str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH_RESULT ")), None)
    if proc.returncode or line is None:
        raise BenchError(f"wrk failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    data = json.loads(line.split(" ", 1)[1])
    return Load(
        client="wrk",
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        bad_status=data["status"],
    )


def load_with_python(
    port: int,
    path: str,
    *,
    connections: int,
    seconds: int,
    headers: dict[str, str] | None = None,
    paths: list[str] | None = None,
) -> Load:
    """Fallback client: one thread per connection, keep-alive when the server allows it;
    with `paths`, every request another URL (as wrk_cold.lua)."""
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    counts = Counter()
    lock = threading.Lock()
    seed = secrets.token_hex(4)
    serial = iter(range(10**9))

    def client() -> None:
        mine: list[float] = []
        errors = bad = 0
        conn = None
        while time.perf_counter() < deadline:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            url = path
            if paths:
                n = next(serial)
                url = f"{paths[n % len(paths)]}&_n={seed}.{n}"
            started = time.perf_counter()
            try:
                conn.request("GET", url, headers=headers or {})
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = None
                continue
            mine.append(time.perf_counter() - started)
            bad += response.status >= 400
            if response.will_close:
                conn.close()
                conn = None
        if conn is not None:
            conn.close()
        with lock:
            latencies.extend(mine)
            counts["errors"] += errors
            counts["bad"] += bad

    started = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return Load(
        client="python",
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        errors=counts["errors"],
        bad_status=counts["bad"],
    )


def percentile(ordered: list[float], pct: float) -> float:
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


# --- Django, in-process --------------------------------------------------------------------


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()
    # The loader and Oscar's stock alerts log every product at INFO: keep the table readable.
    logging.disable(logging.INFO)


def analyze_database() -> None:
    """Planner statistics for the freshly loaded rows and dead row versions cleared, as
    autovacuum keeps them in a running shop (without statistics, plans for the bulk-loaded
    catalogue are guesses; without vacuuming, each order's updates of the same stock and
    counter rows leave versions every later update walks past, and a server may run with
    autovacuum off, as this machine's does)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def catalogue_size() -> tuple[int, int, int]:
    from shop.catalogue.models import Product
    from shop.partner.models import StockRecord

    return (
        Product.objects.browsable().count(),
        Product.objects.count(),
        StockRecord.objects.count(),
    )


def pick_paths() -> dict[str, str]:
    """The pages to load: one category and one product with colour variants, chosen at the
    demo size and kept for the large size, so the two sizes compare the same pages."""
    from django.db.models import Count, Q

    from shop.catalogue.models import Category, Product

    categories = Category.objects.browsable().annotate(
        n=Count("product", filter=Q(product__is_public=True, product__parent=None))
    )
    category = (
        categories.filter(slug=PREFERRED_CATEGORY, n__gt=0).first()
        or categories.filter(n__gt=0).order_by("-n", "path").first()
    )
    if category is None:
        raise BenchError("the demo catalogue has no category with products: did it load?")
    in_category = Product.objects.browsable().filter(categories=category).order_by("pk")
    product = in_category.filter(structure=Product.PARENT).first() or in_category.first()
    return {
        "home": "/",
        "category": category.get_absolute_url(),
        "product": product.get_absolute_url(),
        "search": SEARCH_PATH,
        "basket": "/basket/",
    }


TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b", re.I)


def _statements(queries) -> list[dict]:
    return [
        {"sql": q["sql"], "ms": round(float(q["time"]) * 1000, 2)}
        for q in queries
        if not TRANSACTION_CONTROL.match(q["sql"])
    ]


_CLIENTS: dict = {}


def _client(cookies: dict[str, str] | None):
    """A test Client carrying only `cookies`. One per process: a new Client loads the whole
    middleware stack on its first request (whitenoise scans the static files), which is not
    the page's cost."""
    from django.test import Client

    client = _CLIENTS.get("client")
    if client is None:
        client = _CLIENTS["client"] = Client(HTTP_HOST="localhost")
    client.cookies.clear()
    for name, value in (cookies or {}).items():
        client.cookies[name] = value
    return client


def capture_queries(
    path: str, cookies: dict[str, str] | None = None
) -> tuple[str, list[dict], float, list[dict], float]:
    """The SQL of one request (an anonymous shopper's, or with `cookies` a basket visitor's).
    Returns a problem ("" when the page answered 200); the statements as served, after a
    first request filled the caches (cached pages: none, or the basket count); the median
    time of such a request served in-process to a single client; and the statements and
    median time of the page rendered (the page cache just invalidated). Transaction control
    (BEGIN, COMMIT, SAVEPOINT...) is left out."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shop.storefront.page_cache import catalogue_version_bump

    served: list[dict] = []
    rendered: list[dict] = []
    timings: list[float] = []
    render_timings: list[float] = []
    problem = ""
    capture = CaptureQueriesContext(connection)
    logging.disable(logging.CRITICAL)  # a failing page is reported in the table, not traced
    try:
        _client(cookies).get(path)  # per-process caches warm
        catalogue_version_bump()
        with capture:
            response = _client(cookies).get(path)
        rendered = _statements(capture.captured_queries)
        if response.status_code != 200:
            problem = f"HTTP {response.status_code} in-process"
        with capture:
            _client(cookies).get(path)
        served = _statements(capture.captured_queries)
        for _ in range(TIMED_REQUESTS):  # one client, no concurrency: the page's own cost
            client = _client(cookies)
            started = time.perf_counter()
            client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
        for _ in range(3):
            catalogue_version_bump()
            client = _client(cookies)
            started = time.perf_counter()
            client.get(path)
            render_timings.append((time.perf_counter() - started) * 1000)
    except Exception as exc:  # the page's own error
        problem = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        logging.disable(logging.INFO)
    return (
        problem,
        served,
        statistics.median(timings) if timings else 0.0,
        rendered,
        statistics.median(render_timings) if render_timings else 0.0,
    )


def basket_visitor() -> dict[str, str]:
    """Cookies of a visitor who put 3 personalized lines in the basket (through the real
    add-to-basket view, in-process, on the bench database) and has seen the basket page."""
    from tests.basket.helpers import fill_basket

    client = _client(None)
    fill_basket(client)
    client.get("/basket/")  # shows, and so clears, the "added to your basket" messages
    return {name: morsel.value for name, morsel in client.cookies.items() if morsel.value}


def capture_add_to_basket() -> list[dict]:
    """The statements of adding a 4th personalized line to a basket of 3."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.basket.helpers import another_line

    cookies = basket_visitor()
    path, data = another_line()
    client = _client(cookies)
    with CaptureQueriesContext(connection) as capture:
        response = client.post(path, data)
    if response.status_code != 302:
        raise BenchError(f"add to basket answered {response.status_code}")
    return _statements(capture.captured_queries)


CHECKOUT_ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "line1": "12 Lower Rushall Street",
    "line4": "Walsall",
    "postcode": "WS1 2AA",
    "country": "GB",
    "phone_number": "",
}
CHECKOUT_RUNS = 7
# Shoppers through the checkout before the timed ones: a running server's connection has
# placed orders before (PostgreSQL prepares a statement on its sixth run on a connection).
CHECKOUT_WARMUP = 5
CHECKOUT_SHIPPING = "royal-mail-tracked-48"


class StripeClock:
    """Time spent inside Stripe calls (shop.payments.stripe_api._call), to leave it out."""

    def __init__(self):
        self.seconds = 0.0

    def __enter__(self):
        from shop.payments import stripe_api

        self._module, self._call = stripe_api, stripe_api._call

        def timed(fn, *args, **kwargs):
            started = time.perf_counter()
            try:
                return self._call(fn, *args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        stripe_api._call = timed
        return self

    def __exit__(self, *exc) -> None:
        self._module._call = self._call


def restock_checkout_products(units: int) -> None:
    """Every shopper of the checkout buys the basket visitor's products: give each of their
    stock records `units` to spare (the demo's stock is a workshop's dozen, and the orders
    placed before may have sold a colour out), saved as a restock would be."""
    from django.db.models import Q

    from shop.partner.models import StockRecord
    from tests.basket.helpers import PERSONALIZED_LINES

    upcs = [upc for upc, _choices in PERSONALIZED_LINES]
    for record in StockRecord.objects.filter(
        Q(product__upc__in=upcs) | Q(product__parent__upc__in=upcs)
    ):
        record.num_in_stock = (record.num_allocated or 0) + units
        record.save()


def measure_checkout() -> dict[str, dict]:
    """The checkout's server side for a guest with the 3-line basket, in-process: each step's
    median time over CHECKOUT_RUNS shoppers after CHECKOUT_WARMUP untimed ones (queries: one
    more shopper, counted apart), from the guest's email to the order placed. Stripe is a
    localstripe started here; the time spent in its calls (creating the PaymentIntent for
    the payment page, reading it back at placement) is left out, and the card is paid
    between the two steps as Stripe.js would, untimed."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shop.payments import stripe_api
    from shop.payments.localstripe import LocalStripe
    from shop.storefront.services import shipping_countries_ensure

    shipping_countries_ensure()
    restock_checkout_products(units=2 * (CHECKOUT_WARMUP + 1 + CHECKOUT_RUNS))
    stripe_server = LocalStripe().start()
    settings.STRIPE_SECRET_KEY = "sk_test_localstripe"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_localstripe"
    settings.STRIPE_API_BASE = stripe_server.base_url
    steps = (
        (
            "guest email",
            "post",
            "/checkout/",
            {"username": "ada@example.com", "options": "anonymous"},
        ),
        ("address page", "get", "/checkout/shipping-address/", None),
        ("address", "post", "/checkout/shipping-address/", CHECKOUT_ADDRESS),
        ("shipping page", "get", "/checkout/shipping-method/", None),
        ("shipping", "post", "/checkout/shipping-method/", {"method_code": CHECKOUT_SHIPPING}),
        ("payment page", "get", "/checkout/payment-details/", None),
        ("place order", "post", "/checkout/payment-confirm/", {}),
    )
    times: dict[str, list[float]] = {name: [] for name, *_ in steps}
    stripe_ms: dict[str, list[float]] = {name: [] for name, *_ in steps}
    queries: dict[str, int] = {}
    problems: dict[str, str] = {}
    try:
        for run in range(CHECKOUT_WARMUP + 1 + CHECKOUT_RUNS):
            client = _client(basket_visitor())
            payment_intent = ""
            for name, method, path, data in steps:
                if name == "place order":
                    if not payment_intent:
                        problems[name] = "no PaymentIntent on the payment page"
                        break
                    card = stripe_api.payment_method_create_card(
                        number="4242424242424242", exp_month=12, exp_year=2034, cvc="123"
                    )
                    stripe_api.payment_intent_update(
                        payment_intent_id=payment_intent, payment_method=card.id
                    )
                    stripe_api.payment_intent_confirm(payment_intent_id=payment_intent)
                    data = {"payment_intent_id": payment_intent}
                # After the warm-up, one shopper's queries are counted; the others are
                # timed without the query log (it costs time per statement that production
                # does not spend).
                counting = run == CHECKOUT_WARMUP
                capture = CaptureQueriesContext(connection) if counting else nullcontext()
                with capture, StripeClock() as stripe:
                    started = time.perf_counter()
                    response = getattr(client, method)(path, data) if data else client.get(path)
                    elapsed = time.perf_counter() - started
                if counting:
                    queries[name] = len(_statements(capture.captured_queries))
                elif run > CHECKOUT_WARMUP:
                    times[name].append((elapsed - stripe.seconds) * 1000)
                    stripe_ms[name].append(stripe.seconds * 1000)
                expected = "/checkout/thank-you/" if name == "place order" else None
                if response.status_code not in (200, 302) or (
                    expected and response.get("Location") != expected
                ):
                    where = response.get("Location", "")
                    problems[name] = f"HTTP {response.status_code} {where}".strip()
                if name == "payment page":
                    found = re.search(
                        r'name="payment_intent_id" value="(pi_[^"]+)"', response.content.decode()
                    )
                    payment_intent = found.group(1) if found else ""
    finally:
        stripe_server.stop()
    return {
        name: {
            "p50_ms": statistics.median(times[name]) if times[name] else 0.0,
            "stripe_ms": statistics.median(stripe_ms[name]) if stripe_ms[name] else 0.0,
            "queries": queries.get(name, 0),
            "problem": problems.get(name, ""),
        }
        for name, *_ in steps
    }


def run_lighthouse(port: int, paths: dict[str, str]) -> dict[str, dict]:
    """Lighthouse (node_modules, `make bench` installs it with npm ci) on the mobile preset,
    against Debian's chromium: the four category scores and the bytes transferred."""
    binary = BASE_DIR / "node_modules" / ".bin" / "lighthouse"
    chrome = os.environ.get("CHROME_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not binary.exists() or not Path(chrome).exists():
        print(f"  Lighthouse skipped: {binary} or {chrome} missing (make bench installs them)")
        return {}
    results = {}
    for page in LIGHTHOUSE_PAGES:
        out = BENCH_DIR / f"lighthouse-{page}.json"
        cmd = [str(binary), f"http://127.0.0.1:{port}{paths[page]}", "--output=json"]
        cmd += [f"--output-path={out}", "--quiet", f"--chrome-flags={CHROME_FLAGS}"]
        cmd += [f"--only-categories={','.join(LIGHTHOUSE_CATEGORIES)}"]
        for _attempt in range(3):  # chromium sometimes loses the trace (NO_NAVSTART)
            out.unlink(missing_ok=True)
            proc = subprocess.run(
                cmd,
                cwd=BASE_DIR,
                env={**os.environ, "CHROME_PATH": chrome},
                capture_output=True,
                text=True,
                timeout=300,
            )
            if not proc.returncode and out.exists():
                break
        if proc.returncode or not out.exists():
            results[page] = {"problem": f"lighthouse exit {proc.returncode}: {proc.stderr[-300:]}"}
            continue
        data = json.loads(out.read_text())
        scores = {
            key: round((data["categories"][key]["score"] or 0) * 100)
            for key in LIGHTHOUSE_CATEGORIES
        }
        weight = data["audits"].get("total-byte-weight", {}).get("numericValue", 0)
        failing = [
            f"{ref['id']}"
            for key in LIGHTHOUSE_CATEGORIES
            for ref in data["categories"][key]["auditRefs"]
            if ref.get("weight")
            and (data["audits"][ref["id"]].get("score") is not None)
            and data["audits"][ref["id"]]["score"] < 0.9
        ]
        results[page] = {"scores": scores, "bytes": int(weight), "failing": failing}
        shown = " ".join(f"{k} {v}" for k, v in scores.items())
        print(f"  lighthouse {page:<9} {shown}  {int(weight) // 1024} KB")
    return results


def grow_catalogue(*, target: int) -> int:
    """Add generated products until ``target`` are browsable; returns how many were added."""
    from shop.catalogue.models import Product, ProductImage
    from shop.catalogue.services import catalogue_load
    from tests.perf.catalogue_generator import clone_sources, generate_catalogue

    missing = target - Product.objects.browsable().count()
    if missing <= 0:
        return 0
    data = generate_catalogue(json.loads(FIXTURE.read_text()), products=missing)
    catalogue_load(data=data)
    # Each clone shows its demo product's image (same file): no thousands of PNGs to draw.
    sources = clone_sources(data)
    images: dict[str, list] = {}
    demo_images = ProductImage.objects.filter(product__upc__in=set(sources.values()))
    for image in demo_images.select_related("product").order_by("display_order", "pk"):
        images.setdefault(image.product.upc, []).append(image)
    pks = dict(Product.objects.filter(upc__in=sources).values_list("upc", "pk"))
    ProductImage.objects.bulk_create(
        [
            ProductImage(
                product_id=pks[upc],
                original=image.original.name,
                caption=image.caption,
                display_order=image.display_order,
            )
            for upc, source in sources.items()
            for image in images.get(source, [])
        ],
        batch_size=1000,
    )
    return missing


# --- measuring -----------------------------------------------------------------------------


def personalization_query_cost(path: str) -> tuple[int, int]:
    """Queries of the product page with its personalization offers, and with none (the
    offers are deleted inside a transaction that is rolled back)."""
    from django.db import transaction

    from shop.personalization.models import PersonalizationOffer

    with_offers = len(capture_queries(path)[3])
    with transaction.atomic():
        PersonalizationOffer.objects.all().delete()
        without = len(capture_queries(path)[3])
        transaction.set_rollback(True)
    return with_offers, without


class OrdersPlaced(threading.Thread):
    """Orders being placed while pages are loaded: one unit of a random stock-tracked product
    allocated ``rate`` times a second, the way order placement allocates (Oscar's
    ``StockRecord.allocate``, its signals and so the page cache's invalidation). With
    ``whole_cache`` each allocation also stales every cached page, as any stock change did
    before stock-level changes became per-product."""

    def __init__(self, rate: float, *, whole_cache: bool):
        super().__init__(daemon=True)
        self.rate = rate
        self.whole_cache = whole_cache
        self.halt = threading.Event()
        self.done = 0
        self.seconds = 0.0
        self.error: BaseException | None = None

    def run(self) -> None:
        import random

        from django.db import connection, transaction
        from django.db.models import Q

        from shop.partner.models import StockRecord
        from shop.storefront.page_cache import catalogue_changed

        started = time.monotonic()
        try:
            tracked = Q(product__product_class__track_stock=True) | Q(
                product__parent__product_class__track_stock=True
            )
            ids = list(
                StockRecord.objects.filter(tracked, num_in_stock__gt=0).values_list("pk", flat=True)
            )
            if not ids:
                raise BenchError("no stock-tracked product with stock to allocate")
            pick = random.Random(9).choice
            due = time.monotonic()
            while not self.halt.is_set():
                record = StockRecord.objects.select_related(
                    "product__product_class", "product__parent__product_class"
                ).get(pk=pick(ids))
                with transaction.atomic():
                    record.allocate(1)
                    if self.whole_cache:
                        catalogue_changed()
                self.done += 1
                due += 1 / self.rate
                self.halt.wait(max(0.0, due - time.monotonic()))
        except BaseException as exc:  # reported with the results
            self.error = exc
        finally:
            self.seconds = time.monotonic() - started
            connection.close()

    def stop(self) -> float:
        """Stop placing orders; the allocations per second achieved."""
        self.halt.set()
        self.join()
        if self.error is not None:
            raise BenchError(f"placing orders failed: {self.error!r}")
        return self.done / self.seconds if self.seconds else 0.0


def measure_with_orders(size: SizeResult, port: int, paths: dict[str, str], *, args, wrk) -> None:
    print(f"  anonymous pages while {args.order_rate:g} orders/s allocate stock:")
    for mode in INVALIDATION_MODES:
        orders = OrdersPlaced(args.order_rate, whole_cache=mode == "whole cache")
        orders.start()
        try:
            size.with_orders[mode] = {
                page: _load_page(port, page, paths[page], args=args, wrk=wrk, label=mode)
                for page in ORDER_PAGES
            }
        finally:
            size.order_rates[mode] = orders.stop()


def measure(
    size: SizeResult,
    paths: dict[str, str],
    *,
    args,
    env,
    wrk: str | None,
    lighthouse: bool = False,
    with_orders: bool = False,
) -> None:
    from django.db import connections

    connections.close_all()
    flush_cache(args.redis_url)
    server = Gunicorn(env=env, workers=args.workers, log_name=f"gunicorn-{size.browsable}")
    server.start()
    pages = QUICK_PAGES if args.quick else PAGES
    basket_pages = ("basket",) if args.quick else BASKET_PAGES
    misses = cold_paths()
    connections.close_all()
    try:
        for page in pages:
            size.pages[page] = _load_page(server.port, page, paths[page], args=args, wrk=wrk)
        for page in COLD_PAGES:
            sample = COLD_SAMPLES[page].format(category=paths["category"])
            size.cold[page] = _load_cold(
                server.port, page, sample, misses[page], args=args, wrk=wrk
            )
        cookies = basket_visitor()
        connections.close_all()
        header = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        for page in basket_pages:
            size.basket_pages[page] = _load_page(
                server.port, page, paths[page], args=args, wrk=wrk, headers=header
            )
        if lighthouse:
            size.lighthouse = run_lighthouse(server.port, paths)
        if with_orders and args.order_rate > 0:
            measure_with_orders(size, server.port, paths, args=args, wrk=wrk)
    finally:
        server.stop()
    for result in (*size.pages.values(), *size.cold.values()):
        _capture(result)
    for result in size.basket_pages.values():
        _capture(result, cookies)
    size.add_to_basket = capture_add_to_basket()
    analyze_database()  # after the orders above, as autovacuum would
    if args.quick:
        return
    try:
        size.checkout = measure_checkout()
    except Exception as exc:  # reported, not fatal: the checkout has its own tests
        size.checkout = {"checkout": {"p50_ms": 0.0, "queries": 0, "problem": repr(exc)[:200]}}


def _load_page(
    port: int,
    page: str,
    path: str,
    *,
    args,
    wrk: str | None,
    headers: dict | None = None,
    label: str = "",
) -> PageResult:
    visitor = label or ("basket" if headers else "anonymous")
    result = PageResult(page=page, path=path, visitor=visitor)
    result.status, body = fetch(port, path, headers)
    result.bytes = len(body)
    if result.status != 200:
        result.problem = f"HTTP {result.status}"
        print(f"  {visitor:<9} {page:<9} {path}: HTTP {result.status}, not loaded")
        return result
    run = _loader(port, path, args=args, wrk=wrk, headers=headers)
    run(seconds=args.warmup)  # warm every worker: templates, connections, thumbnails
    result.load = run(seconds=args.duration)
    if result.load.errors or result.load.bad_status:
        result.problem = f"{result.load.errors} socket errors, {result.load.bad_status} non-2xx/3xx"
    print(
        f"  {visitor:<9} {page:<9} {result.load.rps:8.1f} req/s  p50 {result.load.p50_ms:6.1f} ms"
        f"  p99 {result.load.p99_ms:6.1f} ms  {path}"
    )
    return result


def cold_paths() -> dict[str, list[str]]:
    """Per cold page, the URLs its load cycles through (each request adds a unique `_n`, so
    none is a page-cache hit): searches for SEARCH_WORDS alone and in pairs, with each sort
    and now and then a filter; every browsable category with no filter, each filter value
    and pairs of them, each sort, and the pages that exist for that combination."""
    from itertools import product
    from urllib.parse import urlencode

    from django.conf import settings

    from shop.catalogue import selectors
    from shop.catalogue.models import Category

    sorts = list(selectors.SORTS)
    options = selectors.filter_options()
    filter_sets = [{}]
    filter_sets += [{key: value} for key, values in options.items() for value in values]
    filter_sets += [
        {"line": line, "tanning": tanning}
        for line, tanning in product(options["line"], options["tanning"])
    ]
    searches = []
    for i, (first, second) in enumerate(product(SEARCH_WORDS, ("", *SEARCH_WORDS))):
        if first == second:
            continue
        params = {"q": f"{first} {second}".strip(), "sort_by": sorts[i % len(sorts)]}
        if i % 4 == 0:
            params.update(filter_sets[i % len(filter_sets)])
        searches.append(f"/search/?{urlencode(params)}")
    categories = []
    per_page = settings.OSCAR_PRODUCTS_PER_PAGE
    for category in Category.objects.browsable().order_by("path"):
        for filters in filter_sets:
            count = selectors.product_list(category=category, filters=filters).count()
            pages = min(3, math.ceil(count / per_page))
            for sort, page in product(sorts, range(1, pages + 1)):
                params = {**filters, "sort_by": sort, "page": page}
                categories.append(f"{category.get_absolute_url()}?{urlencode(params)}")
    rng = random.Random(1962)  # interleaved: neighbouring requests ask for different pages
    rng.shuffle(searches)
    rng.shuffle(categories)
    return {"search": searches, "category": categories}


def _load_cold(
    port: int, page: str, sample: str, paths: list[str], *, args, wrk: str | None
) -> PageResult:
    """`page` loaded with every request a page-cache miss (wrk_cold.lua); `sample` is the
    URL counted and timed in-process (the same at every size)."""
    paths_file = BENCH_DIR / f"cold-{page}.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    result = PageResult(page=page, path=sample, visitor="cold")
    result.status, body = fetch(port, sample)
    result.bytes = len(body)
    if result.status != 200:
        result.problem = f"HTTP {result.status}"
        print(f"  cold      {page:<9} {sample}: HTTP {result.status}, not loaded")
        return result
    run = _loader(port, sample, args=args, wrk=wrk, paths_file=paths_file)
    run(seconds=args.warmup)
    result.load = run(seconds=args.duration)
    if result.load.errors or result.load.bad_status:
        result.problem = f"{result.load.errors} socket errors, {result.load.bad_status} non-2xx/3xx"
    print(
        f"  cold      {page:<9} {result.load.rps:8.1f} req/s  p50 {result.load.p50_ms:6.1f} ms"
        f"  p99 {result.load.p99_ms:6.1f} ms  ({len(paths)} URLs, each request a miss)"
    )
    return result


def _capture(result: PageResult, cookies: dict[str, str] | None = None) -> None:
    problem, result.queries, result.app_ms, result.render_queries, result.render_ms = (
        capture_queries(result.path, cookies)
    )
    result.problem = "; ".join(x for x in (result.problem, problem) if x)


def _loader(
    port: int,
    path: str,
    *,
    args,
    wrk: str | None,
    headers: dict | None = None,
    paths_file: Path | None = None,
):
    def run(*, seconds: int) -> Load:
        if wrk:
            return load_with_wrk(
                wrk,
                port,
                path,
                threads=args.threads,
                connections=args.connections,
                seconds=seconds,
                headers=headers,
                paths_file=paths_file,
            )
        paths = paths_file.read_text().split() if paths_file else None
        return load_with_python(
            port, path, connections=args.connections, seconds=seconds, headers=headers, paths=paths
        )

    return run


# --- report --------------------------------------------------------------------------------


def normalise(sql: str) -> str:
    """A query's shape: literals and IN lists replaced, so repeats of one statement group."""
    shape = re.sub(r"'(?:[^']|'')*'", "?", sql)
    shape = re.sub(r"\b\d+(?:\.\d+)?\b", "?", shape)
    shape = re.sub(r"IN \((?:\?, )*\?\)", "IN (...)", shape)
    return re.sub(r"\s+", " ", shape).strip()


def brief(shape: str, width: int = 200) -> str:
    """A statement's shape for the console: the select list (up to the top-level FROM) elided."""
    if shape.startswith("SELECT "):
        depth = 0
        for i, char in enumerate(shape):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0 and shape.startswith(" FROM ", i):
                shape = "SELECT ..." + shape[i:]
                break
    return shape if len(shape) <= width else shape[: width - 3] + "..."


def _rows(size: SizeResult):
    yield from size.pages.values()
    yield from size.cold.values()
    yield from size.basket_pages.values()


def report(sizes: list[SizeResult], *, args, client: str, elapsed: float) -> bool:
    small, large = sizes[0], sizes[-1]
    ok = True
    print()
    print(
        f"Storefront benchmark: gunicorn {args.workers} sync workers (config.settings.production),"
        f" PostgreSQL, Redis; {client}, {args.duration} s per page after {args.warmup} s warm-up"
    )
    print(
        f"{'size':>14}  {'visitor':<9} {'page':<9} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'queries':>7} {'render':>6} {'bytes':>7} {'app ms':>6} {'rnd ms':>6}  problem"
    )
    for size in sizes:
        for r in _rows(size):
            load = r.load
            cells = f"{load.rps:7.1f} {load.p50_ms:7.1f} {load.p99_ms:7.1f}" if load else " " * 23
            print(
                f"{size.label:>14}  {r.visitor:<9} {r.page:<9} {cells} {len(r.queries):>7}"
                f" {len(r.render_queries):>6} {r.bytes:>7} {r.app_ms:>6.1f} {r.render_ms:>6.1f}"
                f"  {r.problem}"
            )
            ok &= not r.problem
    print(
        "  queries: SQL statements of one request as served (Django test Client on the same"
        " database and cache; BEGIN/COMMIT/SAVEPOINT not counted): a cached page costs none,"
        " or for a basket visitor the basket count; render: the same page rendered, its cache"
        " just invalidated; bytes: the HTML body; app ms / rnd ms: median in-process time of"
        f" one request served ({TIMED_REQUESTS} runs) / rendered (3 runs), one client"
    )
    for size in sizes:
        print(
            f"  {size.label}: {size.browsable:,} browsable products, {size.product_rows:,} product"
            f" rows (with colour variants), {size.stock_records:,} stock records;"
            f" add to basket (4th personalized line): {len(size.add_to_basket)} queries"
        )
    print()
    print(f"Query counts (pages rendered) at {small.browsable:,} and {large.browsable:,} products:")
    all_equal = True
    for visitor, in_small, in_large in (
        ("anonymous", small.pages, large.pages),
        ("cold", small.cold, large.cold),
        ("basket", small.basket_pages, large.basket_pages),
    ):
        for page in [page for page in in_small if page in in_large]:
            a, b = in_small[page], in_large[page]
            before = [q["sql"] for q in a.render_queries]
            after = [q["sql"] for q in b.render_queries]
            same = len(before) == len(after)
            all_equal &= same
            verdict = "equal" if same else f"GROWS by {len(after) - len(before)}"
            print(f"  {visitor:<9} {page:<9} {len(before):>4} -> {len(after):<4} {verdict:<12}")
            if not same:
                grown = Counter(map(normalise, after))
                grown.subtract(Counter(map(normalise, before)))
                for shape, extra in grown.most_common():
                    if extra:
                        print(f"      {extra:+d} x {brief(shape)}")
    add_same = len(small.add_to_basket) == len(large.add_to_basket)
    all_equal &= add_same
    print(
        f"  add to basket       {len(small.add_to_basket):>4} -> {len(large.add_to_basket):<4}"
        f" {'equal' if add_same else 'GROWS'}"
    )
    ok &= all_equal
    print(f"Query counts equal at both sizes: {'yes' if all_equal else 'NO'}")
    repeats = [
        (r.visitor, r.page, n, shape)
        for r in _rows(large)
        for shape, n in Counter(normalise(q["sql"]) for q in r.render_queries).most_common()
        if n >= REPEAT_THRESHOLD
    ]
    if repeats:
        print(f"Statements one page runs {REPEAT_THRESHOLD}+ times ({large.label}; N+1 suspects):")
        for visitor, page, n, shape in repeats:
            print(f"  {visitor:<9} {page:<9} x{n:<3} {brief(shape)}")
    else:
        print(f"No page runs one statement {REPEAT_THRESHOLD}+ times.")
    print("Slowest statement of each page rendered (in-process, one request):")
    for size in sizes:
        for r in _rows(size):
            if r.render_queries:
                slowest = max(r.render_queries, key=lambda query: query["ms"])
                shape = brief(normalise(slowest["sql"]), width=140)
                print(
                    f"  {size.label:>14} {r.visitor:<9} {r.page:<9}"
                    f" {slowest['ms']:6.1f} ms  {shape}"
                )
    print_with_orders(sizes)
    print_lighthouse(sizes)
    print(
        "Checkout, server side (guest, 3-line basket, in-process, median of"
        f" {CHECKOUT_RUNS} after {CHECKOUT_WARMUP} untimed shoppers; Stripe left out):"
    )
    for size in sizes:
        cells = ", ".join(
            f"{step} {r['p50_ms']:.0f} ms/{r['queries']} q"
            + (f" (+{r['stripe_ms']:.0f} ms Stripe)" if r.get("stripe_ms") else "")
            + (f" {r['problem']}" if r["problem"] else "")
            for step, r in size.checkout.items()
        )
        print(f"  {size.label:>14}  {cells}")
    print_targets(sizes)
    print(f"Finished in {elapsed:.0f} s; every query in {BENCH_DIR / 'results.json'}")
    return ok


def print_with_orders(sizes: list[SizeResult]) -> None:
    for size in sizes:
        if not size.with_orders:
            continue
        print(
            f"Anonymous pages while orders are placed ({size.label}; one unit of a random"
            " product's stock allocated per order):"
        )
        print(f"  {'stock change stales':<20} {'orders/s':>8}  " + "   ".join(ORDER_PAGES))
        for mode, pages in size.with_orders.items():
            cells = "   ".join(
                f"{r.load.rps:7.1f} req/s p99 {r.load.p99_ms:5.1f} ms" if r.load else r.problem
                for r in pages.values()
            )
            print(f"  {mode:<20} {size.order_rates.get(mode, 0):8.1f}  {cells}")


def print_lighthouse(sizes: list[SizeResult]) -> None:
    for size in sizes:
        if not size.lighthouse:
            continue
        print(f"Lighthouse (mobile, {size.label}; reports in {BENCH_DIR}/lighthouse-*.json):")
        print(f"  {'page':<9} " + " ".join(f"{k:>14}" for k in LIGHTHOUSE_CATEGORIES) + "  weight")
        for page, result in size.lighthouse.items():
            if "problem" in result:
                print(f"  {page:<9} {result['problem']}")
                continue
            scores = " ".join(f"{result['scores'][k]:>14}" for k in LIGHTHOUSE_CATEGORIES)
            print(f"  {page:<9} {scores}  {result['bytes'] / 1024:.0f} KB")
            if result["failing"]:
                print(f"            below 0.9: {', '.join(result['failing'])}")


def print_targets(sizes: list[SizeResult]) -> None:
    """The issue's targets against this run (largest size for load and queries)."""
    size = sizes[-1]
    lines = []
    for page, rps in TARGET_RPS.items():
        if page not in size.pages:
            continue
        load = size.pages[page].load
        met = bool(load) and load.rps >= rps and load.p99_ms < TARGET_P99_MS
        got = f"{load.rps:.0f} req/s, p99 {load.p99_ms:.0f} ms" if load else "no load"
        lines.append((met, f"anonymous {page}: >= {rps} req/s, p99 < {TARGET_P99_MS} ms ({got})"))
    for page in PAGES:  # "the same pages" for a visitor with a basket (the basket page: queries)
        if page not in size.basket_pages:
            continue
        load = size.basket_pages[page].load
        met = bool(load) and load.rps >= TARGET_BASKET_RPS
        got = f"{load.rps:.0f} req/s" if load else "no load"
        lines.append((met, f"basket visitor {page}: >= {TARGET_BASKET_RPS} req/s ({got})"))
    basket_q = len(size.basket_pages["basket"].queries)
    lines.append(
        (
            basket_q <= BASKET_PAGE_BUDGET,
            f"basket page <= {BASKET_PAGE_BUDGET} queries ({basket_q})",
        )
    )
    add_q = len(size.add_to_basket)
    lines.append(
        (
            add_q <= ADD_TO_BASKET_BUDGET,
            f"add to basket <= {ADD_TO_BASKET_BUDGET} queries ({add_q})",
        )
    )
    for lh_size in sizes:
        for page, result in lh_size.lighthouse.items():
            scores = result.get("scores", {})
            met = bool(scores) and all(v >= TARGET_LIGHTHOUSE for v in scores.values())
            got = "/".join(str(v) for v in scores.values()) or "not run"
            lines.append((met, f"Lighthouse {page} all >= {TARGET_LIGHTHOUSE} ({got})"))
        if "home" in lh_size.lighthouse and "bytes" in lh_size.lighthouse["home"]:
            weight = lh_size.lighthouse["home"]["bytes"]
            lines.append(
                (weight <= TARGET_HOME_BYTES, f"home page <= 300 KB ({weight / 1024:.0f} KB)")
            )
    for step, r in size.checkout.items():
        met = not r["problem"] and r["p50_ms"] < 50
        lines.append((met, f"checkout {step}: p50 < 50 ms in process ({r['p50_ms']:.0f} ms)"))
    print("Targets (issue 9):")
    for met, text in lines:
        print(f"  [{'met' if met else 'MISSED'}] {text}")
    print("Targets (issue 20):")
    for met, text in issue20_targets(sizes):
        print(f"  [{'met' if met else 'MISSED'}] {text}")


def issue20_targets(sizes: list[SizeResult]) -> list[tuple[bool, str]]:
    """Cold search and category at 2,000 and 20,000 products, the basket page, cached pages."""
    lines = []
    for size in sizes:
        if size.browsable < TARGET_COLD_RPS[-1][0] * 0.9:
            continue
        rps = next(r for n, r in TARGET_COLD_RPS if size.browsable >= n * 0.9)
        p99 = TARGET_COLD_P99_MS if rps == TARGET_COLD_RPS[-1][1] else None
        for page, result in size.cold.items():
            load = result.load
            met = bool(load) and load.rps >= rps and (p99 is None or load.p99_ms < p99)
            got = f"{load.rps:.0f} req/s, p99 {load.p99_ms:.0f} ms" if load else "no load"
            want = f">= {rps} req/s" + (f", p99 < {p99} ms" if p99 else "")
            lines.append((met, f"{size.label}: cold {page} {want} ({got})"))
        if basket := size.basket_pages.get("basket"):
            load = basket.load
            met = bool(load) and load.rps >= TARGET_BASKET_PAGE_RPS
            got = f"{load.rps:.0f} req/s, app {basket.app_ms:.1f} ms" if load else "no load"
            lines.append(
                (met, f"{size.label}: basket page, 3 personalised lines >= 400 req/s ({got})")
            )
        for page, result in size.pages.items():
            load = result.load
            met = bool(load) and load.rps >= TARGET_CACHED_RPS
            got = f"{load.rps:.0f} req/s" if load else "no load"
            lines.append((met, f"{size.label}: cached {page} >= {TARGET_CACHED_RPS} req/s ({got})"))
    return lines


# --- growth: the funnel's events (issue 21) ------------------------------------------------

GROWTH_KEY = "mv:growth:events:bench"
GROWTH_TARGET_CACHED_RPS = 1000
GROWTH_PAGES = ("category", "product", "basket")  # cached, cached (a funnel step), uncached
BROWSER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)


@dataclass
class GrowthResult:
    loads: dict[str, dict[str, PageResult]] = field(default_factory=dict)  # "on"/"off" -> page
    queued: int = 0  # events the web processes pushed to Redis during the "on" loads
    load_seconds: float = 0.0
    absorbed: int = 0  # events the drain stored
    absorb_seconds: float = 0.0

    @property
    def queued_per_s(self) -> float:
        return self.queued / self.load_seconds if self.load_seconds else 0.0

    @property
    def absorb_per_s(self) -> float:
        return self.absorbed / self.absorb_seconds if self.absorb_seconds else 0.0


def growth_events_queue(redis_url: str, count: int) -> None:
    """`count` events as the middleware buffers them (a visit with its landing, then product
    views and the rest, 1,000 visitors), pushed to the bench's events list in batches."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete(GROWTH_KEY)
    now = time.time() - 3600
    steps = ("product_view", "add_to_basket", "checkout_started", "payment_page", "order_paid")
    landing = {
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "spring",
        "referrer_host": "mail.example.org",
        "landing_path": "/catalogue/",
        "device": "mobile",
    }
    batch = []
    for i in range(count):
        visitor = f"bench{i % 1000:017d}"
        if i < 1000:
            item = {"k": "e", "v": visitor, "s": "visit", "t": now + i / 1000, "l": landing}
        else:
            step = steps[(i // 1000) % len(steps)]
            item = {"k": "e", "v": visitor, "s": step, "t": now + i / 1000, "p": "/catalogue/x/"}
        batch.append(json.dumps(item, separators=(",", ":")))
        if len(batch) == 10000:
            client.rpush(GROWTH_KEY, *batch)
            batch = []
    if batch:
        client.rpush(GROWTH_KEY, *batch)


def measure_growth(args, env: dict[str, str], wrk: str | None, paths: dict[str, str]):
    """Step 8: the cost of writing funnel events, and what the pipeline absorbs."""
    import redis
    from django.conf import settings
    from django.db import connections

    result = GrowthResult()
    client = redis.Redis.from_url(args.redis_url)
    # A visit under way (mv_visit): the product page records a product view on every request,
    # the category page only keeps the visit going (no event), the basket page likewise.
    cookie = "mv_consent=analytics; mv_vid=BenchVisitor0000000000; mv_visit=1"
    headers = {"User-Agent": BROWSER_AGENT, "Cookie": cookie}
    print("  funnel events: a browser that accepted analytics, events off, then on:")
    for mode in ("off", "on"):
        connections.close_all()
        flush_cache(args.redis_url)
        server_env = {
            **env,
            "GROWTH_EVENTS": "true" if mode == "on" else "false",
            "GROWTH_EVENTS_KEY": GROWTH_KEY,
        }
        server = Gunicorn(env=server_env, workers=args.workers, log_name=f"gunicorn-events-{mode}")
        server.start()
        started = time.monotonic()
        try:
            result.loads[mode] = {
                page: _load_page(
                    server.port,
                    page,
                    paths[page],
                    args=args,
                    wrk=wrk,
                    headers=headers,
                    label=f"events {mode}",
                )
                for page in GROWTH_PAGES
            }
        finally:
            server.stop()  # a clean stop: each worker pushes what it still holds
        if mode == "on":
            result.load_seconds = time.monotonic() - started
            result.queued = client.llen(GROWTH_KEY)
    growth_events_queue(args.redis_url, args.growth_events)
    settings.GROWTH_EVENTS_KEY = GROWTH_KEY
    settings.GROWTH_EVENTS_REDIS_URL = args.redis_url
    from shop.growth.services import events_drain

    began = time.perf_counter()
    drained = events_drain()
    result.absorb_seconds = time.perf_counter() - began
    result.absorbed = drained.events
    return result


def print_growth(result) -> list[tuple[bool, str]]:
    print()
    print("Funnel events (issue 21): the same requests with events off and on")
    print(f"{'page':<10}{'off req/s':>11}{'on req/s':>10}{'cost':>8}{'off p99':>9}{'on p99':>8}")
    for page in GROWTH_PAGES:
        off = result.loads.get("off", {}).get(page)
        on = result.loads.get("on", {}).get(page)
        if not (off and on and off.load and on.load):
            print(f"{page:<10} not loaded ({(off and off.problem) or (on and on.problem)})")
            continue
        cost = (1 - on.load.rps / off.load.rps) * 100 if off.load.rps else 0.0
        print(
            f"{page:<10}{off.load.rps:>11.1f}{on.load.rps:>10.1f}{cost:>7.1f}%"
            f"{off.load.p99_ms:>9.1f}{on.load.p99_ms:>8.1f}"
        )
    print(
        f"Events queued by the web processes during the 'on' loads: {result.queued:,}"
        f" ({result.queued_per_s:,.0f}/s: a product view on each product page request)"
    )
    print(
        f"Drain: {result.absorbed:,} events stored in {result.absorb_seconds:.2f} s"
        f" ({result.absorb_per_s:,.0f} events/s into PostgreSQL)"
    )
    lines = []
    for page in ("category", "product"):
        on = result.loads.get("on", {}).get(page)
        load = on.load if on else None
        met = bool(load) and load.rps >= GROWTH_TARGET_CACHED_RPS
        got = f"{load.rps:.0f} req/s" if load else "no load"
        lines.append(
            (met, f"cached {page} with events on >= {GROWTH_TARGET_CACHED_RPS} req/s ({got})")
        )
    print("Targets (issue 21):")
    for met, text in lines:
        print(f"  [{'met' if met else 'MISSED'}] {text}")
    return lines


def growth_only(args: argparse.Namespace, env: dict[str, str], wrk: str | None) -> int:
    """Step 8 alone, on the demo catalogue."""
    manage(("migrate", "--noinput"), ("collectstatic", "--noinput"), env=env)
    manage(("load_catalogue",), env=env)
    manage(("load_personalization",), env=env)
    setup_django(env)
    analyze_database()
    result = measure_growth(args, env, wrk, pick_paths())
    print_growth(result)
    pages = [*result.loads.get("off", {}).values(), *result.loads.get("on", {}).values()]
    return 1 if any(p.problem for p in pages) or result.absorbed != args.growth_events else 0


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=2000, help="browsable products, large size")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up load per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/marlowvale_bench"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    parser.add_argument(
        "--order-rate",
        type=float,
        default=20,
        help="orders per second placed while the pages are loaded again (0: skip)",
    )
    parser.add_argument("--keep-db", action="store_true", help="leave the bench database")
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="use the bench database a --keep-db run left (migrated, grown only if smaller)"
        " instead of making it anew; it is left in place",
    )
    parser.add_argument("--python-client", action="store_true", help="do not use wrk")
    parser.add_argument("--no-lighthouse", action="store_true", help="skip Lighthouse")
    parser.add_argument(
        "--products-xl",
        type=int,
        default=20000,
        help="browsable products, extra-large size (cold pages and basket; 0: skip)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="no demo size, Lighthouse, orders or checkout: the cached category and search,"
        " the cold rows and the basket page at --products (and --products-xl)",
    )
    parser.add_argument(
        "--growth-events",
        type=int,
        default=100_000,
        help="events queued for the funnel drain's absorb rate",
    )
    parser.add_argument(
        "--no-growth", action="store_true", help="skip the funnel events step (issue 21)"
    )
    parser.add_argument(
        "--growth-only",
        action="store_true",
        help="only the funnel events step, on the demo catalogue",
    )
    parser.add_argument(
        "--checkout-only",
        action="store_true",
        help="only the checkout's steps at the demo size (about a minute)",
    )
    return parser.parse_args(argv)


def checkout_only(args: argparse.Namespace, env: dict[str, str]) -> int:
    """The checkout's in-process figures alone (step 3's last part), at the demo size."""
    manage(("migrate", "--noinput"), ("collectstatic", "--noinput"), env=env)
    manage(("load_catalogue",), env=env)
    manage(("load_personalization",), env=env)
    setup_django(env)
    analyze_database()
    results = measure_checkout()
    print(f"{'checkout step':<16}{'p50 ms':>9}{'Stripe ms':>11}{'queries':>9}")
    for step, r in results.items():
        print(
            f"{step:<16}{r['p50_ms']:>9.1f}{r['stripe_ms']:>11.1f}{r['queries']:>9}  {r['problem']}"
        )
    return 1 if any(r["problem"] for r in results.values()) else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    check_loopback(args.database_url, "the bench database")
    check_loopback(args.redis_url, "Redis")
    database_name(args.database_url)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up below
    env = {**os.environ, **bench_environment(args)}
    wrk = None if args.python_client else find_wrk(allow_install=True)
    client = (
        f"wrk -t{args.threads} -c{args.connections}"
        if wrk
        else f"Python threads, {args.connections} connections"
    )
    print(f"Benchmark set-up (logs in {BENCH_DIR}); load client: {client}")
    created = False

    def stamp() -> str:
        return f"[{time.monotonic() - started:3.0f} s]"

    try:
        flush_cache(args.redis_url)
        reuse = args.reuse_db and database_exists(args.database_url)
        if not reuse:
            recreate_database(args.database_url)
            created = True
        if args.checkout_only:
            return checkout_only(args, env)
        if args.growth_only:
            return growth_only(args, env, wrk)
        print(f"  {stamp()} migrate, collectstatic")
        manage(("migrate", "--noinput"), ("collectstatic", "--noinput"), env=env)  # in parallel
        if reuse:
            print(f"  {stamp()} reusing the catalogue of {database_name(args.database_url)}")
        else:
            print(f"  {stamp()} manage.py load_catalogue, generate_product_images (demo catalogue)")
            manage(("load_catalogue",), env=env)
            manage(("load_personalization",), env=env)
            manage(("generate_product_images",), env=env)
        setup_django(env)
        paths = pick_paths()
        personalization_cost = personalization_query_cost(paths["product"])
        sizes = []
        steps = [("demo", 0)] if not args.quick else []
        steps.append(("large", args.products))
        if args.products_xl > args.products:
            steps.append(("xl", args.products_xl))
        for step, target in steps:
            if step != "demo":
                print(f"  {stamp()} generating the catalogue up to {target:,} products")
                grow_catalogue(target=target)
            analyze_database()
            browsable, rows, stock = catalogue_size()
            size = SizeResult(f"{browsable:,} products", browsable, rows, stock)
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"{stamp()} serving {size.label} ({rows:,} product rows); load average {load}:")
            lighthouse = step == "demo" and not args.no_lighthouse
            measure(
                size,
                paths,
                args=args,
                env=env,
                wrk=wrk,
                lighthouse=lighthouse,
                with_orders=step == "large" and not args.quick,
            )
            sizes.append(size)
        growth = None
        if not args.no_growth:
            print(f"{stamp()} funnel events at {sizes[-1].label}:")
            growth = measure_growth(args, env, wrk, paths)
        ok = report(sizes, args=args, client=client, elapsed=time.monotonic() - started)
        if growth is not None:
            print_growth(growth)
        with_offers, without = personalization_cost
        print(
            f"Product page with personalization: {with_offers} queries, without: {without} "
            f"(+{with_offers - without}; the budget is +2)"
        )
        ok = ok and with_offers - without <= 2
        (BENCH_DIR / "results.json").write_text(
            json.dumps([asdict(size) for size in sizes], indent=1)
        )
        return 0 if ok else 1
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if created and not args.keep_db:
            drop_database(args.database_url)


if __name__ == "__main__":
    sys.exit(main())
