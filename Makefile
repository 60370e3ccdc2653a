# Tickets for Teams — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
NODE_STAMP := tests/js/node_modules/.installed

.PHONY: run test lint typecheck pytest migrate sandbox manifest playground bench soak clean

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP) $@

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
	$(PY) -m bot.playground

## test: install dev tools, lint, type-check and run every test
test: lint typecheck pytest

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(DEV_STAMP)
	$(VENV)/bin/mypy

pytest: $(DEV_STAMP) $(NODE_STAMP)
	$(PY) -m pytest

## bench: every benchmark against the real service (under 10 minutes); writes bench/results.json
bench: $(DEV_STAMP) $(NODE_STAMP)
	$(PY) -m bench

## soak: the 10-minute soak and chaos run (200 employees, faults), ending with its audit table
soak: $(DEV_STAMP) $(NODE_STAMP)
	SOAK_SECONDS=600 $(PY) -m pytest tests/soak -m soak -p no:cacheprovider

clean:
	rm -rf $(VENV) tests/js/node_modules .pytest_cache .mypy_cache .ruff_cache
