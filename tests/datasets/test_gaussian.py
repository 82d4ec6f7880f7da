import numpy as np
import pytest

from skspectra.datasets import make_gaussian_spectra
from skspectra.lines import GAUSSIAN_SIGMA_TO_FWHM, as_components, count_components, gaussian_sum


def test_shapes_and_default_return():
    X = make_gaussian_spectra(7, 40, random_state=0)
    assert isinstance(X, np.ndarray) and X.shape == (7, 40) and X.dtype == np.float64
    X, params, noise = make_gaussian_spectra(7, 40, n_components=(1, 4), return_params=True)
    assert X.shape == (7, 40)
    assert params.shape == (7, 12)
    assert noise.shape == (7,)


def test_components_sorted_by_mean_and_padded_at_the_end():
    _, params, _ = make_gaussian_spectra(
        300, 64, n_components=(0, 4), return_params=True, random_state=1
    )
    comps = as_components(params)
    counts = count_components(params)
    assert set(counts) == {0, 1, 2, 3, 4}
    for row, n in zip(comps, counts, strict=True):
        assert np.all(row[:n, 0] != 0)
        assert np.all(np.diff(row[:n, 1]) > 0)
        np.testing.assert_array_equal(row[n:], 0.0)


def test_spectra_are_the_lines_plus_noise_of_the_stated_level():
    X0, params0, noise0 = make_gaussian_spectra(
        20, 3000, noise_range=0.0, return_params=True, random_state=2
    )
    np.testing.assert_array_equal(noise0, 0.0)
    np.testing.assert_allclose(X0, gaussian_sum(params0, 3000), rtol=0, atol=1e-12)

    X, params, noise = make_gaussian_spectra(
        20, 3000, noise_range=(0.1, 0.5), return_params=True, random_state=2
    )
    assert np.all((noise >= 0.1) & (noise <= 0.5))
    residual_std = np.std(X - gaussian_sum(params, 3000), axis=1)
    # 3000 channels: the sample std is within ~1.3 % (1 sigma) of the true one.
    np.testing.assert_allclose(residual_std, noise, rtol=0.06)


def test_reproducible_with_a_seed():
    a = make_gaussian_spectra(5, 30, return_params=True, random_state=3)
    b = make_gaussian_spectra(5, 30, return_params=True, random_state=3)
    c = make_gaussian_spectra(5, 30, return_params=True, random_state=4)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


def test_gausspy_tutorial_setting():
    X, params, noise = make_gaussian_spectra(
        200,
        512,
        n_components=3,
        amplitude_range=(0.5, 4),
        mean_range=(128, 384),
        sigma_range=(20 / GAUSSIAN_SIGMA_TO_FWHM, 80 / GAUSSIAN_SIGMA_TO_FWHM),
        noise_range=0.05,
        return_params=True,
        random_state=0,
    )
    comps = as_components(params)
    assert X.shape == (200, 512) and params.shape == (200, 9)
    np.testing.assert_array_equal(count_components(params), 3)
    np.testing.assert_array_equal(noise, 0.05)
    a, mu, fwhm = comps[..., 0], comps[..., 1], comps[..., 2] * GAUSSIAN_SIGMA_TO_FWHM
    assert a.min() >= 0.5 and a.max() <= 4
    assert mu.min() >= 128 and mu.max() <= 384
    assert fwhm.min() >= 20 - 1e-9 and fwhm.max() <= 80 + 1e-9
    # Uniform draws fill their ranges.
    assert fwhm.min() < 22 and fwhm.max() > 78


def test_default_ranges():
    _, params, noise = make_gaussian_spectra(500, 101, return_params=True, random_state=0)
    comps = as_components(params)
    on = comps[..., 0] != 0
    assert set(count_components(params)) == {1, 2, 3}
    assert comps[..., 0][on].min() >= 0.5 and comps[..., 0][on].max() <= 4.0
    assert comps[..., 1][on].min() >= 10.0 and comps[..., 1][on].max() <= 90.0
    assert comps[..., 2][on].min() >= 2.0 and comps[..., 2][on].max() <= 12.0
    assert noise.min() >= 0.05 and noise.max() <= 0.25


def test_fixed_values_and_absorption():
    _, params, noise = make_gaussian_spectra(
        10,
        50,
        n_components=2,
        amplitude_range=-1.0,
        mean_range=(10, 40),
        sigma_range=3.0,
        noise_range=0.2,
        return_params=True,
        random_state=0,
    )
    comps = as_components(params)
    np.testing.assert_array_equal(comps[..., 0], -1.0)
    np.testing.assert_array_equal(comps[..., 2], 3.0)
    np.testing.assert_array_equal(noise, 0.2)


def test_min_separation():
    _, params, _ = make_gaussian_spectra(
        200, 100, n_components=3, min_separation=15.0, return_params=True, random_state=0
    )
    gaps = np.diff(as_components(params)[..., 1], axis=1)
    assert gaps.min() >= 15.0
    _, params, _ = make_gaussian_spectra(
        200, 100, n_components=3, return_params=True, random_state=0
    )
    assert np.diff(as_components(params)[..., 1], axis=1).min() < 15.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sigma_range": (0.0, 2.0)}, "sigma_range must be >"),
        ({"sigma_range": (3.0, 2.0)}, "low <= high"),
        ({"noise_range": (-0.1, 0.1)}, "noise_range must be >="),
        ({"amplitude_range": (1, 2, 3)}, "amplitude_range"),
        ({"mean_range": (np.nan, 3)}, "mean_range"),
        ({"n_components": (2, 1)}, "n_components"),
        ({"n_components": (1.5, 2)}, "n_components"),
        ({"n_components": 3, "min_separation": 100.0}, "min_separation"),
    ],
)
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_gaussian_spectra(5, 64, **kwargs)


