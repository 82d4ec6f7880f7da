"""The stamps benchmark's features: aperture colours of noiseless stamps are the true colours,
and the asinh stretch and magnitudes stay finite where a flux is negative."""

import numpy as np
import pytest

from benchmarks import bench_image_to_spectrum_stamps, check_interface
from benchmarks._stamps import CNN_INPUTS, R_BAND, aperture_features, cnn_input, relative, stretch
from skspectra.images import aperture_photometry


def test_stamps_benchmark_is_on_the_runner_interface():
    check_interface(bench_image_to_spectrum_stamps)
    assert set(bench_image_to_spectrum_stamps.DEV_SEEDS).isdisjoint(
        bench_image_to_spectrum_stamps.REPORT_SEEDS
    )


def test_aperture_colours_of_bright_noiseless_stars_are_the_true_colours():
    pytest.importorskip("galsim")
    pytest.importorskip("speclite")
    from skspectra.datasets import load_gaia_xp, make_image_spectrum_pairs

    gaia = load_gaia_xp()
    pairs = make_image_spectrum_pairs(
        gaia.flux[:20], gaia.wavelength, image_size=16, noise=None, random_state=0
    )
    sky = np.full(5, 1e-6)  # a tiny softening: asinh magnitudes become Pogson magnitudes
    features = aperture_features(pairs.images, 3.0, sky)
    true = -2.5 * np.log10(pairs.band_flux)
    # The PSF is the same in every band, so the aperture keeps the same fraction of each band.
    np.testing.assert_allclose(features[:, 1:], true[:, :-1] - true[:, 1:], atol=2e-3)
    # The r magnitude is offset by the zeropoint and the aperture loss only; the loss varies
    # by a few per cent with each star's sub-pixel offset from the aperture centre.
    offset = features[:, 0] - true[:, R_BAND]
    assert np.ptp(offset) < 0.05


def test_negative_fluxes_give_finite_features():
    rng = np.random.default_rng(0)
    images = rng.normal(0.0, 10.0, size=(50, 5, 16, 16))  # sky noise only
    sky = np.full(5, 100.0)
    assert np.all(np.isfinite(aperture_features(images, 3.0, sky)))
    stretched = stretch(images.astype(np.float32), sky)
    assert stretched.dtype == np.float32
    np.testing.assert_allclose(stretched, np.arcsinh(images / 10.0), rtol=1e-5)


def test_relative_stamps_have_unit_r_aperture_flux_and_keep_band_ratios():
    rng = np.random.default_rng(1)
    images = rng.uniform(1.0, 50.0, size=(6, 5, 16, 16)).astype(np.float32)
    images[:, :, 6:10, 6:10] *= 100.0  # a bright source in every band: r flux well above 1
    out = relative(images, 3.0)
    assert out.dtype == np.float32
    np.testing.assert_allclose(aperture_photometry(out, 3.0)[:, R_BAND], 1.0, rtol=1e-5)
    np.testing.assert_allclose(out[:, 0] / out[:, 1], images[:, 0] / images[:, 1], rtol=1e-5)
    # a star whose r aperture flux is not positive is not blown up by the division
    dark = -np.abs(images[:1])
    assert np.all(np.isfinite(relative(dark, 3.0)))
    np.testing.assert_allclose(relative(dark, 3.0), dark)


def test_every_listed_cnn_input_exists_and_an_unknown_one_is_refused():
    images = np.ones((2, 5, 16, 16), dtype=np.float32)
    for name in CNN_INPUTS:
        assert cnn_input(name, images, np.full(5, 100.0)).shape == images.shape
    with pytest.raises(ValueError, match="unknown CNN input"):
        cnn_input("log", images, np.full(5, 100.0))
