# RearGuard. On a fresh machine: `make demo` and `make test` (they set themselves up).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
BOARD   ?=
PORT    ?=
BOARDS  := $(sort $(basename $(notdir $(wildcard boards/*.py))))
BOARDS  := $(filter-out __init__,$(BOARDS))

.PHONY: help setup demo test lint bench build deploy sync clean

help:
	@echo "make demo                        run the firmware on the virtual board"
	@echo "make test                        the whole test suite (lint, pytest, real MicroPython)"
	@echo "make bench                       figures: allocation, heap, build size, detection"
	@echo "make build BOARD=<name>          compile firmware for a board into build/<name>/"
	@echo "make deploy BOARD=<name> PORT=<device> [DRY=1] [ROMFS=1]   copy a build to a board"
	@echo "make sync PORT=<device>          pull sessions from a board"
	@echo "boards: $(BOARDS)"

# --- set-up, only what is missing -------------------------------------------
$(STAMP): requirements.txt requirements-device.txt requirements-stubs.txt pyproject.toml
	@command -v $(PY) >/dev/null || { echo "need $(PY) (Python 3.11)"; exit 1; }
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(VPY) -m pip install -q --disable-pip-version-check --no-deps -r requirements-device.txt
	$(VPY) -m pip install -q --disable-pip-version-check --no-deps --target $(VENV)/stubs -r requirements-stubs.txt --upgrade
	$(VPY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json
	@command -v node >/dev/null || { echo "need Node.js 20 (apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(STAMP) $(NODE_STAMP)

# --- the two commands ------------------------------------------------------
demo: setup
	$(VPY) -m sim demo

test: setup lint
	$(VPY) -m pytest -n 2 --dist loadfile tests

lint: setup
	$(VPY) -m ruff check firmware boards host_tools sim tests tools
	node_modules/.bin/pyright --project pyrightconfig.json

bench: setup
	$(VPY) -m tools.bench

# --- boards -----------------------------------------------------------------
check-board:
	@if [ -z "$(BOARD)" ] || [ ! -f boards/$(BOARD).py ]; then \
	  echo "unknown BOARD '$(BOARD)'; known boards: $(BOARDS)"; exit 2; fi

check-port:
	@if [ -z "$(PORT)" ]; then \
	  echo "PORT is missing: run '.venv/bin/rearguard devices' to list serial ports, then PORT=/dev/ttyUSB0"; exit 2; fi

build: check-board setup
	$(VPY) -m tools.build $(BOARD)

deploy: check-board check-port build
	$(VPY) -m tools.deploy $(BOARD) $(PORT) $(if $(DRY),--dry-run) $(if $(ROMFS),--romfs)

sync: check-port setup
	$(VENV)/bin/rearguard pull --port $(PORT)

clean:
	rm -rf build .pytest_cache
