# cidery: `make run` sets everything up and shows the database; `make test` checks it all.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run test lint types pytest sql clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --constraint constraints.txt --editable '.[dev]'
	touch $(STAMP)

run: $(STAMP) ## start the embedded PostgreSQL, migrate, seed, smoke-check, print the status
	$(BIN)/cidery run

test: lint types pytest ## lint, type-check and run the whole suite

lint: $(STAMP) ## ruff: lint and formatting
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

types: $(STAMP) ## mypy --strict on src/
	$(BIN)/mypy

pytest: $(STAMP) ## the test suite against a real PostgreSQL
	$(BIN)/pytest

sql: $(STAMP) ## regenerate every revision's committed SQL files
	$(BIN)/python -c "from cidery.migrations import scripts; [scripts.write_sql_files(s) for s in scripts.revisions_in_order()]"

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
