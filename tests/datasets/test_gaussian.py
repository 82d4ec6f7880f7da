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
