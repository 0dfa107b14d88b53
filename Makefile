# Two commands on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
# The receiver kit (receiver/) is tested in its own virtualenv, without the server in it.
RECEIVER_VENV  ?= receiver/.venv
RECEIVER_BIN   := $(RECEIVER_VENV)/bin
RECEIVER_STAMP := $(RECEIVER_VENV)/.installed
RECEIVER_SRC   := $(shell find receiver/src -type f \( -name '*.py' -o -name py.typed \))

.PHONY: serve test lint typecheck unit bench clean receiver-test

# The server's venv also has the receiver kit: the integration suite checks real deliveries with it.
$(STAMP): pyproject.toml receiver/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./receiver
	touch $(STAMP)

# A real (not editable) install, so that what `pip install ./receiver` ships is what is tested;
# reinstalled whenever a source file changes (the version number does not).
$(RECEIVER_STAMP): receiver/pyproject.toml $(RECEIVER_SRC)
	$(PYTHON) -m venv $(RECEIVER_VENV)
	$(RECEIVER_BIN)/python -m pip install --quiet --upgrade pip
	$(RECEIVER_BIN)/python -m pip install --quiet './receiver[test]'
	$(RECEIVER_BIN)/python -m pip install --quiet --no-deps --force-reinstall ./receiver
	touch $(RECEIVER_STAMP)

## Install, then run the API and the delivery worker on ./data/sendout.db
serve: $(STAMP)
	$(BIN)/sendout serve

## Install, then run everything CI runs: ruff, mypy (strict), the whole pytest suite
## (one pytest process per core, at most 4: docs/decisions/0010-tests-on-every-core.md)
test: $(STAMP) lint typecheck receiver-test
	$(BIN)/pytest -n auto --maxprocesses=4

## The receiver kit alone, in receiver/.venv: ruff, mypy (strict) and its tests
receiver-test: $(RECEIVER_STAMP)
	cd receiver && $(abspath $(RECEIVER_BIN))/ruff check . && $(abspath $(RECEIVER_BIN))/ruff format --check .
	cd receiver && $(abspath $(RECEIVER_BIN))/mypy
	cd receiver && SENDOUT_RECEIVER_ISOLATED=1 $(abspath $(RECEIVER_BIN))/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

## Install the bench extra (matplotlib), then measure issue #14's targets: a table and bench/targets.png
bench: $(BENCH_STAMP)
	$(BIN)/python bench/targets.py $(BENCH_ARGS)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]' -e ./receiver
	touch $(BENCH_STAMP)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
	rm -rf $(RECEIVER_VENV) receiver/build receiver/src/*.egg-info
