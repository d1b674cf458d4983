# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint scan train bench clean browser

$(VENV)/.ok-runtime: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ThreatLens needs Python 3.11+")'
	@$(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: on Debian/Ubuntu run 'apt-get install python3-venv'"; exit 1; }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	@touch $@

$(VENV)/.ok-train: $(VENV)/.ok-runtime
	$(PY) -m pip install -q -e '.[train]'
	@touch $@

$(VENV)/.ok-test: $(VENV)/.ok-runtime
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

## Install and open the live monitor on a growing copy of the bundled sample log.
demo: $(VENV)/.ok-runtime
	$(PY) -m threatlens.demo

## Debian's chromium for the browser test of `threatlens serve` (that test is skipped, saying why, without it).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| echo "note: chromium could not be installed (needs root and apt-get): the browser test will be skipped"

## Install everything the tests need, check the import contracts in pyproject.toml, then run the whole suite.
test: $(VENV)/.ok-test browser
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

## Ruff on everything, mypy on the core (the files listed in pyproject.toml).
lint: $(VENV)/.ok-test
	$(PY) -m ruff check src tests bench
	$(PY) -m mypy

scan: $(VENV)/.ok-runtime
	$(VENV)/bin/threatlens scan sample_logs/combined.log

## Rebuild the shipped model from the shared data (DATA=... to use another copy).
DATA ?= $(CURDIR)/../shared/data
train: $(VENV)/.ok-train
	$(VENV)/bin/threatlens train --data $(DATA) --out src/threatlens/models/threatlens-model.skops --seed 42

## GoAccess from Debian (the peer of bench/scan.py; its rows are skipped, saying why, without it), the 1M-line
## realistic log (bench/out, generated once), then the end-to-end benchmark against GoAccess.
bench: $(VENV)/.ok-runtime
	@command -v goaccess >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq && apt-get install -y -qq goaccess >/dev/null; } \
		|| echo "note: goaccess could not be installed (needs root and apt-get): bench/scan.py skips its rows"
	$(PY) bench/scan.py --full

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .import_linter_cache .grimp_cache
