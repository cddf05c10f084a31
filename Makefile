# The commands README shows. `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: run test test-sqlite test-postgres lint bench install

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(FLASK) lotrack init
	$(FLASK) lotrack seed-demo --if-empty
	$(FLASK) run --host 127.0.0.1 --port 5000

# SQLite always; PostgreSQL too when LOTRACK_TEST_DATABASE_URL is set (as .ci/run does).
test: $(STAMP)
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$LOTRACK_TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "LOTRACK_TEST_DATABASE_URL not set: PostgreSQL run skipped"; fi

test-sqlite: $(STAMP)
	env -u LOTRACK_TEST_DATABASE_URL $(PY) -m pytest -n 2 $(PYTEST_ARGS)

test-postgres: $(STAMP)
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check lotrack tests wsgi.py
	$(VENV)/bin/ruff format --check lotrack tests wsgi.py
	$(VENV)/bin/lint-imports

# Figures as ratios to a floor measured in the same run (see bench/).
bench: $(STAMP)
	$(PY) bench/documents_bench.py
