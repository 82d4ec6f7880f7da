"""What the docs say about the code holds: each test checks one statement of the docs."""

from pathlib import Path

from numpydoc.docscrape import FunctionDoc

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
