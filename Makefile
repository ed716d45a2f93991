# Marlow & Vale store. `make run` serves the demo; `make test` runs the whole suite.
SHELL := /bin/bash
# The interpreter of the venv: the distribution's python3.11 when it can make one (Debian builds
# it with profile-guided and link-time optimization, as the python:3.11 image production runs
# is built; a default pyenv build is not and costs ~15-25% more CPU per page here), else the
# first python3.11 or python3 on the PATH. A venv made by another interpreter is made again.
PYTHON_BIN ?= $(shell for p in /usr/bin/python3.11 python3.11 python3; do \
	command -v $$p >/dev/null && $$p -c 'import ensurepip, venv' 2>/dev/null \
	&& { command -v $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# make test runs the suite in this many processes (pytest-xdist), one per core here.
TEST_WORKERS ?= 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint bench venv services system-deps lock clean

$(VENV)/.installed: pyproject.toml requirements.lock
	@test -x $(PY) || { $(PYTHON_BIN) -m venv $(VENV) && echo "$(PYTHON_BIN)" > $(VENV)/.python; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	@touch $@

venv:
	@if [ -x $(PY) ] && [ "$$(cat $(VENV)/.python 2>/dev/null)" != "$(PYTHON_BIN)" ]; then \
	  echo "Making $(VENV) again with $(PYTHON_BIN)"; rm -rf $(VENV); fi
	@$(MAKE) --no-print-directory $(VENV)/.installed

# Debian packages some tests and tools need (we are root on the machine and in CI);
# wrk loads the pages of `make bench`.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	    || echo "warning: could not install$$missing"; \
	fi

# PostgreSQL and Redis run on this kind of machine; start them if they stopped.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
	@for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli ping >/dev/null 2>&1 && exit 0; sleep 1; done; echo "PostgreSQL or Redis did not come up"; exit 1

run: venv
	$(PY) manage.py run_store --port $(PORT)

test: venv services system-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadgroup

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/hadolint Dockerfile

bench: venv services system-deps node_modules/.installed
	$(PY) tests/perf/bench.py
	$(PY) tests/perf/reports_bench.py
	$(PY) tests/perf/bench_orders.py

# Lighthouse for `make bench`, pinned in package-lock.json (Node 20: lighthouse 12.2.3).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

# Re-resolve the pinned set after changing pyproject.toml.
lock:
	rm -rf /tmp/mv-lock && $(PYTHON_BIN) -m venv /tmp/mv-lock
	/tmp/mv-lock/bin/pip install --quiet --upgrade pip
	/tmp/mv-lock/bin/pip install --quiet ".[dev]"
	/tmp/mv-lock/bin/pip freeze --exclude-editable | grep -v '^marlowvale-shop' > requirements.lock

clean:
	rm -rf $(VENV) var
