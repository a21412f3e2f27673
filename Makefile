# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
# Locally the test database is kept between runs; CI builds it afresh.
DB_REUSE := $(if $(filter true,$(CI)),--create-db,--reuse-db)
PYTEST_ARGS ?=

.PHONY: run test lint browser clean

$(VENV)/.runtime: requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# axe-core, injected into pages by the accessibility tests.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

run: $(VENV)/.runtime
	$(PY) -m conference.devserver

# bandit checks the code that ships (pyproject.toml leaves tests out) and fails on medium or high findings.
lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit -c pyproject.toml -r . --severity-level medium -q

# Browser tests drive Debian's Chromium; Playwright cannot download its own here.
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "Browser tests need Chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

test: lint browser node_modules/.installed
	$(PY) -m tests.services -- $(VENV)/bin/pytest -n 2 --dist loadgroup $(DB_REUSE) $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules staticfiles db.sqlite3
