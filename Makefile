# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
KIOSK_PORT ?= 8501
DASHBOARD_PORT ?= 8502
HOST ?= localhost

.PHONY: run test test-clock screenshots lint bench mutate migrate seed-demo reset-demo venv clean-venv help
.PHONY: i18n i18n-check i18n-add

help:
	@echo "make run         set up, migrate, seed the demo on first run, start both apps"
	@echo "make test        run the whole test suite (random order; the tree is left clean)"
	@echo "make test-clock  the domain and app tests at 06:00, 15:55, 23:55 and on a DST Sunday"
	@echo "make screenshots the browser tests, saving the README's screenshots in docs/"
	@echo "make lint        ruff"
	@echo "make bench       benchmarks"
	@echo "make mutate      mutation testing of the rule modules (slow; see docs/known-mutants.md)"
	@echo "make reset-demo  delete everything and seed a fresh demo day"
	@echo "make i18n        translations: extract keys, update every catalog, compile the .mo files"
	@echo "make i18n-check  every key the code uses is in English; every language complete, none fuzzy"
	@echo "make i18n-add NEW_LANG=fr  start a new language (a new .po to translate, no code)"

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

# The suite must pass at any hour: the clinic's early morning, just before closing, just
# before midnight, and on the spring-forward Sunday (a day the clinic is closed) a few minutes
# before the clocks jump. Times are in the test clinic's zone, America/Chicago.
TEST_CLOCKS := 2026-06-16T06:00:00-05:00 2026-06-16T15:55:00-05:00 \
	2026-06-16T23:55:00-05:00 2026-03-08T01:55:00-06:00
test-clock: venv
	@for at in $(TEST_CLOCKS); do \
		echo "== the clock at $$at"; \
		CHECKIN_TEST_CLOCK=$$at $(BIN)/python -m pytest tests/domain tests/apps -q \
			-p no:cacheprovider || exit 1; \
	done

screenshots: venv
	CHECKIN_SCREENSHOTS=1 $(BIN)/python -m pytest tests/browser -q -p no:randomly

lint: venv
	$(BIN)/ruff check .

bench: venv
	$(BIN)/python -m bench

# Mutation testing (mutmut, configured in pyproject.toml [tool.mutmut]): mutates the rule
# modules, runs the domain tests on SQLite against each mutant, lists what was not killed and
# prints the kill rate. Results are kept in mutants/, so a rerun only retests what changed.
mutate: venv
	$(BIN)/mutmut run --max-children 2
	@$(BIN)/mutmut results
	@$(BIN)/mutmut export-cicd-stats >/dev/null
	@$(BIN)/python -c "import json; s = json.load(open('mutants/mutmut-cicd-stats.json')); \
		s['not_checked'] = s['total'] - sum(v for k, v in s.items() if k != 'total'); \
		print('kill rate: {killed} of {total} mutants killed ({p:.1f}%); survived {survived},' \
		' no tests {no_tests}, timeout {timeout}, suspicious {suspicious},' \
		' not checked {not_checked}'.format(**s, p=100 * s['killed'] / max(s['total'], 1)))"

clean-venv:
	rm -rf $(VENV)

# Translations (shared/i18n/README.md). English's messages.po is the source of truth;
# extract writes messages.pot from it (and fails on a key the code uses that English lacks),
# update brings every other language up to it, compile writes the .mo files the apps load
# (without them the apps read the .po files, a little slower to start).
I18N_DIR := shared/i18n/locales

i18n: venv
	$(BIN)/python -m shared.i18n.catalogs extract
	$(BIN)/python -m shared.i18n.catalogs update
	$(BIN)/pybabel compile --domain messages --directory $(I18N_DIR) --statistics

i18n-check: venv
	$(BIN)/python -m shared.i18n.catalogs check

i18n-add: venv
	@test -n "$(NEW_LANG)" || { echo "usage: make i18n-add NEW_LANG=fr"; exit 2; }
	$(BIN)/python -m shared.i18n.catalogs init $(NEW_LANG)
