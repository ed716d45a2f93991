"""Run localstripe (a fake Stripe API and Stripe.js) on loopback for tests and the demo.

    ls = LocalStripe().start()          # picks a free port, waits until it answers
    ls.configure_webhook(url, secret, ["payment_intent.succeeded"])
    ls.reset()                          # forget every object (DELETE /_config/data)
    ls.stop()

It is always started with --from-scratch (it would otherwise load the shared pickle in the
system temp folder), so two instances on different ports do not disturb each other. It binds
all interfaces (no option for that); we only ever talk to it on 127.0.0.1. Webhook
configuration lives in its memory: configure again after a restart.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _executable() -> str:
    beside_python = Path(sys.executable).with_name("localstripe")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("localstripe")
    if not found:
        raise RuntimeError("localstripe is not installed (pip install localstripe)")
    return found


class LocalStripe:
    def __init__(self, port: int | None = None, log_path: Path | None = None):
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def js_url(self) -> str:
        """Where its fake Stripe.js is served (use in place of https://js.stripe.com/v3/)."""
        return f"{self.base_url}/js.stripe.com/v3/"

    def start(self, timeout: float = 20.0) -> LocalStripe:
        if self.proc is not None:
            return self
        self.port = self.port or free_port()
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix=f"localstripe-{self.port}-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                [_executable(), "--port", str(self.port), "--from-scratch"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log_text = self.log_path.read_text()
                self.stop()
                raise RuntimeError(f"localstripe did not start on {self.base_url}:\n{log_text}")
            time.sleep(0.1)
        return self

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.js_url, timeout=1) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def _request(self, method: str, path: str, body: dict | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data else {},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status >= 300:
                raise RuntimeError(f"localstripe {method} {path}: HTTP {response.status}")

    def reset(self) -> None:
        """Forget every Stripe object (webhook configuration is kept)."""
        self._request("DELETE", "/_config/data")

    def configure_webhook(
        self,
        url: str,
        secret: str,
        events: list[str] | None = None,
        webhook_id: str = "marlowvale",
    ) -> None:
        """Send signed events to `url` (None = all event types). Same id = replace."""
        body: dict = {"url": url, "secret": secret}
        if events is not None:
            body["events"] = list(events)
        self._request("POST", f"/_config/webhooks/{webhook_id}", body)

    def disable_webhook(self, webhook_id: str = "marlowvale") -> None:
        """localstripe cannot delete a webhook: point it at no event types instead."""
        self._request(
            "POST",
            f"/_config/webhooks/{webhook_id}",
            {"url": "http://127.0.0.1:9/", "secret": "disabled", "events": []},
        )

    def __enter__(self) -> LocalStripe:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
