"""Shared fixtures. Torch runs on one thread so that tests are fast and repeatable."""

import numpy as np
import pytest
import torch

torch.set_num_threads(1)


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
