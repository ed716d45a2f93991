"""`make run` as a newcomer runs it: the Makefile's own target, from this checkout, with no
DATABASE_URL (so the embedded PostgreSQL from the venv), a fresh var/ folder, localstripe and
a real worker. It must serve the home, catalogue and product pages, keep its database
connections few under a burst of requests, and on Ctrl-C stop everything it started.

Also its start-up faults: each is one line and a non-zero exit, nothing left running."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shop.payments.localstripe import free_port
from shop.storefront import embedded_db

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 300  # a fresh var/: initdb, migrations, demo catalogue and its images


def make_run_env(var_dir: Path) -> dict[str, str]:
    """The environment of someone typing `make run`: none of the test settings' variables."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DATABASE_URL",
            "DJANGO_SETTINGS_MODULE",
            "SECRET_KEY",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "EMAIL_BACKEND",
            "TEST_DATABASE_NAME",
        }
        and not key.startswith(("STRIPE_", "PYTEST_"))
    }
    env["VAR_DIR"] = str(var_dir)
    # The machine's Redis, but this run's own queue: a developer's worker takes none of it.
    env["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    env["CELERY_TASK_DEFAULT_QUEUE"] = f"make-run-check-{os.getpid()}"
    return env


def get(url: str, timeout: float = 30) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (from /proc: children of children too)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def processes_using(path: Path) -> list[str]:
    """Command lines of live processes that name `path` (a postgres on our data folder)."""
    hits = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if str(path) in cmdline:
                hits.append(f"{entry.name}: {cmdline}")
    return hits


def connections(var_dir: Path) -> int:
    """Client connections to the store's database on the embedded server right now."""
    psql = Path(embedded_db._binaries()) / "psql"
    out = subprocess.run(
        [
            str(psql),
            "-h",
            str(embedded_db.socket_dir(var_dir)),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-tAc",
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'marlowvale'"
            " AND pid <> pg_backend_pid()",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return int(out.stdout.strip())


def test_make_run_serves_the_store_on_its_embedded_database_and_stops_cleanly(tmp_path):
    var_dir = tmp_path / "var"
    port = free_port()
    log_path = tmp_path / "make-run.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    started = time.monotonic()
    make = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        env=make_run_env(var_dir),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal gives it: Ctrl-C = killpg
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                status, home = get(base + "/", timeout=5)
                if status == 200:
                    break
            except (urllib.error.URLError, OSError):
                pass
            assert make.poll() is None, f"make run ended early:\n{log_path.read_text()[-3000:]}"
            assert time.monotonic() - started < START_TIMEOUT, log_path.read_text()[-3000:]
            time.sleep(1)
        first_page = time.monotonic() - started
        print(f"make run: first page after {first_page:.1f} s on a fresh var/")
        assert "Marlow &amp; Vale" in home or "Marlow & Vale" in home

        status, catalogue = get(base + "/catalogue/")
        assert status == 200
        product_paths = re.findall(r'href="(/catalogue/[\w-]+_\d+/)"', catalogue)
        assert product_paths, "the catalogue lists no product"
        status, product = get(base + product_paths[0])
        assert status == 200 and "Add to basket" in product

        # Staff, with the login `make run` printed, open every business report on it.
        password = re.search(r"Staff login created: (\S+) / (\S+)", log_path.read_text())
        assert password, "make run printed no staff login"
        staff = StaffSession(base)
        staff.login(password.group(1), password.group(2))
        for report in REPORTS:
            status, page = staff.get(report)
            assert status == 200, f"{report} answered {status}"
            assert 'id="id_start"' in page or "<table" in page or "<canvas" in page, report

        # A burst of requests, 8 at a time: runserver's threads must not each keep a
        # connection (CONN_MAX_AGE under runserver left 30-60 idle ones behind).
        paths = ["/", "/catalogue/", *product_paths[:6], "/basket/", "/accounts/login/"] * 8
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda path: get(base + path)[0], paths))
        failed = [
            (path, status) for path, status in zip(paths, statuses, strict=True) if status != 200
        ]
        assert not failed, f"{failed}\n{log_path.read_text()[-4000:]}"
        time.sleep(1)
        # What may stay: the worker's and beat's connections (2 worker children + beat).
        assert connections(var_dir) <= 4
    finally:
        os.killpg(make.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        try:
            make.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
        log.close()
    leftovers = processes_using(var_dir) + processes_using(Path(f"127.0.0.1:{port}"))
    assert not leftovers, f"still running after Ctrl-C: {leftovers}\n{log_path.read_text()[-2000:]}"
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "the web server still answers"
    assert "Stopping the store" in log_path.read_text()

    # A second start reuses the data: no new staff password, the catalogue as it was.
    second = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        env=make_run_env(var_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    again = time.monotonic()
    try:
        while get_status(base + "/") != 200:
            assert second.poll() is None
            assert time.monotonic() - again < 120
            time.sleep(0.5)
        print(f"make run: first page after {time.monotonic() - again:.1f} s on a second start")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        output, _ = second.communicate(timeout=60)
    assert "Staff login created" not in output
    assert not processes_using(var_dir)


REPORTS = [
    "/dashboard/business-reports/online-share/",
    "/dashboard/business-reports/customers/",
    "/dashboard/business-reports/segments/",
    "/dashboard/business-reports/production-cost/",
    "/dashboard/business-reports/lead-time/",
    "/dashboard/business-reports/imports/",
    "/dashboard/take-back/report/",
]


class StaffSession:
    """A browser's cookies and CSRF token, enough to sign in through the dashboard's form."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=60) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def login(self, email: str, password: str) -> None:
        status, form = self.get("/dashboard/login/")
        assert status == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": email, "password": password}
        ).encode()
        request = urllib.request.Request(
            self.base + "/dashboard/login/", data=body, headers={"Referer": self.base + "/"}
        )
        with self.opener.open(request, timeout=60) as response:
            assert response.status == 200
            assert "/dashboard/login/" not in response.url, "staff login refused"


def get_status(url: str) -> int | None:
    try:
        return get(url, timeout=5)[0]
    except (urllib.error.URLError, OSError):
        return None


def run_store(env: dict[str, str], port: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("CommandError")]


def test_a_taken_port_is_one_line_and_a_failure(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = run_store(make_run_env(tmp_path / "var"), port)
    assert result.returncode != 0
    assert error_lines(result) == [
        f"CommandError: port {port} on 127.0.0.1 is in use: stop what serves it, or PORT=…"
    ]
    assert not (tmp_path / "var" / "postgres").exists()  # nothing was started


def test_a_database_folder_in_use_is_one_line_and_a_failure(tmp_path):
    var_dir = tmp_path / "var"
    database = embedded_db.EmbeddedPostgres(var_dir=var_dir).start()
    try:
        result = run_store(make_run_env(var_dir), free_port())
        assert result.returncode != 0
        [line] = error_lines(result)
        assert "is in use by another `make run`" in line and str(var_dir) in line
    finally:
        database.stop()
    assert not processes_using(var_dir)


def test_an_unusable_var_folder_is_one_line_and_a_failure(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where var/ should be")
    result = run_store(make_run_env(blocker / "var"), free_port())
    assert result.returncode != 0
    [line] = error_lines(result)
    assert "cannot use" in line and str(blocker) in line


def test_a_data_folder_postgres_cannot_start_on_is_one_line_and_a_failure(tmp_path):
    var_dir = tmp_path / "var"
    data = embedded_db.data_dir(var_dir)
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("18\n")  # looks initialised, holds nothing
    result = run_store(make_run_env(var_dir), free_port())
    assert result.returncode != 0
    [line] = error_lines(result)
    assert "PostgreSQL did not start" in line
    assert not processes_using(var_dir)
