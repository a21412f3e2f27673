# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
# Locally the test database is kept between runs; CI builds it afresh.
DB_REUSE := $(if $(filter true,$(CI)),--create-db,--reuse-db)
PYTEST_ARGS ?=

.PHONY: run test quick lint browser gettext messages clean

# Message catalogues: `make messages` brings locale/*/LC_MESSAGES/django.po up to date with
# the code; the .mo files the site loads are compiled from them (and never committed)
# before the tests and `make run`.
PO := $(wildcard locale/*/LC_MESSAGES/django.po)
MO := $(PO:.po=.mo)

$(VENV)/.runtime: requirements.txt
	@test -d $(VENV) || $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { \
	  echo "The project needs Python 3.11; '$(PYTHON)' is $$($(PYTHON) --version 2>&1 || echo missing)." \
	       "Install python3.11 and run: make PYTHON=python3.11 ..." >&2; exit 1; }
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

run: $(VENV)/.runtime $(MO)
	$(PY) -m conference.devserver

messages: $(VENV)/.runtime gettext
	DEBUG=true $(PY) manage.py makemessages --no-location $(foreach po,$(PO),--locale=$(word 2,$(subst /, ,$(po))))

# --check: each translation keeps the placeholders of its original.
locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po | gettext
	msgfmt --check --output-file=$@ $<

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

# makemessages and compiling the catalogues need GNU gettext (msgfmt, xgettext, msgmerge).
gettext:
	@command -v msgfmt >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q gettext; \
	  else echo "Message catalogues need GNU gettext: sudo apt-get install gettext" >&2; exit 1; fi; }

test: lint browser gettext node_modules/.installed $(MO)
	$(PY) -m tests.services -- $(VENV)/bin/pytest -n 2 --dist loadgroup $(DB_REUSE) $(PYTEST_ARGS)

# The inner loop: every test but the slow ones (browser, gunicorn, Celery workers, failover,
# bursts), no lint. `make test` still runs everything.
quick: $(VENV)/.dev $(MO)
	$(PY) -m tests.services -- $(VENV)/bin/pytest -n 2 --reuse-db -m "not slow" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules staticfiles db.sqlite3 $(MO)
