"""Noise estimated from residuals: sigma_ij = a_i * b_j by median polish."""

import numpy as np
import pytest

from skspectra import SpectralCAE
from skspectra.spectra._noise import fit_pixel_noise, spectrum_noise


@pytest.fixture(scope="module")
def residuals():
    rng = np.random.default_rng(1)
    a = np.exp(rng.uniform(-1.5, 1.5, 400))  # per-spectrum noise level, a factor 20 apart
    b = np.linspace(0.5, 2.0, 120)  # per-pixel shape
    return rng.normal(size=(400, 120)) * a[:, None] * b[None, :], a, b


def test_median_polish_recovers_a_known_noise_model(residuals):
    r, a, b = residuals
    pixel = fit_pixel_noise(r)
    # b is known up to one overall factor: the median spectrum has a_i = 1
    ratio = pixel / b
    assert np.std(np.log(ratio)) < 0.1
    scale = spectrum_noise(r, pixel)
    # each a_i comes from a median over 120 pixels: about 12 % scatter in log
    log_error = np.log(scale * pixel[0] / (a * b[0]))
    assert abs(np.median(log_error)) < 0.05 and np.std(log_error) < 0.2
    z = r / (scale[:, None] * pixel)
    assert 0.9 < np.std(z) < 1.1


def test_narrow_features_do_not_inflate_the_spectrum_scale(residuals):
    r, a, b = residuals
    pixel = fit_pixel_noise(r)
    spiked = r.copy()
    spiked[:, 10:14] += 1e3  # a strong 4-pixel line in every spectrum
    ratio = spectrum_noise(spiked, pixel) / spectrum_noise(r, pixel)
    # 4 of 120 pixels move each median by at most a few per cent of the sample
    assert np.median(ratio) < 1.1 and ratio.max() < 1.3


def test_masked_pixels_are_ignored(residuals):
    r, _, _ = residuals
    mask = np.ones(r.shape, bool)
    mask[:, :30] = False
    garbage = r.copy()
    garbage[:, :30] = 1e6
    pixel = fit_pixel_noise(garbage, mask)
    ratio = pixel[30:] / fit_pixel_noise(r)[30:]
    assert np.max(np.abs(ratio / np.median(ratio) - 1)) < 0.15  # same shape, up to one factor
    assert np.all(np.isfinite(spectrum_noise(garbage, pixel, mask)))


def test_anomaly_map_without_ivar_is_in_sigma(toy_spectra):
    """Spectra of very different S/N, fitted without ivar: z of normal spectra has σ ≈ 1."""
    flux, _ = toy_spectra
    rng = np.random.default_rng(3)
    noise = np.exp(rng.uniform(np.log(0.005), np.log(0.05), len(flux)))[:, None]
    noisy = flux + rng.normal(size=flux.shape) * noise
    est = SpectralCAE(
        n_components=4, n_filters=4, depth=2, max_epochs=40, lr=3e-3, random_state=0
    ).fit(noisy)
    z = est.anomaly_map(noisy)
    per_spectrum = np.std(z, axis=1)
    assert 0.7 < np.median(per_spectrum) < 1.4
    # a noisy spectrum is not an anomaly merely for being noisy
    rank = np.argsort(np.argsort(est.set_params(anomaly_score="residual").score_samples(noisy)))
    loudest = np.argsort(noise[:, 0])[-10:]
    assert np.mean(rank[loudest]) > 0.1 * len(flux)


def test_noise_estimate_uses_ivar_only_as_a_mask(toy_spectra):
    flux, ivar = toy_spectra
    mask = np.ones_like(ivar)
    mask[:, 20:25] = 0
    garbage = flux.copy()
    garbage[:, 20:25] = 1e3
    small = dict(n_components=4, n_filters=4, depth=2, max_epochs=3, random_state=0)
    est = SpectralCAE(noise="estimate", **small).fit(garbage, ivar=mask)
    z = est.anomaly_map(garbage, ivar=mask)
    assert np.all(z[:, 20:25] == 0) and np.all(np.isfinite(z))
    # ivar's values do not matter with noise="estimate", only where it is zero
    np.testing.assert_allclose(
        est.score_samples(garbage, ivar=mask * 7.0), est.score_samples(garbage, ivar=mask)
    )
