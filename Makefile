# The two commands of the README:  `make serve`  and  `make test`.
# Each does its own set-up on a fresh machine (virtualenv, Python and npm packages,
# the web build, and for tests the Node clients and Chromium).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
DATA   ?= ./data
STAMP  := $(VENV)/.installed
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) $(wildcard web/*.html web/package*.json web/build.mjs)

.PHONY: serve test setup lint web test-deps clean

serve: setup
	$(BIN)/debrief serve --host $(HOST) --port $(PORT) --data $(DATA)

test: setup test-deps lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

setup: $(STAMP) web

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

web: $(if $(wildcard web/package.json),web/dist/index.html)

web/dist/index.html: $(WEB_SOURCES)
	cd web && npm ci --no-audit --no-fund && npm run build

test-deps: $(STAMP)
	scripts/test-deps

clean:
	rm -rf $(VENV) web/dist web/node_modules tests/e2e/node/node_modules
