"""ImageRegressor: image layouts, the tabular MLP path, target scaling, errors, pickling."""

import pickle

import numpy as np
import pytest

from skspectra.images import ImageRegressor
from skspectra.nn import MLP, ConvRegressor2d

from _equality import assert_same_bits

FAST = dict(n_filters=4, depth=2, hidden_layer_sizes=(16,), max_epochs=30, lr=1e-2, batch_size=16)


@pytest.fixture(scope="module")
def blobs():
    """2-band 12×12 images of one Gaussian blob whose flux ratio and width are the targets."""
    rng = np.random.default_rng(0)
    n, size = 160, 12
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    width = rng.uniform(1.0, 3.0, n)
    ratio = rng.uniform(0.2, 2.0, n)
    profile = np.exp(-0.5 * (xx**2 + yy**2)[None] / width[:, None, None] ** 2)
    images = np.stack([profile, ratio[:, None, None] * profile], axis=1)
    images += rng.normal(0, 0.01, images.shape)
    # targets far from unit scale, to exercise the internal standardisation
    y = np.column_stack([1000 + 100 * width, ratio * 1e-3])
    return images, y


def test_images_4d_fit_predict_learns(blobs):
    images, y = blobs
    reg = ImageRegressor(**FAST, random_state=0).fit(images[:120], y[:120])
    assert isinstance(reg.net_.module_, ConvRegressor2d)
    assert reg.image_shape_ == (2, 12, 12)
    pred = reg.predict(images[120:])
    assert pred.shape == (40, 2) and pred.dtype == np.float64
    # held-out R² per target well above a constant predictor
    resid = np.mean((pred - y[120:]) ** 2, axis=0)
    assert np.all(resid < 0.3 * np.var(y[120:], axis=0))


def test_flat_images_with_image_shape_match_4d(blobs):
    images, y = blobs
    a = ImageRegressor(**{**FAST, "max_epochs": 2}, random_state=0).fit(images, y)
    flat = images.reshape(len(images), -1)
    b = ImageRegressor(**{**FAST, "max_epochs": 2}, image_shape=(2, 12, 12), random_state=0)
    b.fit(flat, y)
    assert b.image_shape_ == (2, 12, 12)
    np.testing.assert_allclose(a.predict(images), b.predict(flat), rtol=1e-6, atol=1e-8)


def test_single_band_3d_and_1d_target(blobs):
    images, y = blobs
    reg = ImageRegressor(**{**FAST, "max_epochs": 2}, random_state=0).fit(images[:, 0], y[:, 0])
    assert reg.image_shape_ == (1, 12, 12)
    pred = reg.predict(images[:5, 0])
    assert pred.shape == (5,)


def test_tabular_is_mlp_and_learns_nonlinear():
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, (400, 3)) * [1, 100, 0.01]  # very different column scales
    y = np.sin(X[:, 0]) + (X[:, 1] / 100) ** 2
    reg = ImageRegressor((32, 32), max_epochs=60, lr=1e-2, batch_size=32, random_state=0)
    reg.fit(X[:300], y[:300])
    assert isinstance(reg.net_.module_, MLP)
    assert reg.image_shape_ is None
    assert reg.score(X[300:], y[300:]) > 0.9


def test_same_seed_same_predictions(blobs):
    images, y = blobs
    a = ImageRegressor(**{**FAST, "max_epochs": 2}, random_state=3).fit(images, y).predict(images)
    b = ImageRegressor(**{**FAST, "max_epochs": 2}, random_state=3).fit(images, y).predict(images)
    assert_same_bits(a, b)


def test_pickle_round_trip(blobs):
    images, y = blobs
    reg = ImageRegressor(**{**FAST, "max_epochs": 2}, random_state=0).fit(images, y)
    clone = pickle.loads(pickle.dumps(reg))
    assert_same_bits(reg.predict(images[:7]), clone.predict(images[:7]))


def test_bad_image_shape_is_clear():
    X = np.zeros((10, 50))
    with pytest.raises(ValueError, match="image_shape"):
        ImageRegressor(image_shape=(2, 5, 6), max_epochs=1).fit(X, np.zeros(10))


def test_wrong_image_size_at_predict_is_clear(blobs):
    images, y = blobs
    reg = ImageRegressor(**{**FAST, "max_epochs": 1}, random_state=0).fit(images, y)
    with pytest.raises(ValueError, match="resample"):
        reg.predict(images[:, :, :10, :10])


def test_bad_hidden_sizes_and_ndim():
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        ImageRegressor(hidden_layer_sizes=(8, 0), max_epochs=1).fit(np.zeros((5, 2)), np.zeros(5))
    with pytest.raises(ValueError, match="dimensions"):
        ImageRegressor(max_epochs=1).fit(np.zeros((5, 1, 2, 2, 2)), np.zeros(5))
