# One file drives everything: `make demo`, `make test`, `make up`, `make bench`.
# Each target installs what it needs (.venv from the pins, node_modules from package-lock.json).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PROFILES ?= 100000
SCENARIO ?= all
PYTEST_WORKERS ?= 2

.PHONY: deps lint typecheck test unit up demo bench fmt clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

deps: $(VENV)/.installed node_modules/.installed

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: deps
	$(BIN)/mypy

test: deps lint typecheck
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Only the pytest part (no lint or type check), for quick iterations: make unit PYTEST_ARGS="-k host"
unit: deps
	$(BIN)/pytest $(PYTEST_ARGS)

up: deps
	$(PY) -m local.up

demo: deps
	$(PY) -m local.demo --profiles $(PROFILES)

bench: deps
	$(PY) -m bench --scenario $(SCENARIO)

fmt: deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules .mypy_cache .pytest_cache .ruff_cache .local
