# Marlow & Vale storefront: one image for web (gunicorn), worker and beat (celery).
#   docker build -t marlowvale-shop .
#   docker run --env-file .env -p 8000:8000 marlowvale-shop
# compose.yaml runs it with PostgreSQL and Redis. The image is not built on the dev machines
# (no Docker there): keep it in step with pyproject.toml, config/settings and compose.yaml.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: a virtualenv with the runtime dependencies, pinned by requirements.lock ----
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
COPY pyproject.toml requirements.lock ./

# Only [project].dependencies (no pytest, ruff, localstripe...), every package, direct or
# transitive, held to its version in requirements.lock. The compiled ones ship manylinux
# wheels (psycopg[binary], pillow, cffi, brotli); django-haystack comes as a pure-Python sdist
# that pip builds itself. So no compiler or -dev packages are needed.
RUN python -m venv /opt/venv \
    && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.runtime.txt \
    && /opt/venv/bin/pip install --no-cache-dir -r requirements.runtime.txt -c requirements.lock

# ---- runtime ----
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="marlowvale-shop" \
      org.opencontainers.image.description="Marlow & Vale leather goods store (django-oscar)"

ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    WEB_CONCURRENCY=3

# WeasyPrint (workshop tickets and labels as PDF) loads Pango, HarfBuzz and fontconfig when it
# is imported, on the first PDF a web or worker process renders; it needs at least one font.
# Versions are left to bookworm's archive so rebuilds pick up its security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged uid/gid so volume ownership is predictable across rebuilds.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app \
       --shell /usr/sbin/nologin app

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# The code stays owned by root (read-only for the app user); only var/media and var/private
# (take-back photos, served through Django to their owner and staff) are writable.
COPY . .

# Static files are collected (and compressed, hashed by whitenoise) at build time into
# var/staticfiles. Settings need a SECRET_KEY to import: this throwaway value lives only in
# this RUN step and is never part of the image's environment. No database is touched.
RUN SECRET_KEY=collectstatic-only-not-a-secret \
    DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
    python manage.py collectstatic --noinput \
    && mkdir -p var/media var/private \
    && chown -R app:app var/media var/private

USER 10001:10001

EXPOSE 8000

# The home page over the loopback, as the TLS proxy would forward it (X-Forwarded-Proto, so
# SECURE_SSL_REDIRECT does not answer 301). It renders from the database, so a healthy
# container can also reach PostgreSQL. Needs "localhost" in ALLOWED_HOSTS (see .env.example).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import http.client, sys; c = http.client.HTTPConnection('127.0.0.1', 8000, timeout=4); c.request('GET', '/', headers={'Host': 'localhost', 'X-Forwarded-Proto': 'https'}); sys.exit(0 if c.getresponse().status == 200 else 1)"]

# gunicorn takes its worker count from WEB_CONCURRENCY (about 2 x cores + 1) and extra flags
# from GUNICORN_CMD_ARGS. Sync workers; whitenoise serves /static/ from the same process.
# --worker-tmp-dir /dev/shm keeps worker heartbeats off the (possibly slow) overlay filesystem.
# A worker is replaced after 50,000 requests or so (leaks bounded): each keeps what it has drawn
# (page frames, product cards, compiled listing statements) for as long as it lives, and
# starting one costs a second or two of CPU, so at 1,000 a busy shop spent a good part of its
# CPU on restarts and on drawing everything again.
CMD ["gunicorn", "config.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--timeout", "30", \
     "--graceful-timeout", "30", \
     "--keep-alive", "5", \
     "--max-requests", "50000", \
     "--max-requests-jitter", "5000", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-", \
     "--error-logfile", "-"]
