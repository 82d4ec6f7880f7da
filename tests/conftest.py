"""Shared fixtures. Torch runs on one thread so that tests are fast and repeatable."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import skspectra

torch.set_num_threads(1)

SLOW_HELP = (
    "also run the tests marked slow: subprocesses and clusters, the docs examples, the long "
    "CLI runs, and the fuzz suite's 1,000-example profile (CI and `make test-all` do)"
)


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False, help=SLOW_HELP)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "slow: a test of more than a few seconds (subprocesses, clusters, docs examples, long CLI "
        "runs); deselected unless --run-slow",
    )
    # The fuzz suite's profile (tests/fuzz/conftest.py): 1,000 examples per target with
    # --run-slow, 50 otherwise; SKSPECTRA_FUZZ_PROFILE, when set, wins.
    os.environ.setdefault(
        "SKSPECTRA_FUZZ_PROFILE", "ci" if config.getoption("--run-slow") else "quick"
    )


def pytest_collection_modifyitems(config, items):
    """Deselect the slow tests unless --run-slow (the README's `make test` stays under 5 min)."""
    if config.getoption("--run-slow"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


@pytest.fixture
def seed():
    return 0


@pytest.fixture(scope="module")
def toy_spectra():
    """120 smooth synthetic spectra of 64 pixels: a sloped continuum with one absorption line."""
    rng = np.random.default_rng(0)
    n, m = 120, 64
    x = np.linspace(-1, 1, m)
    slope = rng.uniform(-0.3, 0.3, (n, 1))
    depth = rng.uniform(0.1, 0.5, (n, 1))
    centre = rng.uniform(-0.5, 0.5, (n, 1))
    flux = 1 + slope * x - depth * np.exp(-0.5 * ((x - centre) / 0.08) ** 2)
    noise = 0.01
    flux = flux + rng.normal(0, noise, flux.shape)
    ivar = np.full(flux.shape, 1 / noise**2)
    return flux, ivar


@pytest.fixture(scope="session")
def run_cli():
    """Run ``python -m skspectra.cli ARGS`` in ``cwd``, as a user would, on the skspectra that
    these tests import (not another installed copy)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(Path(skspectra.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]
        ),
    }

    def run(*args, cwd):
        return subprocess.run(
            [sys.executable, "-m", "skspectra.cli", *map(str, args)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    return run
