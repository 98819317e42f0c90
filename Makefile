# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PG_BIN := /usr/lib/postgresql/15/bin
PYTEST_ARGS ?=

.PHONY: run test test-sqlite test-postgres bench lint db venv system-deps help

help:
	@echo "make run    virtualenv, migrations, demo data, server on http://127.0.0.1:8000"
	@echo "make test   the whole suite on SQLite, then on a throwaway PostgreSQL 15"
	@echo "make bench  the benchmarks (results in bench/RESULTS.md)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# Idempotent: the communes and the demo are loaded once; a second run changes nothing.
db: venv
	$(PY) -m plateforme migrate
	$(PY) -m plateforme import-communes
	$(PY) -m plateforme seed-demo

run: db
	$(PY) -m plateforme serve

# PostgreSQL 15 for the second test run, Chromium for the browser tests.
system-deps:
	@missing=""; \
	[ -x $(PG_BIN)/initdb ] || missing="$$missing postgresql-15"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

test: venv system-deps
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: venv
	@echo "=== Test suite on SQLite ==="
	$(PY) -m pytest $(PYTEST_ARGS)

test-postgres: venv
	@echo "=== Test suite on PostgreSQL 15 ==="
	@dir=$$(mktemp -d /tmp/rdv-pg.XXXXXX); \
	url=$$(scripts/postgres-test.sh start $$dir) || { scripts/postgres-test.sh stop $$dir; exit 1; }; \
	TEST_DATABASE_URL=$$url $(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	scripts/postgres-test.sh stop $$dir; exit $$status

bench: venv
	$(PY) -m bench

lint: venv
	$(VENV)/bin/ruff check plateforme sites rdv file_attente bornes notifications tests bench
	$(VENV)/bin/ruff format --check plateforme sites rdv file_attente bornes notifications tests bench
	$(VENV)/bin/mypy plateforme sites rdv file_attente bornes notifications
