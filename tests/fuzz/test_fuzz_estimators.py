"""Fuzzed input to every estimator's fit and inference methods.

Inference targets fit one tiny model per estimator once (module cache) and fuzz what its methods
receive; fit targets fit a tiny model (1 epoch) on fuzzed data. See ``_fuzz.py`` for the rule.
"""

import functools

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from sklearn.decomposition import PCA

from skspectra import SpectralCAE
from skspectra.images import ImageAutoencoder, ImageRegressor, ImageToSpectrum
from skspectra.lines import GaussianLineFitter
from skspectra.spectra import SpectralVAE

from _fuzz import REJECTED, arrays, assert_finite, call, fuzz, ivars, maybe_list

N, M = 8, 16  # training spectra: 8 of 16 pixels
IMAGE = (1, 6, 6)  # training images: 8 of one band, 6 x 6
N_FEATURES = {"cae": M, "vae": M, "lines": M, "image_ae": IMAGE, "image_reg": IMAGE, "i2s": 3}


def make(name, **params):
    """A tiny instance of each estimator: one epoch, a few filters."""
    small = {"max_epochs": 1, "batch_size": 8, "random_state": 0}
    small.update((k, params.pop(k)) for k in list(params) if k in small)
    if name == "cae":
        return SpectralCAE(n_components=2, n_filters=2, depth=1, **small, **params)
    if name == "vae":
        return SpectralVAE(n_components=2, n_filters=2, depth=1, **small, **params)
    if name == "lines":
        return GaussianLineFitter(
            max_components=1, kernel_sizes=(3,), n_filters=2, n_blocks=1, hidden_size=4,
            **small, **params,
        )  # fmt: skip
    if name == "image_ae":
        return ImageAutoencoder(n_components=2, n_filters=2, depth=1, **small, **params)
    if name == "image_reg":
        return ImageRegressor(hidden_layer_sizes=(4,), n_filters=2, depth=1, **small, **params)
    regressor = ImageRegressor(hidden_layer_sizes=(4,), max_epochs=1, random_state=0)
    return ImageToSpectrum(PCA(2), regressor, random_state=0, **params)


def clean_data(name, n=N):
    """Well-behaved training data for each estimator."""
    rng = np.random.default_rng(1)
    spectra = 1 + 0.1 * rng.standard_normal((n, M))
    if name in ("cae", "vae"):
        return (spectra,)
    if name == "lines":
        x = np.arange(M)
        centre = rng.uniform(4, 12, n)
        flux = np.exp(-0.5 * (x - centre[:, None]) ** 2) + 0.01 * rng.standard_normal((n, M))
        return flux, np.column_stack([np.ones(n), centre, np.ones(n)])
    images = rng.random((n, *IMAGE))
    if name == "image_ae":
        return (images,)
    if name == "image_reg":
        return images, rng.standard_normal(n)
    return rng.standard_normal((n, 3)), spectra


@functools.cache
def fitted_model(name):
    """One model per estimator, fitted once on clean data; ``lines_refine`` refines its lines."""
    if name == "i2s":
        return make(name, uncertainty_cv=2).fit(*clean_data(name))
    if name == "lines_refine":
        return make("lines", refine=True).fit(*clean_data("lines"))
    return make(name).fit(*clean_data(name))


# -- what each method receives ------------------------------------------------------------


@st.composite
def inference_input(draw, name):
    """X of a plausible shape (usually the training one) and fuzzed content."""
    n = draw(st.integers(0, 4))
    features = N_FEATURES[name]
    if isinstance(features, tuple):  # images: (n, C, H, W), (n, H, W) or flat
        layout = draw(st.sampled_from(("chw", "hw", "flat", "wrong")))
        c, h, w = features
        shape = {
            "chw": (n, c, h, w),
            "hw": (n, h, w),
            "flat": (n, c * h * w),
            "wrong": (n, c, h + draw(st.sampled_from((-5, -1, 1))), w),
        }[layout]
    else:
        m = draw(st.sampled_from((features,) * 4 + (features - 1, features + 1, 1, 0)))
        shape = (n, m)
    return draw(arrays(shape))


METHODS = {
    "cae": (
        "transform", "score_samples", "decision_function", "predict", "reconstruct",
        "anomaly_map", "score", "inverse_transform",
    ),
    "vae": (
        "transform", "encode", "score_samples", "decision_function", "predict", "reconstruct",
        "anomaly_map", "score", "inverse_transform", "sample",
    ),
    "lines": ("predict", "predict_components", "predict_n_components", "score", "refine"),
    "image_ae": (
        "transform", "score_samples", "decision_function", "predict", "reconstruct",
        "anomaly_map", "score", "inverse_transform",
    ),
    "image_reg": ("predict", "score"),
    "i2s": ("predict", "predict_latent", "predict_std", "chi2_score", "score"),
}  # fmt: skip
_INFERENCE_DTYPES = st.sampled_from(("float32", "float32", "float32", "float64"))
R2_SCORED = {"lines", "image_reg", "i2s"}  # score is sklearn's RegressorMixin.score (R²)
TAKES_IVAR = {"score_samples", "decision_function", "predict", "anomaly_map", "score", "encode"}


