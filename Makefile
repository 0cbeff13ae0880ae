# Two commands matter: `make run` and `make test`. Both work on a fresh clone
# with only Python 3.11: they create .venv, install, and write a local .env.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test lint format install migrate clean localenv

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Writes .env on a fresh clone; adds keys an older .env lacks (localenv.py).
localenv: | $(STAMP)
	$(BIN)/python -m hakiyetu.localenv

migrate: $(STAMP) localenv
	$(BIN)/python manage.py migrate --noinput

## make run: migrate, load demo data, start web + worker + beat + simulator
# `make run PORT=8100 SIMULATOR_PORT=8200` moves both (and the Daraja and
# callback URLs the processes use) without editing .env.
PORT ?= 8000
SIMULATOR_PORT ?= 8765
run: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py run_local --port $(PORT) --simulator-port $(SIMULATOR_PORT)

## make test: ruff, then the whole pytest suite (SQLite, or DATABASE_URL)
# Tests clear the cache between tests: without CACHE_URL they get a private
# in-memory cache, so they never wipe the file cache a running `make run` uses.
test: export CACHE_URL ?= locmemcache://
test: $(STAMP) localenv
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var .pytest_cache .ruff_cache staticfiles
