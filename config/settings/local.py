"""Local demo: `make run`. SQLite in var/ unless DATABASE_URL says otherwise."""

import os

os.environ.setdefault("SECRET_KEY", "local-only-insecure-key-never-used-in-production")
os.environ.setdefault("DEBUG", "true")

from .base import *  # noqa: E402,F403
