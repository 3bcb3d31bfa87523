# Everything bootstraps itself: a fresh machine needs only Python 3.11+ and pip.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lint test demo bench bench-smoke clean chaos

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check --no-cache reelgate orchestrator notion_sync storage migrations tests bench
	$(BIN)/ruff format --no-cache --check reelgate orchestrator notion_sync storage migrations tests bench
	$(BIN)/mypy

# The suite mostly waits on loopback servers and pollers: 4 workers on 2 cores
# halve the wall time. `make test PYTEST_ARGS=` runs it serially.
PYTEST_ARGS ?= -n 4 --durations=10

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/reelgate demo

bench: $(STAMP)
	$(BIN)/python -m bench

# Each daemon benchmark in --quick mode: the rig still works (counts, no timing).
bench-smoke: $(STAMP)
	$(BIN)/pytest -n 2 -m bench tests/integration/test_bench_smoke.py

clean:
	rm -rf $(VENV) reelgate-data .pytest_cache .mypy_cache .ruff_cache

# The long reliability proofs (issue 10): at least 20 SIGKILLs on PostgreSQL with the
# google provider against the fake Vertex server. Prints the figures docs quote.
chaos: $(STAMP)
	$(BIN)/pytest -n 0 -p no:randomly -s -m chaos tests/acceptance/test_chaos_kill.py
