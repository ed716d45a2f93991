"""Django's PostgreSQL backend, with the health check of a kept connection made without a
round trip while the connection has nothing to say.

With CONN_HEALTH_CHECKS, Django asks a connection kept from an earlier request whether it still
works before the request's first query: a ``SELECT 1`` round trip, one of a cold listing's five
and the basket page's six. An idle connection receives nothing unless the server is closing it
(a restart, an administrator's or the idle timeout's termination: the server says so, then
closes the socket) or has a notice for it. So: nothing to read on the socket, the connection
is usable without asking; something to read, Django's own check asks the server (and fails if
it closed). A connection that died silently (a network cut) is found by its first query, as it
would be by ``SELECT 1``.
"""

from __future__ import annotations

import datetime
import select

from django.db.backends.postgresql import base
from psycopg import adapters
from psycopg.adapt import Loader
from psycopg.types.datetime import TimestamptzLoader

# psycopg's own timestamptz loader, compiled (psycopg_binary); the Python one when it is not
# installed.
_COMPILED_TIMESTAMPTZ = adapters._get_optimised(TimestamptzLoader)


class UTCTimestamptzLoader(Loader):
    """Timestamps of a connection whose time zone is UTC, parsed by psycopg's compiled loader.

    Django registers a Python subclass of psycopg's Python loader, which parses each value in
    Python to set its time zone: ~10 us a value here, 13 on a basket page. In UTC the
    compiled loader gives the same datetimes (tzinfo datetime.timezone.utc). ``timezone`` is
    what Django's cursors compare with the connection's zone before registering their own."""

    timezone = datetime.UTC

    def __init__(self, oid: int, context=None):
        super().__init__(oid, context)
        self._load = _COMPILED_TIMESTAMPTZ(oid, context).load

    def load(self, data) -> datetime.datetime:
        return self._load(data)


class DatabaseWrapper(base.DatabaseWrapper):
    def init_connection_state(self) -> None:
        super().init_connection_state()  # the session's time zone set to Django's
        info = self.connection.info
        if self.timezone is datetime.UTC and info.timezone is datetime.UTC:
            self.connection.adapters.register_loader("timestamptz", UTCTimestamptzLoader)

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        try:
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
            pending = poller.poll(0)
        except (OSError, ValueError, base.Database.Error):
            return False
        return not pending or super().is_usable()
