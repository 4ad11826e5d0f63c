# cidery: `make run` sets everything up and shows the database; `make test` checks it all.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run test lint types pytest sql openapi clean browser screenshots

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt package.json package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --constraint constraints.txt --editable '.[dev]'
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

# The browser tests drive Debian's Chromium (Playwright cannot download its own here).
CHROMIUM := /usr/bin/chromium
browser: ## Debian's Chromium for the browser tests: installed with apt if missing (as root)
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "the browser tests need Chromium: run 'sudo apt-get install chromium' (Debian)"; exit 1; \
	  fi; }

run: $(STAMP) ## embedded PostgreSQL, migrate, seed, smoke-check, status, then serve on :8000
	$(BIN)/cidery run

test: lint types pytest ## lint, type-check and run the whole suite

lint: $(STAMP) ## ruff: lint and formatting
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

types: $(STAMP) ## mypy --strict on src/
	$(BIN)/mypy

pytest: $(STAMP) browser ## the test suite against a real PostgreSQL, pages in Chromium
	$(BIN)/pytest

screenshots: $(STAMP) browser ## phone-size PNGs of each page into docs/screenshots/
	CIDERY_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/web/test_phone.py

sql: $(STAMP) ## regenerate every revision's committed SQL files and the press summary's SQL
	$(BIN)/python -c "from cidery.migrations import scripts; [scripts.write_sql_files(s) for s in scripts.revisions_in_order()]"
	$(BIN)/python -c "from cidery.press import report; report.write_sql()"

openapi: $(STAMP) ## regenerate openapi.json, the HTTP API's OpenAPI document
	$(BIN)/cidery types openapi openapi.json

clean: ## stop the embedded server, remove the virtualenv and data
	-$(BIN)/cidery db server stop
	rm -rf $(VENV) .cidery

.PHONY: bench bench-quick bench-api
bench: $(STAMP) ## every benchmark at S, M, L: JSON in benchmarks/results/, docs/benchmarks.md
	$(BIN)/python -m benchmarks run

bench-quick: $(STAMP) ## the benchmarks at S only, briefly (report beside its JSON)
	$(BIN)/python -m benchmarks run --quick

bench-api: $(STAMP) ## the HTTP API alone (python -m benchmarks api): its figures into docs/benchmarks.md
	$(BIN)/python -m benchmarks api
