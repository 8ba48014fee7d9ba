# Two entry points: `make run` (install, initialise, serve) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := uv==0.13.9

.PHONY: install run test lint typecheck imports bench lock clean pycanon fuzz

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check $(UV)
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/clearguard init
	$(BIN)/clearguard serve

lint: install
	$(BIN)/ruff check src tests bench

typecheck: install
	$(BIN)/mypy

# The layering of DESIGN.md and the capabilities' boundaries: contracts in pyproject.toml [tool.importlinter].
imports: install
	$(BIN)/lint-imports

test: install lint typecheck imports
	$(BIN)/python -m pytest -q

# The fuzz tests with many more examples than CI's (override: make fuzz FUZZ_EXAMPLES=5000
# FUZZ_API_EXAMPLES=500, the latter per API operation);
# CLEARGUARD_FUZZ_RANDOM=1 draws new examples instead of the repeatable derandomised ones.
FUZZ_EXAMPLES ?= 500
FUZZ_API_EXAMPLES ?= 100
fuzz: install
	CLEARGUARD_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) CLEARGUARD_FUZZ_API_EXAMPLES=$(FUZZ_API_EXAMPLES) \
	  $(BIN)/python -m pytest -q -m fuzz tests/fuzz

bench: install
	$(BIN)/python bench/ingest.py

# Re-resolve the lock after changing dependency ranges in pyproject.toml.
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra dev -o requirements.lock --python-version 3.11 -q

# pyCANON, the reference the statistical releases' k and l are cross-checked against
# (tests/integration/sharing/test_anonymity_pycanon.py), pins an older numpy than the lock: a venv of its own.
PYCANON_VENV := .venv-pycanon

$(PYCANON_VENV)/.installed:
	$(PYTHON) -m venv $(PYCANON_VENV)
	$(PYCANON_VENV)/bin/python -m pip install -q --disable-pip-version-check pycanon==1.3.6 pandas==2.3.3
	touch $@

pycanon: $(PYCANON_VENV)/.installed

clean:
	rm -rf $(VENV) $(PYCANON_VENV) .mypy_cache .pytest_cache .ruff_cache
