# Fresh machine: `make demo` (embedded SQLite) and `make test` (the whole suite, PostgreSQL too).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,api]'
	touch $@

demo: setup
	VENV=$(VENV) scripts/demo

test: setup
	VENV=$(VENV) scripts/run-tests

lint: setup
	$(BIN)/ruff check src migrations tests bench scripts
	$(BIN)/ruff format --check src migrations tests bench scripts
	$(BIN)/mypy --strict src/orderctl migrations

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