def test_invalid_types_raise():
    with pytest.raises(ValueError, match="n_samples"):
        make_gaussian_spectra(0, 10)
    with pytest.raises(ValueError, match="n_channels"):
        make_gaussian_spectra(3, 0)


# -- presets, S/N and continuum -------------------------------------------------------


def test_presets_are_the_documented_settings():
    from skspectra.datasets import gaussian_spectra_preset

    assert gaussian_spectra_preset("heldout") == dict(
        n_components=(1, 3),
        sigma_range=(2.0, 12.0),
        noise_range=(0.05, 0.25),
        snr_range=(3.0, 20.0),
        continuum_offset_range=(-3.0, 3.0),
        continuum_slope_range=(-10.0, 10.0),
        log_uniform=False,
    )
    assert gaussian_spectra_preset("wide") == dict(
        n_components=(0, 3),
        sigma_range=(1.0, 24.0),
        noise_range=(0.05, 0.25),
        snr_range=(2.0, 50.0),
        continuum_offset_range=(-20.0, 20.0),
        continuum_slope_range=(-30.0, 30.0),
        log_uniform=True,
    )
    with pytest.raises(ValueError, match="preset"):
        gaussian_spectra_preset("narrow")
    with pytest.raises(ValueError, match="preset"):
        make_gaussian_spectra(3, preset="narrow")


def _continuum(X, params, n_channels):
    """Offset and end-to-end slope of X minus its lines, by a straight-line fit."""
    t = np.arange(n_channels) / (n_channels - 1) - 0.5
    rest = X - gaussian_sum(params, n_channels)
    slope, offset = np.polyfit(t, rest.T, 1)
    return offset, slope


def test_heldout_preset_draws_in_its_ranges():
    X, params, noise = make_gaussian_spectra(
        400, 256, preset="heldout", return_params=True, random_state=0
    )
    comps = as_components(params)
    on = comps[..., 0] != 0
    assert set(count_components(params)) == {1, 2, 3}
    snr = comps[..., 0] / noise[:, None]
    assert snr[on].min() >= 3.0 and snr[on].max() <= 20.0
    assert snr[on].min() < 3.5 and snr[on].max() > 19.5  # uniform: fills the range
    assert comps[..., 2][on].min() >= 2.0 and comps[..., 2][on].max() <= 12.0
    offset, slope = _continuum(X, params, 256)
    # The fitted continuum is the drawn one within the noise of a 256-point line fit.
    assert np.all(np.abs(offset / noise) <= 3.0 + 0.5)
    assert np.all(np.abs(slope / noise) <= 10.0 + 1.5)
    assert np.max(slope / noise) > 8.0 and np.min(slope / noise) < -8.0


def test_wide_preset_is_log_uniform_and_wider_than_heldout():
    X, params, noise = make_gaussian_spectra(
        3000, 256, preset="wide", return_params=True, random_state=0
    )
    comps = as_components(params)
    on = comps[..., 0] != 0
    assert set(count_components(params)) == {0, 1, 2, 3}
    sigma, snr = comps[..., 2][on], (comps[..., 0] / noise[:, None])[on]
    assert sigma.min() >= 1.0 and sigma.max() <= 24.0 and sigma.min() < 1.1
    assert snr.min() >= 2.0 and snr.max() <= 50.0
    # Log-uniform: as many lines in 1-2 px as in 12-24 px (uniform would give 1 in 23).
    narrow, broad = np.sum(sigma < 2.0), np.sum(sigma >= 12.0)
    assert 0.8 < narrow / broad < 1.25
    offset, slope = _continuum(X, params, 256)
    assert np.max(np.abs(slope / noise)) > 25.0 and np.max(np.abs(offset / noise)) > 17.0


def test_explicit_arguments_override_the_preset():
    _, params, noise = make_gaussian_spectra(
        200, 128, preset="heldout", n_components=2, sigma_range=5.0, return_params=True
    )
    comps = as_components(params)
    np.testing.assert_array_equal(count_components(params), 2)
    np.testing.assert_array_equal(comps[..., 2], 5.0)
    snr = comps[..., 0] / noise[:, None]
    assert snr.min() >= 3.0 and snr.max() <= 20.0


def test_no_continuum_keeps_the_old_draws():
    # The continuum is drawn last, so the spectra without one are what they always were.
    a = make_gaussian_spectra(5, 64, return_params=True, random_state=3)
    b = make_gaussian_spectra(
        5,
        64,
        continuum_offset_range=0.0,
        continuum_slope_range=0.0,
        return_params=True,
        random_state=3,
    )
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    X, params, noise = make_gaussian_spectra(
        5, 64, continuum_offset_range=4.0, return_params=True, random_state=3
    )
    np.testing.assert_allclose(X - a[0], np.repeat(4.0 * noise[:, None], 64, axis=1))


def test_log_uniform_needs_positive_ranges():
    with pytest.raises(ValueError, match="snr_range"):
        make_gaussian_spectra(5, 64, snr_range=(-3.0, 5.0), log_uniform=True)
