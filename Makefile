# Tainik: `make run` and `make test` set everything up on a fresh Debian machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_STAMP := .cache/system-packages
DEBIAN_PACKAGES := age chromium chromium-driver argon2 ffmpeg mat2 libimage-exiftool-perl pkg-config cmake g++ libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libavdevice-dev libavfilter-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
LOCALES := src/tainik/locale
PO_FILES := $(wildcard $(LOCALES)/*/LC_MESSAGES/tainik.po)
MO_FILES := $(PO_FILES:.po=.mo)

# The browser uploader bundle (committed) is rebuilt from js/package-lock.json by `make js`.
.PHONY: js
js:
	cd js && npm ci --no-audit --no-fund && npm run build

.PHONY: help setup system-packages run test lint typecheck importlint unit catalogs \
	extract-messages bench clean

help:
	@echo "make run    set up and start Tainik"
	@echo "make test   set up and run linters, type checks and the whole test suite"
	@echo "make bench  run the benchmarks under bench/ (slow; prints ratios)"

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

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

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

test: setup lint typecheck importlint unit

bench: setup
	for b in seal_open upload_nojs send newsroom_inbox vault_import triage redact; do \
		echo "== bench/$$b.py"; $(BIN)/python bench/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache $(MO_FILES)

# The command-line reference is generated from the parser (tests/cli/test_reference.py checks it).
# Phony: a folder named docs exists, and make would otherwise think the target up to date.
.PHONY: docs
docs: $(STAMP)
	$(BIN)/python -m tainik.cli.reference > docs/cli.md.tmp
	mv docs/cli.md.tmp docs/cli.md
