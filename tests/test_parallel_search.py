"""GridSearchCV(n_jobs=2) on joblib's loky backend: every estimator pickles into worker
processes, trains there, and gives the same scores as a search in this process.

The workers and the one-process search are held to one thread each, for torch and for BLAS (the
PCA starts), so that both train with the same float kernels on any machine; loky would
otherwise give each worker ``cpu_count // n_jobs`` threads."""

import pickle

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV, KFold
from threadpoolctl import threadpool_limits

from skspectra import (
    GaussianLineFitter,
    ImageAutoencoder,
    ImageRegressor,
    ImageToSpectrum,
    SpectralCAE,
    SpectralVAE,
)
from skspectra.datasets import make_gaussian_spectra

# slow: loky worker processes
pytestmark = pytest.mark.slow

TINY = dict(max_epochs=2, batch_size=16, random_state=0)


def _spectra():
    rng = np.random.default_rng(0)
    x = np.linspace(-1, 1, 32)
    return 1 + rng.uniform(-0.3, 0.3, (40, 1)) * x + rng.normal(0, 0.01, (40, 32))


def _images():
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[:8, :8] - 3.5
    width = rng.uniform(1, 3, 40)
    images = np.exp(-0.5 * (xx**2 + yy**2)[None] / width[:, None, None] ** 2)
    return (images + rng.normal(0, 0.01, images.shape))[:, None], width


def _case(name):
    """(estimator, param_grid, X, y) for one estimator, all tiny."""
    if name == "SpectralCAE":
        est = SpectralCAE(n_components=2, n_filters=2, depth=1, **TINY)
        return est, {"n_components": [1, 2]}, _spectra(), None
    if name == "SpectralVAE":
        est = SpectralVAE(n_components=2, n_filters=2, depth=1, **TINY)
        return est, {"n_components": [1, 2]}, _spectra(), None
    if name == "GaussianLineFitter":
        X, y, _ = make_gaussian_spectra(40, 32, n_components=(0, 1), return_params=True)
        est = GaussianLineFitter(
            1, kernel_sizes=(3,), n_filters=2, n_blocks=1, hidden_size=8, **TINY
        )
        return est, {"lr": [1e-3, 1e-2]}, X, y
    images, width = _images()
    if name == "ImageAutoencoder":
        est = ImageAutoencoder(n_components=2, n_filters=2, depth=1, **TINY)
        return est, {"n_components": [1, 2]}, images, None
    if name == "ImageRegressor":
        est = ImageRegressor(hidden_layer_sizes=(8,), n_filters=2, depth=1, **TINY)
        return est, {"lr": [1e-3, 1e-2]}, images, np.column_stack([width, width**2])
    if name == "ImageToSpectrum":
        est = ImageToSpectrum(
            SpectralCAE(n_components=2, n_filters=2, depth=1, **TINY),
            ImageRegressor(hidden_layer_sizes=(8,), n_filters=2, depth=1, **TINY),
            uncertainty_cv=None,
            random_state=0,
        )
        return est, {"regressor__lr": [1e-3, 1e-2]}, images, _spectra()
    raise ValueError(name)


NAMES = [
    "SpectralCAE",
    "SpectralVAE",
    "GaussianLineFitter",
    "ImageAutoencoder",
    "ImageRegressor",
    "ImageToSpectrum",
]


@pytest.mark.parametrize("name", NAMES)
def test_grid_search_in_two_loky_workers_matches_one_process(name):
    est, grid, X, y = _case(name)
    cv = KFold(2)
    with parallel_config(backend="loky", inner_max_num_threads=1):
        parallel = GridSearchCV(est, grid, cv=cv, n_jobs=2).fit(X, y)
    with threadpool_limits(1):  # BLAS too (the PCA starts), as in the workers
        serial = GridSearchCV(est, grid, cv=cv, n_jobs=1).fit(X, y)
    scores = parallel.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    np.testing.assert_allclose(scores, serial.cv_results_["mean_test_score"], rtol=1e-5)
    assert parallel.best_params_ == serial.best_params_
    # the refitted best model pickles, as it must to travel back from a worker
    best = pickle.loads(pickle.dumps(parallel.best_estimator_))
    out = best.predict(X) if y is not None else best.transform(X)
    ref = parallel.best_estimator_
    # same machine: the unpickled model repeats the computation (see _equality.py)
    np.testing.assert_array_equal(out, ref.predict(X) if y is not None else ref.transform(X))
