"""A kept connection's health check asks the server nothing while the connection is idle and
quiet, and still finds a connection the server has closed (shop.common.postgresql)."""

import time

import pytest
from django.db import connection, connections

from shop.common.postgresql.base import DatabaseWrapper

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept():
    """A second connection to the test database, as a worker keeps one between requests."""
    other = connections.create_connection("default")
    other.settings_dict["NAME"] = connection.settings_dict["NAME"]
    other.ensure_connection()
    yield other
    other.close()


def test_the_settings_use_it():
    assert isinstance(connections["default"], DatabaseWrapper)
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    assert connection.vendor == "postgresql"


def test_an_idle_connection_is_usable_without_a_round_trip(kept, monkeypatch):
    def no_query(*args, **kwargs):
        raise AssertionError("the health check asked the server")

    monkeypatch.setattr(kept.connection, "cursor", no_query)
    assert kept.is_usable()


def test_a_connection_the_server_closed_is_not_usable_and_is_replaced(kept):
    with kept.connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while kept.is_usable() and time.monotonic() < deadline:  # the server's goodbye arriving
        time.sleep(0.01)
    assert not kept.is_usable()
    # As Django does before a request's first query: the dead connection goes, a new one comes.
    kept.health_check_done = False
    kept.close_if_health_check_failed()
    assert kept.connection is None
    with kept.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_a_closed_connection_is_not_usable(kept):
    kept.connection.close()
    assert not kept.is_usable()


def test_timestamps_are_read_by_the_compiled_loader_as_django_reads_them():
    """In UTC the connection reads timestamptz with psycopg's compiled loader: the datetimes
    Django's own loader gives (aware, tzinfo UTC), and Django's cursors keep it."""
    import datetime as dt

    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    from shop.common.postgresql.base import UTCTimestamptzLoader

    connection.ensure_connection()
    raw = connection.connection
    oid = raw.adapters.types["timestamptz"].oid
    assert raw.adapters.get_loader(oid, Format.TEXT) is UTCTimestamptzLoader
    texts = [
        "2026-12-04 03:25:40.727581+00",
        "1901-02-03 04:05:06+00",
        "2026-03-29 00:59:59.999999+00",
        "2026-10-25 01:30:00+01",
        "0044-03-15 12:00:00+00",
        "9999-12-31 23:59:59+00",
    ]
    sql = "SELECT " + ", ".join(f"'{text}'::timestamptz" for text in texts)
    with connection.cursor() as cursor:
        assert cursor.cursor.adapters.get_loader(oid, Format.TEXT) is UTCTimestamptzLoader
        cursor.execute(sql)
        fast = cursor.fetchone()
    with connection.cursor() as cursor:
        register_tzloader(dt.UTC, cursor.cursor)  # Django's own, on this cursor only
        cursor.execute(sql)
        django = cursor.fetchone()
    assert fast == django
    assert all(value.tzinfo is dt.UTC for value in fast)
    assert fast[3] == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
    assert fast[0].microsecond == 727581
