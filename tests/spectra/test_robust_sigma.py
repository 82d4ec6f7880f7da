"""One robust σ (scipy's median_abs_deviation, scale='normal') behind the four places that
used to write 1.4826 × MAD out by hand: each gives what its own formula gave."""

import warnings

import numpy as np
import pytest

from skspectra.images.autoencoder import _masked_robust_scale
from skspectra.lines._refine import _robust_noise
from skspectra.spectra._latent_density import _centre_spread
from skspectra.spectra._outlier import robust_scale, robust_sigma

OLD = 1.4826  # the literal of _refine.py
OLD_EXACT = 1.482602218505602  # the constant of _outlier.py


@pytest.fixture
def residuals():
    rng = np.random.default_rng(0)
    r = rng.standard_t(3, size=(41, 7)) * rng.uniform(0.5, 3.0, 7)
    r[:, 3] = 0.0  # a pixel reconstructed exactly: the floor
    return r


def test_robust_sigma_is_the_normal_scaled_mad():
    x = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    # median 3, |x - 3| = (2, 1, 0, 1, 97), MAD 1; Φ⁻¹(3/4) = 0.6744897501960817
    assert robust_sigma(x) == pytest.approx(1 / 0.6744897501960817, rel=1e-15)
    assert robust_sigma(x, about_zero=True) == pytest.approx(3 / 0.6744897501960817, rel=1e-15)


def test_robust_scale_is_unchanged(residuals):
    med = np.median(residuals, axis=0, keepdims=True)
    scale = OLD_EXACT * np.median(np.abs(residuals - med), axis=0)
    floor = 1e-6 * np.median(scale[scale > 0])
    np.testing.assert_allclose(robust_scale(residuals), np.maximum(scale, floor), rtol=1e-14)


def test_masked_image_scale_is_unchanged(residuals):
    good = np.random.default_rng(1).uniform(size=residuals.shape) > 0.3
    good[:, 5] = False  # masked in every image: the floor, and no warning
    r = np.where(good, residuals, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(r, axis=0, keepdims=True)
        scale = np.nan_to_num(OLD_EXACT * np.nanmedian(np.abs(r - med), axis=0), nan=0.0)
    floor = 1e-6 * np.median(scale[scale > 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = _masked_robust_scale(residuals, good)
    np.testing.assert_allclose(new, np.maximum(scale, floor), rtol=1e-14)
    assert new[5] == floor


def test_latent_density_spread_is_unchanged(residuals):
    values = residuals[:, 0]
    centre = np.median(values)
    spread = OLD_EXACT * np.median(np.abs(values - centre))
    assert _centre_spread(values) == pytest.approx((centre, spread), rel=1e-14)
    assert _centre_spread(np.ones(5)) == (1.0, 1.0)  # no spread: 1


def test_line_noise_is_unchanged():
    y = np.random.default_rng(2).normal(0.0, 0.3, 200) + np.exp(
        -0.5 * (np.arange(200) - 90) ** 2 / 9
    )
    old = OLD * np.median(np.abs(np.diff(y))) / np.sqrt(2)
    # 1.4826 was rounded: the same to 4e-6 relative
    assert _robust_noise(y) == pytest.approx(old, rel=1e-5)
    exact = OLD_EXACT * np.median(np.abs(np.diff(y))) / np.sqrt(2)
    assert _robust_noise(y) == pytest.approx(exact, rel=1e-14)
