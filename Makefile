# One file drives everything: `make demo`, `make test`, `make up`, `make bench`, `make soak`.
# Each target installs what it needs (.venv from the pins, node_modules from package-lock.json, the console's
# console/node_modules from console/package-lock.json, and Debian's Chromium for the browser tests).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PROFILES ?= 100000
SCENARIO ?= all
# Three pytest workers on CI's two cores: a worker often waits (queues, leases, a browser), so two left ~30% of
# the CPU idle (measured: 402 s for the suite with 3, 89% of both cores busy).
PYTEST_WORKERS ?= 3

# The web console (console/): rebuilt only when its sources, its pins or the API's routes and models change
# (its TypeScript types are generated from the OpenAPI document: python -m shared.api).
CONSOLE_SOURCES := $(shell find console/src console/public -type f ! -name schema.d.ts 2>/dev/null) \
	console/index.html console/vite.config.ts console/tsconfig.json
API_SOURCES := $(wildcard shared/api/*.py shared/models/*.py shared/security/*.py)
# The browser tests drive Debian's Chromium (Playwright's own browser download cannot work here).
CHROMIUM := /usr/bin/chromium

.PHONY: deps lint typecheck test unit soak up demo bench mutate fmt clean console screenshots

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

deps: $(VENV)/.installed node_modules/.installed

console/node_modules/.installed: console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund --loglevel=error
	touch $@

console/dist/index.html: console/node_modules/.installed $(VENV)/.installed $(CONSOLE_SOURCES) $(API_SOURCES)
	cd console && PYTHON=$(abspath $(PY)) npm run --silent build
	touch $@

console: console/dist/index.html

$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: deps
	$(BIN)/mypy

test: deps lint typecheck console $(CHROMIUM)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --max-worker-restart 1 $(PYTEST_ARGS)

# Only the pytest part (no lint or type check), for quick iterations: make unit PYTEST_ARGS="-k host"
unit: deps
	$(BIN)/pytest $(PYTEST_ARGS)

# The lifecycle test's long profile (tests/lifecycle/): 100 sequences of 40 random steps on the real pipeline.
# `make test` runs its bounded profile.
soak: deps
	LIFECYCLE_PROFILE=soak $(BIN)/pytest tests/lifecycle -q -s $(PYTEST_ARGS)

up: deps console
	$(PY) -m local.up

demo: deps console
	$(PY) -m local.demo --profiles $(PROFILES)

# The README's console screenshots, taken by the browser test (tests/console/test_browser.py).
screenshots: deps console $(CHROMIUM)
	CONSOLE_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest tests/console/test_browser.py -q

bench: deps
	$(PY) -m bench --scenario $(SCENARIO)

# Mutation testing of the pure modules (not part of `make test`): a score per module; MODULES="emails diff"
# runs only those.  Survivors: $(PY) -m tests.mutate --survivors <module>; explained in docs/mutation-survivors.md.
mutate: deps
	nice -n 10 $(PY) -m tests.mutate $(MODULES)

fmt: deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules .mypy_cache .pytest_cache .ruff_cache .local console/node_modules console/dist
