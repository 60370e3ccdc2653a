# Tickets for Teams — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
NODE_STAMP := tests/js/node_modules/.installed
# Where tests/browser.py expects Debian's Chromium.
CHROMIUM := /usr/bin/chromium
RUNTIME_LOCK := requirements/runtime.lock
DEV_LOCK := requirements/dev.lock
# Every package comes from a hashed lock; the project itself is installed without resolving
# (setuptools' notice that an editable install is editable is all it would print).
PIP_LOCKED := $(PY) -m pip install -q --require-hashes --no-deps -r
PIP_PROJECT := PYTHONWARNINGS="ignore:Editable installation" \
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .

.PHONY: run test prerequisites lint typecheck pytest migrate sandbox manifest playground bench soak clean \
	lock lockcheck audit

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# A dependency added to pyproject.toml without `make lock` stops here with one line.
lockcheck: | $(PY)
	@$(PY) requirements/lock.py check

$(STAMP): $(RUNTIME_LOCK) pyproject.toml | lockcheck $(PY)
	$(PIP_LOCKED) $(RUNTIME_LOCK)
	$(PIP_PROJECT)
	touch $@

$(DEV_STAMP): $(DEV_LOCK) pyproject.toml | lockcheck $(PY)
	$(PIP_LOCKED) $(DEV_LOCK)
	$(PIP_PROJECT)
	touch $(STAMP) $@

## lock: regenerate requirements/*.lock (hashed) after changing dependencies in pyproject.toml
lock: | $(PY)
	@test -x $(VENV)/bin/uv || $(PIP_LOCKED) $(DEV_LOCK)
	$(PY) requirements/lock.py compile

## audit: check every locked package against PyPI's advisories (needs network; --strict: a
## package that could not be checked fails the audit instead of passing silently)
audit: lockcheck $(DEV_STAMP)
	$(VENV)/bin/pip-audit --strict --disable-pip --require-hashes -r $(RUNTIME_LOCK) -r $(DEV_LOCK)

$(NODE_STAMP): tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## run: create .venv, install, migrate and serve on 127.0.0.1:3978 (embedded PostgreSQL + Chatwoot sandbox)
run: $(STAMP)
	$(VENV)/bin/tickets serve

migrate: $(STAMP)
	$(VENV)/bin/tickets migrate

sandbox: $(STAMP)
	$(VENV)/bin/tickets sandbox

manifest: $(STAMP)
	$(VENV)/bin/tickets manifest

## playground: the service plus the Microsoft 365 Agents Playground (a local Teams emulator)
playground: $(DEV_STAMP) $(NODE_STAMP)
	$(PY) -m tickets.playground

## test: install what the tests need (Debian's chromium when root), lint, type-check, every test
test: prerequisites lint typecheck pytest

# The browser tests drive Debian's Chromium; as root with apt it is installed here, otherwise
# make stops at once with one line saying what to install.
prerequisites:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "make test: installing Debian's chromium for the browser tests (apt-get)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-dejavu-core >/dev/null; \
	  else \
	    echo "make test needs Debian's chromium at $(CHROMIUM):" \
	      "sudo apt-get install chromium fonts-dejavu-core" >&2; exit 1; \
	  fi; \
	fi
	@command -v npm >/dev/null || { echo "make test needs Node.js 20+ with npm" \
	  "(the card, manifest and Playground tools in tests/js): install nodejs and npm" >&2; exit 1; }

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(DEV_STAMP)
	$(VENV)/bin/mypy

pytest: $(DEV_STAMP) $(NODE_STAMP)
	$(PY) -m pytest

## bench: every benchmark against the real service (under 10 minutes); writes bench/results.json
bench: $(DEV_STAMP) $(NODE_STAMP)
	$(PY) -m bench

## soak: the 10-minute soak and chaos run (200 employees, faults), ending with its audit table
soak: $(DEV_STAMP) $(NODE_STAMP)
	SOAK_SECONDS=600 SOAK_SANDBOX_BEHAVIOURS=$${SOAK_SANDBOX_BEHAVIOURS:-realistic} $(PY) -m pytest tests/soak -m soak -p no:cacheprovider

clean:
	rm -rf $(VENV) tests/js/node_modules .pytest_cache .mypy_cache .ruff_cache
