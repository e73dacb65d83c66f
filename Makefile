# Two commands do everything on a fresh machine with Python 3.11 and make:
#   make demo   sandbox + first materialization + Dagster UI (http://127.0.0.1:3000), Ctrl-C stops all
#   make test   lint + format check + import contracts + the whole test suite
# Both create .venv and install what they need the first time (and again whenever pyproject.toml changes).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: demo materialize test lint format install validate bench ui-snapshot clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	@touch $@

demo: install
	$(BIN)/ppm demo

materialize: install
	$(BIN)/ppm materialize

validate: install
	$(BIN)/dagster definitions validate -w workspace.yaml

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/pytest

# Starts a throwaway demo, saves screenshots of the Dagster UI to .logs/ui-snapshot/ (needs chromium).
ui-snapshot: install
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev,ui]'
	$(BIN)/python -m ppm_cli.ui_snapshot

bench: install
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf .lakehouse .dagster_home .logs .pytest_cache .hypothesis
