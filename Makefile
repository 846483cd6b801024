# The two commands a new user needs: `make demo` and `make test`. Both set up the environment
# from uv.lock first (installing uv with pip when it is missing).
SHELL := /bin/bash
export UV_COMPILE_BYTECODE := 1
export EARSHOT_HOME ?= $(CURDIR)/.earshot
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
VENV := .venv
BENCH_ARGS ?=

.PHONY: setup demo test bench ui lint format clean

$(VENV)/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen
	@touch $@

setup: $(VENV)/.synced

demo: setup
	$(VENV)/bin/earshot demo

test: setup
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: setup
	$(VENV)/bin/python -m benchmarks $(BENCH_ARGS)

ui: setup
	$(VENV)/bin/earshot ui

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(EARSHOT_HOME) dbt_project/target dbt_project/logs
