# fakeugc — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
# The embedded default run: a small synthetic platform, trained, scored and reported.
DAYS ?= 21
ACCOUNTS ?= 4000
SEED ?= 7

.PHONY: help install browser run test test-fast lint bench clean

help: ## list targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,spark]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP) ## create .venv and install the package with its pinned dependencies

browser: ## install Debian's chromium and CJK/emoji fonts for report tests (needs root)
	@if [ ! -x /usr/bin/chromium ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium fonts-wqy-zenhei fonts-noto-color-emoji >/dev/null; fi
	@/usr/bin/chromium --version

run: install ## the main job on the embedded default: generate → validate → train → register → score → report
	$(BIN)/fakeugc run --days $(DAYS) --accounts $(ACCOUNTS) --seed $(SEED)

test: install browser ## install everything and run the whole test suite
	$(BIN)/python -m pytest -q

test-fast: install ## tests without the slow, browser, spark and server ones
	$(BIN)/python -m pytest -q -m "not slow and not browser and not spark and not server"

bench: install ## run the benchmarks (heavy; figures go to docs/)
	$(BIN)/python benchmarks/features.py

clean: ## remove generated data, MLflow stores and the venv
	rm -rf $(VENV) mlflow.db mlartifacts data/raw/export_date=* data/scored/* data/reports/*

lint: install ## ruff over the package and tests
	$(BIN)/ruff check src tests benchmarks
