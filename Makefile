# The two commands a fresh clone needs (see README.md):
#   make demo   set up .venv and run the main job against the local sandbox
#   make test   set up .venv and run lint, format check, type check and the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip

# Strict editable mode builds a link tree with the real package layout, so mypy and tools
# that do not run setuptools' import hooks see `socialgate` too. Re-run when files move.
$(STAMP): pyproject.toml $(BIN)/python $(shell find sdk adapters gateway -name '*.py' -newer pyproject.toml 2>/dev/null)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test,sandbox]' --config-settings editable_mode=strict
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/python examples/demo.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

bench: setup
	$(BIN)/python bench/overhead.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
