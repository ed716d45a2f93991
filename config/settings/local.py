"""Local demo: `make run`. SQLite in var/ unless DATABASE_URL says otherwise."""

import os

os.environ.setdefault("SECRET_KEY", "local-only-insecure-key-never-used-in-production")
os.environ.setdefault("DEBUG", "true")

from .base import *  # noqa: E402,F403

VAR_DIR.mkdir(exist_ok=True)  # noqa: F405  (the SQLite file and media live here)