def _run_method(name, model, method, X, draw):
    """Call ``method`` of ``model`` on fuzzed ``X`` (and fuzzed companions); return the result."""
    n = len(X) if hasattr(X, "__len__") else 0
    if method == "inverse_transform":
        Z = draw(arrays((n, draw(st.sampled_from((2, 2, 2, 1, 3))))))
        return call(model.inverse_transform, Z)
    if method == "sample":
        k = draw(st.sampled_from((1, 3, 0, -1, 2.5, "3", np.int64(2))))
        return call(
            model.sample,
            k,
            random_state=0,
            source=draw(st.sampled_from(("prior", "aggregate", "x"))),
        )
    if name == "lines":
        if method == "score":
            return call(model.score, X, draw(arrays((n, 3))))
        if method == "refine":
            model = fitted_model("lines_refine")
            out = call(model.predict, X, ivar=draw(ivars(np.shape(X))), return_std=True)
            if out is REJECTED:
                return out
            # the uncertainties are documented as NaN where undefined, never negative or inf
            assert not np.any(out[1] < 0) and not np.any(np.isinf(out[1])), out[1]
            return out[0]
        return call(getattr(model, method), X)
    if name == "i2s":
        if method == "predict_std":
            return call(model.predict, X, return_std=True)
        if method in ("chi2_score", "score"):
            Y = draw(arrays((n, M)))
            args = (X, Y, draw(ivars((n, M)))) if method == "chi2_score" else (X, Y)
            return call(getattr(model, method), *args)
        return call(getattr(model, method), X)
    if name == "image_reg" and method == "score":
        return call(model.score, X, draw(arrays((n,))))
    kwargs = {}
    if method in TAKES_IVAR and name != "image_reg":
        kwargs["ivar"] = draw(ivars(np.shape(X)))
    if method == "score":
        return call(model.score, X, None, **kwargs)
    return call(getattr(model, method), X, **kwargs)


@pytest.mark.parametrize("name", list(METHODS))
@fuzz
@given(data=st.data())
def test_fuzz_inference(name, data):
    model = fitted_model(name)
    X = maybe_list(data.draw, data.draw(inference_input(name), label="X"))
    method = data.draw(st.sampled_from(METHODS[name]), label="method")
    if name != "i2s":  # float64 inference copies the module: 1 in 4 examples is enough
        model.inference_dtype = data.draw(_INFERENCE_DTYPES, label="inference_dtype")
    out = _run_method(name, model, method, X, data.draw)
    event(f"{method}: {'rejected' if out is REJECTED else 'result'}")
    if out is REJECTED or (method == "score" and name in R2_SCORED and np.shape(X)[0] < 2):
        return  # sklearn's R² of one sample is NaN, with an UndefinedMetricWarning
    assert_finite(out, f"{type(model).__name__}.{method}")


# -- fit ------------------------------------------------------------------------------------


@st.composite
def fit_input(draw, name):
    """Positional arguments of ``fit``, fuzzed, and keyword ones (``ivar``)."""
    n = draw(st.integers(0, 8))
    if name in ("image_ae", "image_reg"):
        hw = st.sampled_from((6, 6, 3, 2, 1))
        c = draw(st.sampled_from((1, 1, 2)))
        shape = draw(st.sampled_from(((n, c, draw(hw), draw(hw)), (n, draw(hw), draw(hw)))))
    elif name == "i2s":
        shape = (n, draw(st.sampled_from((3, 1))))
    else:
        shape = (n, draw(st.sampled_from((M, M, 3, 2, 1, 0))))
    X = draw(arrays(shape))
    kwargs = {}
    if name in ("cae", "vae", "image_ae"):
        kwargs["ivar"] = draw(ivars(shape))
        return (X,), kwargs
    if name == "lines":
        kind = draw(st.sampled_from(("lines", "lines", "generic")))
        if kind == "lines":  # (amplitude, mean, sigma) with sensible positive defaults
            y = draw(arrays((n, 3), dtypes=("float64", "float32", "int64", "object")))
        else:
            y = draw(arrays((n,)))
        return (X, y), kwargs
    if name == "image_reg":
        return (X, draw(arrays(draw(st.sampled_from(((n,), (n, 2))))))), kwargs
    Y = draw(arrays((n, draw(st.sampled_from((M, M, 2, 1))))))
    kwargs["ivar"] = draw(ivars(np.shape(Y)))
    return (X, Y), kwargs


#: The method called on the training data after a successful fit, to check the fitted state.
CHECK_AFTER_FIT = {
    "cae": "score_samples", "vae": "score_samples", "lines": "predict",
    "image_ae": "score_samples", "image_reg": "predict", "i2s": "predict",
}  # fmt: skip


@pytest.mark.parametrize("name", list(METHODS))
@fuzz
@given(data=st.data())
def test_fuzz_fit(name, data):
    args, kwargs = data.draw(fit_input(name), label="fit arguments")
    params = (
        {"uncertainty_cv": data.draw(st.sampled_from((None, 2)))}
        if name == "i2s"
        else {
            "batch_size": data.draw(st.sampled_from((8, 1, 3))),
            "validation_fraction": data.draw(st.sampled_from((None, 0.5))),
        }
    )
    model = make(name, **params)
    out = call(model.fit, *args, **kwargs)
    event(f"fit: {'rejected' if out is REJECTED else 'result'}")
    if out is REJECTED:
        return
    assert out is model
    if hasattr(model, "offset_"):
        assert np.isfinite(model.offset_), model.offset_
    method = CHECK_AFTER_FIT[name]
    result = getattr(model, method)(args[0])
    assert_finite(result, f"{type(model).__name__}.{method} after fit")
