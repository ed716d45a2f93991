import shutil
import subprocess
import time

import pytest
import redis as redis_client

from shop.payments.localstripe import free_port


class PrivateRedis:
    """A Redis server of the test's own (same binary and flags as the machine's), so that
    stopping it disturbs no other test or service."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self) -> "PrivateRedis":
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis_client.Redis.from_url(self.url, socket_timeout=0.5).ping():
                    return self
            except redis_client.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def private_redis():
    server = PrivateRedis().start()
    yield server
    server.stop()
