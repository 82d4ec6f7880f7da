"""normalize_spectra and SpectrumNormalizer."""

import pickle

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skspectra.preprocessing import SpectrumNormalizer, normalize_spectra


@pytest.fixture
def spectra():
    rng = np.random.default_rng(0)
    wave = np.linspace(4000, 5000, 40)
    scale = np.array([1.0, 5.0, 100.0])[:, None]
    flux = scale * (1.0 + 0.1 * rng.normal(size=(3, 40)))
    return wave, flux


def test_median_normalisation_and_ivar(spectra):
    _, flux = spectra
    ivar = np.full_like(flux, 2.0)
    flux_norm, ivar_norm, scale = normalize_spectra(flux, ivar)
    np.testing.assert_allclose(scale, np.median(flux, axis=1))
    np.testing.assert_allclose(np.median(flux_norm, axis=1), 1.0)
    np.testing.assert_allclose(ivar_norm, np.broadcast_to(2.0 * scale[:, None] ** 2, flux.shape))
    # signal-to-noise is unchanged: flux * sqrt(ivar) is invariant
    np.testing.assert_allclose(flux_norm * np.sqrt(ivar_norm), flux * np.sqrt(ivar))
    _, mean_ivar, mean_scale = normalize_spectra(flux, method="mean")
    assert mean_ivar is None
    np.testing.assert_allclose(mean_scale, flux.mean(axis=1))


def test_windows_in_pixels_and_in_angstrom(spectra):
    wave, flux = spectra
    flux = flux.copy()
    flux[:, :10] *= 50  # a bright feature outside the window
    _, _, by_index = normalize_spectra(flux, window=(10, 40))
    np.testing.assert_allclose(by_index, np.median(flux[:, 10:40], axis=1))
    _, _, by_wave = normalize_spectra(flux, window=(4300.0, 4700.0), wavelength=wave)
    inside = (wave >= 4300) & (wave <= 4700)
    np.testing.assert_allclose(by_wave, np.median(flux[:, inside], axis=1))
    est = SpectrumNormalizer(window=(4300.0, 4700.0), wavelength=wave).fit(flux)
    np.testing.assert_allclose(est.transform(flux), flux / by_wave[:, None])


def test_masked_pixels_do_not_enter_the_scale():
    flux = np.array([[1.0, 1.0, 1.0, 1e6, 1e6]])
    ivar = np.array([[1.0, 1.0, 1.0, 0.0, 0.0]])
    _, _, scale = normalize_spectra(flux, ivar)
    assert scale[0] == 1.0
    with_nan = np.array([[2.0, np.nan, 2.0, 4.0]])
    assert normalize_spectra(with_nan)[2][0] == 2.0
    assert np.isnan(SpectrumNormalizer().fit_transform(with_nan)[0, 1])


@pytest.mark.parametrize(
    "row, what",
    [([-1.0, -2.0, 3.0], "negative"), ([0.0, 0.0, 1.0], "zero"), ([np.nan] * 3, "NaN")],
)
def test_bad_scales_raise_naming_the_row(row, what):
    flux = np.array([[1.0, 2.0, 3.0], row, [4.0, 5.0, 6.0]])
    with pytest.raises(ValueError, match=r"cannot normalise 1 of 3 spectra.*rows \[1\]"):
        normalize_spectra(flux)
    with pytest.raises(ValueError, match=r"rows \[1\]"):
        SpectrumNormalizer().fit(np.ones((1, 3))).transform(np.nan_to_num(flux, nan=-1.0))


def test_all_masked_row_raises():
    flux = np.ones((2, 3))
    ivar = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match=r"rows \[1\]"):
        normalize_spectra(flux, ivar)


def test_argument_errors(spectra):
    wave, flux = spectra
    with pytest.raises(ValueError, match="ivar has shape"):
        normalize_spectra(flux, np.ones((3, 39)))
    with pytest.raises(ValueError, match="selects none"):
        normalize_spectra(flux, window=(6000.0, 7000.0), wavelength=wave)
    with pytest.raises(ValueError, match="start < stop"):
        normalize_spectra(flux, window=(10, 5))
    with pytest.raises(ValueError, match="wavelength has shape"):
        SpectrumNormalizer(window=(4100, 4200), wavelength=wave[:-1]).fit(flux)
    with pytest.raises(ValueError, match="method"):
        SpectrumNormalizer(method="max").fit(flux)
    with pytest.raises(ValueError, match="method"):
        normalize_spectra(flux, method="max")


def test_transformer_on_positive_spectra(spectra):
    """What the expected-failure checks test, on data in the transformer's domain."""
    _, flux = spectra
    est = SpectrumNormalizer()
    expected = flux / np.median(flux, axis=1, keepdims=True)
    np.testing.assert_allclose(est.fit_transform(flux), expected)
    np.testing.assert_allclose(est.transform(flux.tolist()), expected)  # not an array
    np.testing.assert_allclose(est.transform(flux.astype(np.float32)), expected, rtol=1e-6)
    assert est.transform(flux.astype(np.int64) + 1).dtype == np.float64
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(flux), est.transform(flux))
    pipe = make_pipeline(SpectrumNormalizer(), StandardScaler()).fit(flux)
    np.testing.assert_allclose(pipe.transform(flux), StandardScaler().fit_transform(expected))
    # stateless: transform works without fit, and fit learns only n_features_in_
    np.testing.assert_allclose(SpectrumNormalizer().transform(flux), expected)
    assert est.n_features_in_ == 40
    with pytest.raises(ValueError, match="features"):
        est.transform(flux[:, :10])


def test_pandas_output(spectra):
    pd = pytest.importorskip("pandas")
    _, flux = spectra
    frame = pd.DataFrame(flux, columns=[f"px{i}" for i in range(40)])
    out = SpectrumNormalizer().set_output(transform="pandas").fit_transform(frame)
    assert list(out.columns) == list(frame.columns)


def test_on_invalid_skip_passes_such_rows_through():
    flux = np.array([[1.0, 2.0, 3.0], [-1.0, -2.0, 0.5]])
    with pytest.raises(ValueError, match="rows \\[1\\]"):
        SpectrumNormalizer().fit_transform(flux)
    out = SpectrumNormalizer(on_invalid="skip").fit_transform(flux)
    np.testing.assert_array_equal(out[1], flux[1])
    np.testing.assert_array_equal(out[0], flux[0] / 2.0)
    _, _, scale = normalize_spectra(flux, on_invalid="skip")
    np.testing.assert_array_equal(scale, [2.0, 1.0])
