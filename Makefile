# The commands README shows. `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: run test test-sqlite test-postgres lint bench load install messages

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

# The accessibility checker the Chromium tests inject: axe-core from npm, pinned in package-lock.
AXE := tests/browser/node_modules/axe-core/axe.min.js

$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	touch $@

# SQLite always; PostgreSQL too when LOTRACK_TEST_DATABASE_URL is set (as .ci/run does).
test: $(STAMP) $(AXE)
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$LOTRACK_TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "LOTRACK_TEST_DATABASE_URL not set: PostgreSQL run skipped"; fi

# worksteal: a worker that runs out of tests takes half of the other's queue, so a long test (the
# safety state machine, about a minute and a half) does not leave one core idle at the end.
test-sqlite: $(STAMP) $(AXE)
	env -u LOTRACK_TEST_DATABASE_URL $(PY) -m pytest -n 2 --dist worksteal $(PYTEST_ARGS)

test-postgres: $(STAMP) $(AXE)
	$(PY) -m pytest -n 2 --dist worksteal $(PYTEST_ARGS)

# bandit: no high-severity finding in lotrack/. detect-secrets: no secret outside .secrets.baseline,
# whose entries are audited as not secret (demo and test passwords, error texts keyed "password",
# alphabets). The hook runs on a copy: exit 3 only means line numbers moved, not a new secret.
# A new false positive: `detect-secrets scan --baseline .secrets.baseline $(git ls-files -co
# --exclude-standard)`, then `detect-secrets audit .secrets.baseline`.
lint: $(STAMP)
	$(VENV)/bin/ruff check lotrack tests wsgi.py
	$(VENV)/bin/ruff format --check lotrack tests wsgi.py
	$(VENV)/bin/lint-imports
	$(VENV)/bin/bandit -q -r lotrack --severity-level high
	@copy=$$(mktemp) && cp .secrets.baseline $$copy && \
	  $(VENV)/bin/detect-secrets-hook --baseline $$copy $$(git ls-files -co --exclude-standard); \
	  rc=$$?; rm -f $$copy; [ $$rc -eq 0 ] || [ $$rc -eq 3 ] || { echo "detect-secrets: a new secret (above)"; exit 1; }

# The catalog after marking new messages: extracted, merged into the zh_CN .po (new entries
# empty, obsolete ones dropped); then translate the empty entries (make test fails until done).
messages: $(STAMP)
	mkdir -p instance
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k said -o instance/messages.pot . >/dev/null
	$(VENV)/bin/pybabel update -i instance/messages.pot -d lotrack/translations -l zh_CN \
	  --no-fuzzy-matching --ignore-obsolete -w 100

# Figures as ratios to a floor measured in the same run (see bench/); PostgreSQL when
# LOTRACK_DATABASE_URL is set. Writes bench/results.json and bench/results.md.
bench: $(STAMP)
	$(PY) bench/run.py

# Mixed load through gunicorn on the trial data set (LOAD_SECONDS, default 30); fails on any error.
load: $(STAMP)
	$(PY) bench/load.py mixed --seed trial
