"""Local demo: `make run`. The embedded PostgreSQL in var/ unless DATABASE_URL says otherwise."""

import os

os.environ.setdefault("SECRET_KEY", "local-only-insecure-key-never-used-in-production")
os.environ.setdefault("DEBUG", "true")

from .base import *  # noqa: E402,F403
from .base import DATABASES, env  # noqa: E402

# runserver serves each request on a new thread, and a connection kept for CONN_MAX_AGE stays
# with its thread: a few journeys left 30-60 idle connections ("too many clients"). So the
# demo closes its connection at the end of each request (the worker and beat too: cheap here).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
