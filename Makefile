# Two commands on a fresh clone: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
PIP_FLAGS := --disable-pip-version-check --quiet

.PHONY: run test lint typecheck pytest migrate lock bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "MovieVerse needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip==26.3

# Stamps re-run the install whenever the dependency declarations change.
$(VENV)/.installed-run: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) -c $(LOCK) -e .
	@touch $@

# Tests cover semantic search, so the dev install has its extra (torch, CPU build).
$(VENV)/.installed-dev: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) -c $(LOCK) -e '.[dev,semantic]'
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/movieverse migrate
	$(BIN)/movieverse demo-data
	$(BIN)/movieverse up

# mypy (about 80 s on one core) runs beside pytest rather than before it: the test workers
# leave part of the two cores idle while they wait on servers and polls.
test: $(VENV)/.installed-dev lint
	@$(MAKE) --no-print-directory -j2 typecheck pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

pytest: $(VENV)/.installed-dev
	$(BIN)/pytest

migrate: $(VENV)/.installed-run
	$(BIN)/movieverse migrate

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/login.py
	$(BIN)/python bench/users_me.py
	$(BIN)/python bench/import_catalog.py
	$(BIN)/python bench/catalog_reads.py
	$(BIN)/python bench/cpu_per_request.py
	$(BIN)/python bench/discover_scale.py
	$(BIN)/python bench/read_scaling.py
	$(BIN)/python bench/relay_throughput.py
	$(BIN)/python bench/rating_writes.py
	$(BIN)/python bench/event_lag.py
	$(BIN)/python bench/overload.py
	$(BIN)/python bench/search_scale.py
	$(BIN)/python bench/search_freshness.py
	$(BIN)/python bench/ai_models.py
	$(BIN)/python bench/recommendations_latency.py
	$(BIN)/python bench/ai_scale.py

# Re-pin the whole dependency tree from a clean environment.
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install $(PIP_FLAGS) --upgrade pip==26.3
	.lockenv/bin/python -m pip install $(PIP_FLAGS) -e '.[dev,semantic]'
	.lockenv/bin/python -m pip freeze --exclude-editable | grep -v '^movieverse' > $(LOCK)
	rm -rf .lockenv

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
