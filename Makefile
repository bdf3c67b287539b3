# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
KIOSK_PORT ?= 8501
DASHBOARD_PORT ?= 8502
HOST ?= localhost

.PHONY: run test lint bench migrate seed-demo reset-demo venv clean-venv help

help:
	@echo "make run         set up, migrate, seed the demo on first run, start both apps"
	@echo "make test        run the whole test suite"
	@echo "make lint        ruff"
	@echo "make bench       benchmarks"
	@echo "make reset-demo  delete everything and seed a fresh demo day"

# The virtual environment is (re)installed only when requirements.txt changes.
$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

venv: $(STAMP)

migrate: venv
	@$(BIN)/python -m shared.cli migrate

seed-demo: migrate
	@$(BIN)/python -m shared.cli seed-demo --if-empty

reset-demo: migrate
	@$(BIN)/python -m shared.cli reset-demo --yes

run: seed-demo
	@KIOSK_PORT=$(KIOSK_PORT) DASHBOARD_PORT=$(DASHBOARD_PORT) HOST=$(HOST) BIN=$(BIN) \
		bash scripts/run-apps.sh

test: venv
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .

bench: venv
	$(BIN)/python -m bench

clean-venv:
	rm -rf $(VENV)
