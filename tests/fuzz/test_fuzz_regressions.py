"""What the fuzz suite found, each kept as a plain regression test (fixed in the library)."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from skspectra import SpectralCAE
from skspectra.images import ImageAutoencoder, ImageRegressor, ImageToSpectrum
from skspectra.io import read_spectra_table
from skspectra.lines import GaussianLineFitter
from skspectra.preprocessing import normalize_spectra

RNG = np.random.default_rng(0)
SPECTRA = 1 + 0.1 * RNG.standard_normal((8, 16))
IMAGES = RNG.random((8, 1, 6, 6))


def test_huge_pixel_is_refused_not_turned_into_nan_latents():
    # found: ImageAutoencoder.transform gave [[nan, nan]] for an image with a 1e300 pixel
    model = ImageAutoencoder(n_components=2, n_filters=2, depth=1, max_epochs=1, random_state=0)
    model.fit(IMAGES)
    X = IMAGES[:1].copy()
    X[0, 0, 0, 0] = 1e300
    with pytest.raises(ValueError, match="too large to compute with"):
        model.transform(X)


def test_huge_feature_is_refused_by_image_to_spectrum():
    # found: ImageToSpectrum.predict(return_std=True) gave inf for a 1e300 feature
    regressor = ImageRegressor(hidden_layer_sizes=(4,), max_epochs=1, random_state=0)
    model = ImageToSpectrum(PCA(2), regressor, uncertainty_cv=2, random_state=0)
    model.fit(RNG.standard_normal((8, 3)), SPECTRA)
    with pytest.raises(ValueError, match="too large to compute with"):
        model.predict(np.array([[1e300, 1.0, 1.0]]), return_std=True)


def test_values_beyond_float32_give_a_clear_error_in_float32_inference():
    # values that overflow float32 inside the network: caught by the output check
    model = SpectralCAE(n_components=2, n_filters=2, depth=1, max_epochs=1, random_state=0)
    model.fit(SPECTRA).set_params(inference_dtype="float32")
    with pytest.raises(ValueError, match="NaN or infinite output for 1 of 2 samples"):
        model.transform(np.vstack([SPECTRA[0], SPECTRA[1] * 1e60]))


def test_none_in_an_object_target_is_refused():
    # found: sklearn turns None in an object y into NaN unchecked; training then diverged
    y = np.array([[None, 8.0, 1.0]] + [[1.0, 8.0, 1.0]] * 7, dtype=object)
    fitter = GaussianLineFitter(max_components=1, kernel_sizes=(3,), n_filters=2, max_epochs=1)
    with pytest.raises(ValueError, match="y holds NaN"):
        fitter.fit(SPECTRA, y)


@pytest.mark.parametrize("estimator", ["autoencoder", "regressor"])
def test_one_image_of_one_pixel_trains(estimator):
    # found: "Expected more than 1 value per channel when training" raised inside torch's
    # GroupNorm for a batch of one 1x1 map
    X = np.array([[[[1.04]]]])
    if estimator == "autoencoder":
        model = ImageAutoencoder(n_components=2, n_filters=2, depth=1, max_epochs=1)
        assert np.isfinite(model.fit(X).score_samples(X)).all()
    else:
        model = ImageRegressor(hidden_layer_sizes=(4,), n_filters=2, depth=1, max_epochs=1)
        assert np.isfinite(model.fit(X, [1.0]).predict(X)).all()


def test_table_with_no_spectra_is_a_clear_error(tmp_path):
    # found: IndexError for flux and wavelength of shape (0, 1)
    path = tmp_path / "empty.npz"
    np.savez(path, flux=np.empty((0, 1)), wavelength=np.empty((0, 1)))
    with pytest.raises(ValueError, match="holds no spectra") as exc:
        read_spectra_table(path)
    assert str(path) in str(exc.value)


def test_infinite_flux_is_missing_for_normalize_spectra():
    # found: a spectrum of [inf] got scale inf, hence NaN flux and inf ivar
    with pytest.raises(ValueError, match="cannot normalise 1 of 1 spectra"):
        normalize_spectra(np.array([[np.inf]]), np.ones((1, 1)))
    flux, ivar, scale = normalize_spectra(np.array([[2.0, np.inf, 2.0]]), np.ones((1, 3)))
    assert scale[0] == 2.0 and flux[0, 0] == 1.0 and ivar[0, 0] == 4.0


def test_overflowing_ivar_after_normalisation_is_refused():
    with pytest.raises(ValueError, match="overflows for spectrum 0"):
        normalize_spectra(np.array([[1e200, 1e200]]), np.ones((1, 2)))
