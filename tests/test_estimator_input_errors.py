"""Estimators refuse what the data cannot support, with a ValueError that says what to do."""

import numpy as np
import pytest

from skspectra import ImageAutoencoder, SpectralCAE
from skspectra.spectra import SpectralVAE

TINY = {"n_filters": 2, "depth": 1, "max_epochs": 1, "batch_size": 16}


@pytest.mark.parametrize("estimator", [SpectralCAE, SpectralVAE])
def test_n_components_larger_than_the_wavelengths_is_refused(estimator):
    X = np.random.default_rng(0).normal(1.0, 0.1, (40, 20))
    with pytest.raises(ValueError, match=r"n_components=50 .*n_features=20.*n_components <= 20"):
        estimator(n_components=50, **TINY).fit(X)
    # as many components as wavelengths is allowed (a PCA would allow it too)
    est = estimator(n_components=20, **TINY).fit(X)
    assert est.transform(X).shape == (40, 20)


@pytest.mark.parametrize("shape", [(4, 1, 1, 8, 8), (4, 1, 1, 1, 8, 8)])
def test_image_autoencoder_names_the_accepted_shapes(shape):
    X = np.random.default_rng(0).random(shape)
    with pytest.raises(ValueError) as info:
        ImageAutoencoder(n_components=2, **TINY).fit(X)
    message = str(info.value)
    assert f"{len(shape)} dimensions" in message
    assert "(n_samples, H, W)" in message and "(n_samples, C, H, W)" in message
    assert "image_shape" in message and "dim <= 2" not in message


def test_float32_flux_is_checked_without_an_overflow_warning():
    """float32 cannot reach MAX_ABS_VALUE; comparing with it cast it to float32 (inf) and
    warned once per call, i.e. once per chunk of an out-of-core run over float32 files."""
    import warnings

    from skspectra.base import check_magnitude

    X = np.full((2, 3), 3.0e38, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_magnitude(X) is not None
    with pytest.raises(ValueError, match="too large"):
        check_magnitude(np.array([[1.0, 1e200]]))
