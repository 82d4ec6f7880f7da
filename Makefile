# Two commands for a fresh machine; each makes the virtual environment once.
#   make anomalies   find anomalous stars in the Gaia XP sample that ships with skspectra
#   make test        run the test suite
#   make docs        build the documentation site into docs/_build/html (warnings are errors)
# torch==2.13.0 is installed first: on our machines it is a CPU wheel that lies on disk.

VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.skspectra-installed

.PHONY: anomalies test docs install clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

anomalies: $(STAMP)
	$(BIN)/skspectra anomalies

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Runs every examples/plot_*.py for the gallery (one torch thread each).
SPHINXOPTS ?= -W --keep-going
docs: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m sphinx -b html $(SPHINXOPTS) docs docs/_build/html

clean-venv:
	rm -rf $(VENV)
