# Fresh machine: `make demo` (embedded SQLite) and `make test` (the whole suite, PostgreSQL too).
# Every install comes from uv.lock: exact versions with hashes, resolved on PyPI. `make upgrade`
# moves every dependency to its newest release, `make lock` only follows a pyproject.toml
# change; commit the new uv.lock once `make test` passes with it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# uv itself, pinned, in a venv of its own (bootstrapped with pip from PyPI when missing).
UV_VERSION := 0.13.9
UV_HOME := .uv
UV := $(UV_HOME)/bin/uv
UV_STAMP := $(UV_HOME)/.uv-$(UV_VERSION)
# uv reads no pip configuration, so it resolves and installs from PyPI as a fresh machine does;
# it uses $(PYTHON) and never downloads an interpreter.
UV_RUN := UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON=$(PYTHON) UV_PYTHON_DOWNLOADS=never $(UV)

.PHONY: setup lock upgrade demo test lint clean

setup: $(VENV)/.installed

# Named after the version, so changing UV_VERSION installs that release.
$(UV_STAMP):
	rm -rf $(UV_HOME)
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/pip install -q uv==$(UV_VERSION)
	touch $@

# --locked: a uv.lock that no longer matches pyproject.toml is an error, never re-resolved here.
$(VENV)/.installed: pyproject.toml uv.lock | $(UV_STAMP)
	$(UV_RUN) sync --locked --all-extras
	touch $@

lock: | $(UV_STAMP)
	$(UV_RUN) lock

upgrade: | $(UV_STAMP)
	$(UV_RUN) lock --upgrade

demo: setup
	VENV=$(VENV) scripts/demo

test: setup
	VENV=$(VENV) scripts/run-tests

lint: setup
	$(BIN)/ruff check src migrations tests bench scripts
	$(BIN)/ruff format --check src migrations tests bench scripts
	$(BIN)/mypy --strict src/orderctl migrations

clean:
	rm -rf $(VENV) $(UV_HOME) .pytest_cache .mypy_cache .ruff_cache
