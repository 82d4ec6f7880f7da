"""What the fuzz suite found, each kept as a plain regression test (fixed in the library)."""

import base64
import time

import numpy as np
import pytest
from sklearn.decomposition import PCA

from skspectra import SpectralCAE
from skspectra.images import ImageAutoencoder, ImageRegressor, ImageToSpectrum
from skspectra.io import read_fits_images, read_spectra_table
from skspectra.lines import GaussianLineFitter
from skspectra.preprocessing import ImageNormalizer, normalize_spectra

#: The fuzzed file that hung astropy: a valid gzipped FITS table with three bytes overwritten
#: (its CRC no longer matches). fits.open looped in its header parser, eating gigabytes.
HANGING_GZIP = base64.b64decode(
    "H4sIAAAAAAACAwv29A3wcVUwsFXAAkIU9BWS8/PS8otyixVK8hXcPEOCFYpLEvNSEotSFLACJ8+QAM8IHOZZAM1L"
    "LCpKrFQtSSxJVCipLEhVIAD8HCM8gxVwmGcANC+vNDcptUghPw1mcmZual5xZn5eMVbzXCNCXP1ccPqXZAA2bBSM"
    "glEwCkbBKBgFo2AUjBgAak4Ge/r72SqoO3n6hTg6+biqI0nrKyRl5iUWVSqUJCblpCqkVpRAGqc4zaNr+9mI9PYz"
    "2DxDrOYZmoHa4zmpeek9GSDz4CYpGBJwnxEO9xnjMM8It3kBzv6hfiFE9RfSi/JLCxQKEosSc1NLUouw+9cdn3mG"
    "mOYVE4iPEDdPVx+XYNz+RZgHSTJpmak5KbhNDQmJDHAFx4d6Wk5pBUhInZL0HOLmH+QLMc8C2rOhzDyQ+8Dxq55Z"
    "llhEHfdBzLNwpZb7jMHmlSeWpUJSmzqF7jOmXviN9i9HwSgYBaNgFAxHYP/L4N+ev3M07L8Ect/v0J1r/2H55VtT"
    "3tyz/+C8qTrRRN/+L7P68qazT+3/zVo6fVYKk/3PLce3S/Ddtv+9hmXq/w4t+wYGBnzYYb0DAwg4rHeC0i5Q2g1K"
    "e0BpLyjtA6X9wLT9j00b5KpkT9j/+8bXUPE1x/4v756SKwXM9h+4zdu6dr+0/7v9bfc3v3z7D50T2S3uVQLdtdqg"
    "xuav/afzNS5zuyfR3H1/z0/ZvDB3h/2PlZdtJ0R12H85PW8To2eg/bfDwWu+b8q1/1D8P/ha8Sr7j38FyhhE39j/"
    "2vVg1QTFd/a/oh4nr8h4R2v3jYJRMApGwSgYBaNgFIwC6gIAjLo0lcAhAAA="
)

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


def test_damaged_gzip_stream_is_refused_at_once(tmp_path):
    path = tmp_path / "table.fits.gz"
    path.write_bytes(HANGING_GZIP)
    start = time.perf_counter()
    with pytest.raises(ValueError, match="not a readable FITS file: CRC check failed"):
        read_spectra_table(path)
    assert time.perf_counter() - start < 10  # it never returned before the fix


def test_log_stretch_with_a_too_small_is_refused():
    # found: a=1e-30 made the log stretch 0 / 0, NaN for every pixel of a finite image
    with pytest.raises(ValueError, match="too small for the log stretch"):
        ImageNormalizer(stretch="log", a=1e-30).fit_transform(np.ones((1, 1, 1, 1)))
    out = ImageNormalizer(stretch="log", a=1e-6).fit_transform(RNG.random((2, 1, 3, 3)))
    assert np.all((out >= 0) & (out <= 1))


def test_infinite_pixels_are_blank(tmp_path):
    # found: read_fits_images returned inf pixels (and resizing smeared them)
    data = np.ones((4, 5), dtype=np.float32)
    data[1, 2] = np.inf
    from astropy.io import fits

    fits.PrimaryHDU(data).writeto(tmp_path / "inf.fits")
    images, meta = read_fits_images(tmp_path / "inf.fits")
    assert np.isnan(images[0, 0, 1, 2]) and meta["n_blank"][0] == 1
    assert not np.isinf(read_fits_images(tmp_path / "inf.fits", size=3)[0]).any()
