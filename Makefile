# Haven: every setup step lives here, so a fresh machine needs only python3, npm and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
HOST ?= 127.0.0.1
PORT ?= 8000
EMAIL ?= coordinator@haven.test

.PHONY: help run test lint demo migrate worker beat totp lock messages browser-deps clean

help:
	@echo "make run    set up, migrate, load demo data and serve on http://$(HOST):$(PORT)"
	@echo "make test   set up and run the whole test suite"
	@echo "make lint   ruff, makemigrations --check and the import layers"
	@echo "make worker / make beat   Celery worker and scheduler (need REDIS_URL)"
	@echo "make totp EMAIL=...       current sign-in code of a demo account"

$(VENV)/.installed: pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r requirements-dev.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Browser tests drive Debian's Chromium; never a browser downloader.
browser-deps: node_modules/.installed
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Debian's Chromium: sudo apt-get install chromium"; exit 1; \
	  fi; }

messages: $(VENV)/.installed
	@command -v msgfmt >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; \
	  else echo "Translations need gettext: sudo apt-get install gettext"; exit 1; fi; }
	@$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0

# The key store first: the main database's migrations may seal content with its keys.
migrate: $(VENV)/.installed
	$(BIN)/python manage.py migrate --database=keys --noinput -v 0
	$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py createcachetable

demo: migrate
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py load_resources

run: demo messages
	@echo
	@echo "Haven is starting on http://$(HOST):$(PORT)/"
	@echo "  Staff sign-in:   http://$(HOST):$(PORT)/accounts/login/"
	@echo "  Email:           coordinator@haven.test (or one of the volunteers above)"
	@echo "  Password:        demo-password-only-for-local-use"
	@echo "  Two-step code:   in another terminal, run  make totp EMAIL=coordinator@haven.test"
	@echo "  Emails sent by the desk are written to var/mail/"
	@echo
	@# Links in the desk's emails (invitations, notices) follow the address served here.
	SITE_URL=http://$(HOST):$(PORT) $(BIN)/python manage.py runserver $(HOST):$(PORT)

totp: $(VENV)/.installed
	@$(BIN)/python manage.py demo_totp $(EMAIL)

test: $(VENV)/.installed browser-deps messages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports --no-cache

worker: $(VENV)/.installed
	$(BIN)/celery -A helpdesk worker --loglevel=INFO --concurrency=2

beat: $(VENV)/.installed
	mkdir -p var
	$(BIN)/celery -A helpdesk beat --loglevel=INFO --schedule=var/celerybeat-schedule

# Re-resolve the pinned dependencies after changing pyproject.toml: requirements.lock
# for the production image, requirements-dev.lock (the same plus test tools) for here.
lock: $(VENV)/.installed
	$(BIN)/uv pip compile --quiet pyproject.toml --generate-hashes \
	  --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --generate-hashes \
	  --python-version 3.11 -o requirements-dev.lock

clean:
	rm -rf $(VENV) node_modules staticfiles test-artifacts

# Load test against a seeded PostgreSQL (127.0.0.1:5432, database haven_bench, dropped
# and made anew) and the local Redis: `make bench` seeds 100,000 cases,
# `make bench CASES=1000000` a million, then loads each page and ends with a surge
# (200 submissions a second for a minute while 20 staff sessions browse; SURGE=no skips
# it, SURGE_ARGS="--rate 100" changes it). Results land in bench/results/.
CASES ?= 100000
SURGE ?= yes
.PHONY: bench
bench: $(VENV)/.installed
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "The benchmark needs wrk: sudo apt-get install wrk"; exit 1; fi; }
	$(BIN)/python bench/seed.py --cases $(CASES)
	$(BIN)/python bench/run.py
	@if [ "$(SURGE)" != no ]; then $(BIN)/python bench/surge.py $(SURGE_ARGS); fi

# Faults on real services (issue 7): submissions while Redis stops, a Celery worker is
# killed and PostgreSQL restarts; then every receipted case must exist, routed once.
.PHONY: chaos fuzz
chaos: $(VENV)/.installed
	$(BIN)/python bench/chaos.py $(CHAOS_ARGS)

# Hostile input at volume against a running server: no 5xx, no half-stored case.
fuzz: $(VENV)/.installed
	$(BIN)/python bench/fuzz.py $(FUZZ_ARGS)
