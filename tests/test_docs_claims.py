"""What the docs say about the code holds: each test checks one statement of the docs."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import sklearn
from numpydoc.docscrape import FunctionDoc
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skspectra import SpectralCAE
from skspectra.datasets import make_gaussian_spectra

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "user_guide" / "index.rst").read_text()
TINY = {"n_filters": 2, "depth": 1, "max_epochs": 1, "batch_size": 16, "random_state": 0}


def test_make_gaussian_spectra_states_what_it_returns():
    (first, *_) = FunctionDoc(make_gaussian_spectra)["Returns"]
    text = " ".join(first.desc)
    assert "alone" in text and "X, params, noise = make_gaussian_spectra" in text
    assert len(make_gaussian_spectra(3, 16, return_params=True, random_state=0)) == 3


def test_the_noise_model_is_described_as_it_is_fitted():
    """skspectra/spectra/_noise.py fits a median polish of log|residual|, not a MAD per pixel."""
    assert "1.4826 × MAD" not in GUIDE
    assert "median polish" in GUIDE and "_noise.py" in GUIDE


@pytest.fixture
def spectra():
    rng = np.random.default_rng(0)
    X = 1 + 0.05 * rng.standard_normal((60, 32))
    return X, np.full_like(X, 400.0)


def test_a_search_takes_ivar_by_step_name_as_the_guide_says(spectra):
    X, ivar = spectra
    assert "GridSearchCV(pipe, grid).fit(X, spectralcae__ivar=ivar)" in GUIDE
    search = GridSearchCV(
        make_pipeline(StandardScaler(), SpectralCAE(**TINY)),
        {"spectralcae__n_components": [2, 4]},
        cv=2,
    ).fit(X, spectralcae__ivar=ivar)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_metadata_routing_in_a_search_gives_nan_scores_as_the_guide_warns(spectra):
    """If scikit-learn fixes this, the guide's warning must go: this test will say so."""
    X, ivar = spectra
    assert "a search\nover the pipeline gives NaN scores" in GUIDE
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(StandardScaler(), SpectralCAE(**TINY).set_fit_request(ivar=True))
        search = GridSearchCV(pipe, {"spectralcae__n_components": [2, 4]}, cv=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn's FitFailedWarning for each fold
            search.fit(X, ivar=ivar)
    assert np.all(np.isnan(search.cv_results_["mean_test_score"]))
