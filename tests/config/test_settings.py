"""Production settings pass Django's deployment checks with the documented variables set."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Only what a production host would have: none of the test run's own settings.
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.production", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _deployed(**extra: str) -> dict[str, str]:
    """The variables a production host sets (see .env.example), plus `extra`."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "shop.marlowandvale.example",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        **extra,
    }


def test_check_deploy_passes_with_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **_deployed(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", ALLOWED_HOSTS="shop.example")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_a_repeated_query_is_prepared_once_per_connection():
    """PostgreSQL plans a query the app runs again and again once per connection (server-side
    parameters and prepared statements, config/settings/base.py)."""
    from django.db import connection
    from django.db.models import Value

    from shop.catalogue.models import Product

    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall()]

    def run(pk: int) -> None:
        probe = Product.objects.annotate(mv_prepared_probe=Value(1)).filter(pk=pk)
        list(probe.values_list("pk", "mv_prepared_probe"))

    def probes() -> list[str]:
        return [s for s in prepared() if "mv_prepared_probe" in s]

    run(1)
    run(2)
    assert probes() == []  # run twice: planned each time
    for pk in range(3, 9):
        run(pk)
    (statement,) = probes()  # from the sixth run on: planned once
    assert "$1" in statement  # the parameters bound by the server, not written into the SQL


def test_prepared_statements_can_be_turned_off_for_a_pooler():
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS'))",
        **_deployed(DB_PREPARED_STATEMENTS="false"),
    )
    assert result.returncode == 0, result.stderr
    assert "prepare_threshold" not in result.stdout
