# One task runner. Everything runs inside .venv, created on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo demo-report test lint format typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install telltale with its dev tools

demo: $(STAMP)     ## a collector and a simulated model service running into trouble (Ctrl-C stops)
	$(BIN)/telltale demo --fresh

demo-report: $(STAMP)  ## build a drift/quality/performance report from generated data
	$(BIN)/python examples/demo_report.py --out-dir demo-output

test: $(STAMP)     ## run the whole test suite
	$(BIN)/python -m pytest -q

lint: $(STAMP)     ## ruff (lint + format check) and mypy
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks examples
	$(BIN)/ruff check --fix src tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)    ## benchmarks: print figures, assert nothing
	$(BIN)/python benchmarks/report_drift.py --rows 1000000
	$(BIN)/python benchmarks/sdk_overhead.py
	$(BIN)/python benchmarks/store_ingest.py
	$(BIN)/python benchmarks/query_windows.py
	$(BIN)/python benchmarks/evaluate_ner.py
	$(BIN)/python benchmarks/anomaly_detection.py
	$(BIN)/python benchmarks/dashboard_pages.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
