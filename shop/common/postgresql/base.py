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

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
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
