# The two commands a newcomer needs: `make run` and `make test`.
# Both build their own virtual environment (.venv) from the lock file on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test lint typecheck openapi lock demo clean check-openapi test-fast

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

## run: start the service on http://127.0.0.1:8000 with demo data (SQLite under ./var/)
run: $(STAMP)
	$(BIN)/meldplicht db upgrade
	$(BIN)/meldplicht demo --if-empty
	$(BIN)/meldplicht serve --port $(PORT)

## test: lint, types, the OpenAPI drift check and the whole suite (SQLite + PostgreSQL)
test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: $(STAMP)
	$(BIN)/python -m pytest -x -q -p no:randomly

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks alembic
	$(BIN)/ruff format --check src tests benchmarks alembic

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

openapi: $(STAMP)
	$(BIN)/meldplicht openapi

lock:
	$(BIN)/pip-compile --quiet --strip-extras --extra dev --output-file requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
