# Two entry points: `make run` (install, initialise, serve) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := uv==0.13.9

.PHONY: install run test lint typecheck imports bench lock clean pycanon

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

# htmx for the portal (issue 17): the npm package's file, pinned by version and by the tarball's
# SHA-256, committed with its licence so the app serves it without network (never from a CDN).
HTMX_VERSION := 2.0.11
HTMX_TARBALL_SHA256 := 165a2655073e9e6e55e307a7c74e8ebcdb76afb7701f9c16cfd106a13add408e
HTMX_DIR := src/clearguard/portal/static/htmx

.PHONY: htmx
htmx:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	curl -sfL -o "$$tmp/htmx.tgz" https://registry.npmjs.org/htmx.org/-/htmx.org-$(HTMX_VERSION).tgz; \
	echo "$(HTMX_TARBALL_SHA256)  $$tmp/htmx.tgz" | sha256sum -c --quiet -; \
	tar -xzf "$$tmp/htmx.tgz" -C "$$tmp" package/dist/htmx.min.js package/LICENSE; \
	mkdir -p $(HTMX_DIR); \
	cp "$$tmp/package/dist/htmx.min.js" $(HTMX_DIR)/htmx.min.js; \
	cp "$$tmp/package/LICENSE" $(HTMX_DIR)/LICENSE; \
	echo "$(HTMX_VERSION)" > $(HTMX_DIR)/VERSION; \
	(cd $(HTMX_DIR) && sha256sum htmx.min.js > SHA256); \
	echo "htmx $(HTMX_VERSION) -> $(HTMX_DIR) ($$(cut -c1-16 $(HTMX_DIR)/SHA256)...)"
