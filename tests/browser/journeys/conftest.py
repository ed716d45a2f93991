"""Journeys: the store as `make run` serves it, walked in Chromium as its users walk it.

The session-scoped `store` starts `manage.py run_store` (the `make run` command) in a child
process on a fresh PostgreSQL database of its own, with its own Redis database and Celery
queue, mail written to files and media in a temporary folder. Nothing here reaches into the
store's database or calls its services: users register, log in and buy through the pages.
At the end the store gets SIGINT (as Ctrl-C gives it) and must leave no process behind.

`store_page` is a Playwright page that fails its test if any response was a 5xx, or the
store's log (runserver, worker, beat) shows a 5xx or a traceback meanwhile;
`new_store_page()` opens another one in a fresh browser context (a second user).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from shop.payments.localstripe import free_port
from tests.conftest import EMAIL_END

ROOT = Path(__file__).resolve().parents[3]
PG = "postgres://postgres@127.0.0.1:5432"
START_TIMEOUT_S = 180
TIMEOUT_MS = 20_000

# What the test settings and pytest put into os.environ (config/settings/test.py sets
# DATABASE_URL, REDIS_URL, SECRET_KEY, CELERY_TASK_DEFAULT_QUEUE): never for the child.
_STRIPPED_PREFIXES = ("DJANGO_", "STRIPE_", "CELERY_", "EMAIL_", "PYTEST_", "AXES_")
_STRIPPED = {
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "TEST_DATABASE_NAME",
    "MEDIA_ROOT",
    "TAKEBACK_PRIVATE_ROOT",
    "DEBUG",
    "ALLOWED_HOSTS",
    "PORT",
    "HOST",
}
STAFF_LOGIN_LINE = re.compile(r"Staff login created: (\S+) / (\S+)")


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            # One store for every journey: under `pytest -n` (make test) they share a worker.
            item.add_marker(pytest.mark.xdist_group("journeys"))


@dataclass
class Store:
    base_url: str
    mail_dir: Path
    staff_email: str
    staff_password: str
    log_path: Path
    env: dict[str, str]
    proc: subprocess.Popen = field(repr=False)

    def url(self, path: str) -> str:
        return self.base_url + path

    def log_tail(self, lines: int = 80) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def emails(self) -> list[str]:
        """Messages finished in mail_dir (Django's file backend ends each with 79 dashes)."""
        messages = []
        for path in sorted(self.mail_dir.glob("*.log")):
            text = path.read_text(errors="replace")
            messages += [m for m in text.split(EMAIL_END)[:-1] if m.strip()]
        return messages

    def wait_for_email(self, *, to: str, subject: str, timeout: float = 60.0) -> str:
        """The first message to `to` whose Subject contains `subject`, polling mail_dir."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.emails():
                head = message.split("\n\n", 1)[0]
                if re.search(rf"^To: .*{re.escape(to)}", head, re.M | re.I) and re.search(
                    rf"^Subject: .*{re.escape(subject)}", head, re.M | re.I
                ):
                    return message
            time.sleep(0.5)
        subjects = [
            line
            for m in self.emails()
            for line in m.splitlines()
            if line.startswith(("To:", "Subject:"))
        ]
        pytest.fail(
            f"no email to {to} with subject containing {subject!r} within {timeout}s; "
            f"mail_dir has: {subjects}\n--- store log ---\n{self.log_tail()}"
        )


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", f"{PG}/postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql],
        check=True,
        capture_output=True,
        text=True,
    )


def _child_env(*, database: str, tmp: Path, token: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in _STRIPPED and not name.startswith(_STRIPPED_PREFIXES)
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": f"{PG}/{database}",
            "REDIS_URL": "redis://127.0.0.1:6379/14",
            "CELERY_TASK_DEFAULT_QUEUE": f"journey-{os.getpid()}",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(tmp / "mail"),
            "MEDIA_ROOT": str(tmp / "media"),
            "TAKEBACK_PRIVATE_ROOT": str(tmp / "private"),
            # The growth journey: a basket is abandoned after 30 s (longer than its paid
            # checkout takes on a loaded machine: at 5 s the wallet's basket was emailed while
            # the shopper was still paying for it), beat looks every 3 s, and the funnel's
            # events reach the database every 3 s.
            "LIFECYCLE_ABANDONED_AFTER_SECONDS": "30",
            "LIFECYCLE_ABANDONED_SWEEP_SECONDS": "3",
            "GROWTH_DRAIN_SECONDS": "3",
            "PYTHONUNBUFFERED": "1",  # the log shows what happened, in order, as it happens
            # Marks every process the store starts, so none can hide from the final check.
            "MV_JOURNEY_TOKEN": token,
        }
    )
    return env


def _processes_with_token(token: str) -> dict[int, str]:
    """Live processes whose environment carries `token` (a /proc scan, no psutil)."""
    needle = f"MV_JOURNEY_TOKEN={token}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if state == "Z":  # a zombie has exited; its parent just has not reaped it yet
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        found[int(entry.name)] = cmdline.strip()
    return found


def _answers(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None


def _set_staff_password(env: dict[str, str], email: str) -> str:
    """Fallback when the console did not show the password (the account existed)."""
    password = "journey-" + uuid.uuid4().hex[:12]
    script = (
        "from django.contrib.auth import get_user_model as g;"
        f"u = g().objects.get(email={email!r}); u.set_password({password!r}); u.save()"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return password


@pytest.fixture(scope="session")
def store(tmp_path_factory) -> Iterator[Store]:
    tmp = tmp_path_factory.mktemp("journey-store")
    for name in ("mail", "media", "private"):
        (tmp / name).mkdir()
    database = f"journey_{os.getpid()}"
    token = uuid.uuid4().hex
    env = _child_env(database=database, tmp=tmp, token=token)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = tmp / "run_store.log"

    _psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    _psql(f'CREATE DATABASE "{database}"')
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "run_store", "--port", str(port), "--host", "127.0.0.1"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: our Ctrl-C never reaches it by accident
            # A shell that starts pytest in the background leaves SIGINT ignored, and children
            # inherit that: the store would shrug off the SIGINT the check at the end sends.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    store = Store(base_url, tmp / "mail", "", "", log_path, env, proc)
    try:
        started = time.monotonic()
        while _answers(base_url + "/") != 200:
            if proc.poll() is not None:
                pytest.fail(f"run_store exited with {proc.returncode}:\n{store.log_tail()}")
            if time.monotonic() - started > START_TIMEOUT_S:
                pytest.fail(
                    f"the store did not answer 200 within {START_TIMEOUT_S}s:\n{store.log_tail()}"
                )
            time.sleep(0.5)
        print(f"\nstore up in {time.monotonic() - started:.0f}s at {base_url} (log: {log_path})")
        created = STAFF_LOGIN_LINE.search(log_path.read_text())
        if created:
            store.staff_email, store.staff_password = created.groups()
        else:
            store.staff_email = "staff@marlowandvale.example"
            store.staff_password = _set_staff_password(env, store.staff_email)
        yield store
    finally:
        leftovers = _stop(proc, token)
        _psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        _drop_queue(env)
    if leftovers:
        pytest.fail(
            "processes left behind after SIGINT to run_store (killed now):\n"
            + "\n".join(f"  {pid}: {cmd}" for pid, cmd in leftovers.items())
            + f"\n--- store log ---\n{store.log_tail()}"
        )


def _stop(proc: subprocess.Popen, token: str, timeout: float = 30.0) -> dict[int, str]:
    """SIGINT to run_store as Ctrl-C gives it; then whatever still carries the token is a
    leftover: it is killed and returned."""
    started = time.monotonic()
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    exited = time.monotonic()
    # A process run_store signalled may take a moment to go once run_store is gone (the
    # shell's prompt would be back by then): a short grace, said out loud, then a leftover.
    deadline = exited + 5
    leftovers = lingering = _processes_with_token(token)
    while leftovers and time.monotonic() < deadline:
        time.sleep(0.25)
        leftovers = _processes_with_token(token)
    print(
        f"\nrun_store stopped {exited - started:.1f}s after SIGINT (exit code {proc.returncode})"
        + (f"; still running then: {sorted(lingering.values())}" if lingering else "")
    )
    if proc.poll() is None:
        leftovers.setdefault(proc.pid, "manage.py run_store (did not exit on SIGINT)")
    for pid in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if proc.poll() is None:
        proc.wait(timeout=10)
    return leftovers


def _drop_queue(env: dict[str, str]) -> None:
    """Tasks left in this run's queue (say, beat's) are of no use to anyone: drop them."""
    import redis

    queue = env["CELERY_TASK_DEFAULT_QUEUE"]
    client = redis.Redis.from_url(env["REDIS_URL"])
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


# --- pages -----------------------------------------------------------------------------


@dataclass
class PageProblems:
    server_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.on(
            "response",
            lambda r: (
                r.status >= 500
                and self.server_errors.append(f"{r.status} {r.request.method} {r.url}")
            ),
        )
        page.on("pageerror", lambda exc: self.page_errors.append(f"{page.url}: {exc}"))
        page.on(
            "console",
            lambda msg: (
                msg.type == "error" and self.console_errors.append(f"{page.url}: {msg.text}")
            ),
        )
        return page

    def report(self) -> str:
        parts = []
        for title, items in (
            ("uncaught page errors", self.page_errors),
            ("console errors", self.console_errors),
        ):
            if items:
                parts.append(f"{title}:\n  " + "\n  ".join(items))
        return "\n".join(parts)


# In the store's log (runserver, worker and beat write there): a 5xx the browser never saw
# (localstripe's webhook to the store, say) or a traceback (a task that failed in the worker).
_LOG_PROBLEM = re.compile(r'"[A-Z]+ \S+ HTTP/[\d.]+" 5\d\d |Traceback \(most recent call last\)')


def _log_problems(store: Store, offset: int) -> list[str]:
    with open(store.log_path, errors="replace") as log:
        log.seek(offset)
        lines = log.read().splitlines()
    found = []
    for i, line in enumerate(lines):
        if _LOG_PROBLEM.search(line):
            found.append("\n".join(lines[max(0, i - 2) : i + 25]))
    return found


@pytest.fixture
def new_store_page(browser: Browser, store: Store) -> Iterator[Callable[[], Page]]:
    """Open a page in a fresh browser context (its own cookies: another user)."""
    problems = PageProblems()
    log_offset = store.log_path.stat().st_size
    contexts = []
    expect.set_options(timeout=TIMEOUT_MS)

    def open_page(**context_options) -> Page:
        context = browser.new_context(
            base_url=store.base_url, accept_downloads=True, **context_options
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return problems.watch(context.new_page())

    yield open_page
    for context in contexts:
        context.close()
    if problems.report():
        print(problems.report())
    time.sleep(1)  # localstripe's webhooks arrive about a second after a payment
    in_log = _log_problems(store, log_offset)
    if problems.server_errors or in_log:
        pytest.fail(
            "the store failed (5xx seen by the browser, or errors in its log):\n  "
            + "\n  ".join(problems.server_errors)
            + (f"\n{problems.report()}" if problems.report() else "")
            + ("\n--- errors in the store's log ---\n" + "\n...\n".join(in_log) if in_log else "")
            + f"\n--- store log ---\n{store.log_tail(60)}"
        )


@pytest.fixture
def store_page(new_store_page) -> Page:
    return new_store_page()
