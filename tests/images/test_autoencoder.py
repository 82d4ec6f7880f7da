"""ImageAutoencoder: layouts, learning, masks, ivar, skips, augmentation, anomalies, pipelines."""

import pickle

import numpy as np
import pytest
import torch
from sklearn import config_context
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.dataset import Dataset

from skspectra import ImageAutoencoder
from skspectra.images._augment import RandomDihedral
from skspectra.nn import ImageAutoencoder2d

from _equality import assert_same_bits

SMALL = dict(n_components=4, n_filters=4, depth=2, batch_size=16, random_state=0)
SIDE = 12


def _blobs(n, rng, side=SIDE):
    """Round Gaussian blobs of random width and brightness near the centre, plus faint noise."""
    yy, xx = np.mgrid[:side, :side] - (side - 1) / 2
    cy, cx = rng.uniform(-1.5, 1.5, (2, n, 1, 1))
    width = rng.uniform(1.2, 2.5, (n, 1, 1))
    amp = rng.uniform(0.5, 1.0, (n, 1, 1))
    img = amp * np.exp(-0.5 * ((yy - cy) ** 2 + (xx - cx) ** 2) / width**2)
    return (img + rng.normal(0, 0.01, img.shape))[:, None]  # (n, 1, side, side)


@pytest.fixture(scope="module")
def images():
    return _blobs(96, np.random.default_rng(0))


@pytest.fixture(scope="module")
def fitted(images):
    return ImageAutoencoder(max_epochs=60, lr=5e-3, **{**SMALL, "batch_size": 8}).fit(images)


def test_layouts_in_and_out(fitted, images):
    n = len(images)
    assert fitted.image_shape_ == (1, SIDE, SIDE)
    assert fitted.n_features_in_ == SIDE * SIDE
    Z = fitted.transform(images)
    assert Z.shape == (n, 4)
    assert fitted.inverse_transform(Z).shape == images.shape  # fit layout: (n, C, H, W)
    assert fitted.reconstruct(images).shape == images.shape
    hw = images[:, 0]
    assert fitted.reconstruct(hw).shape == hw.shape
    assert fitted.anomaly_map(hw).shape == hw.shape
    np.testing.assert_allclose(fitted.reconstruct(hw), fitted.reconstruct(images)[:, 0])
    assert fitted.score_samples(images).shape == (n,)
    assert list(fitted.get_feature_names_out()) == [f"imageautoencoder{i}" for i in range(4)]


def test_learns_to_reconstruct(fitted, images):
    mse = np.mean((fitted.reconstruct(images) - images) ** 2)
    # blobs vary by ~0.11 rms around the mean image; a useful model does much better
    assert mse < 0.25 * np.var(images - images.mean(axis=0))
    np.testing.assert_allclose(
        fitted.inverse_transform(fitted.transform(images)), fitted.reconstruct(images), atol=1e-10
    )


def test_flat_input_needs_image_shape(images):
    flat = images.reshape(len(images), -1)
    with pytest.raises(ValueError, match="image_shape"):
        ImageAutoencoder(max_epochs=1, **SMALL).fit(flat)
    with pytest.raises(ValueError, match="holds 100 pixels"):
        ImageAutoencoder(image_shape=(1, 10, 10), max_epochs=1, **SMALL).fit(flat)
    est = ImageAutoencoder(image_shape=(1, -1, SIDE), max_epochs=1, **SMALL).fit(flat)
    assert est.image_shape_ == (1, SIDE, SIDE)
    assert est.reconstruct(flat).shape == flat.shape
    with pytest.raises(ValueError, match="fitted on"):
        ImageAutoencoder(max_epochs=1, **SMALL).fit(images).transform(images.reshape(-1, 1, 9, 16))


def test_pipeline_with_standard_scaler(images):
    flat = images.reshape(len(images), -1)
    pipe = make_pipeline(
        StandardScaler(), ImageAutoencoder(image_shape=(1, SIDE, SIDE), max_epochs=2, **SMALL)
    ).fit(flat)
    assert pipe.transform(flat).shape == (len(flat), 4)
    assert pipe.inverse_transform(pipe.transform(flat)).shape == flat.shape
    assert pipe.score_samples(flat).shape == (len(flat),)
    assert set(np.unique(pipe.predict(flat))) <= {-1, 1}


def test_grid_search_prefers_the_model_that_reconstructs(images):
    """``score`` ranks models for a search: a learning rate that trains beats one that
    leaves the network at its random start, on held-out folds."""
    search = GridSearchCV(ImageAutoencoder(max_epochs=3, **SMALL), {"lr": [1e-9, 5e-3]}, cv=2).fit(
        images
    )
    assert search.best_params_["lr"] == 5e-3
    untrained, trained = search.cv_results_["mean_test_score"]
    assert trained > untrained  # (measured: -0.029 against -0.040)
    assert search.best_score_ == trained


def test_nan_pixels_are_masked(fitted, images):
    X = images[:8].copy()
    X[0, 0, 3, 4] = np.nan
    X[1, 0, :, 0] = np.nan
    garbage = np.where(np.isnan(X), 1e3, X)
    ivar = np.where(np.isnan(X), 0.0, 1.0)
    # NaN and ivar = 0 mean the same thing; what a masked pixel holds does not matter
    np.testing.assert_allclose(fitted.reconstruct(X), fitted.reconstruct(garbage, ivar=ivar))
    z = fitted.anomaly_map(X)
    assert z[0, 0, 3, 4] == 0 and np.all(z[1, 0, :, 0] == 0)
    assert np.all(np.isfinite(fitted.score_samples(X)))
    est = ImageAutoencoder(max_epochs=2, **SMALL).fit(np.concatenate([X, images[8:]]))
    assert np.all(np.isfinite(est.residual_scale_))
    with pytest.raises(ValueError, match="every pixel masked"):
        fitted.score_samples(np.full((1, 1, SIDE, SIDE), np.nan))
    with pytest.raises(ValueError, match="infinity|inf"):
        fitted.transform(np.where(np.isnan(X), np.inf, X))


def test_ivar_weights_scores(fitted, images):
    X = images[:8]
    ivar = np.full(X.shape, 4.0)
    z = fitted.anomaly_map(X, ivar=ivar)
    np.testing.assert_allclose(z, 2.0 * (X - fitted.reconstruct(X)))
    with pytest.raises(ValueError, match="ivar has shape"):
        fitted.score_samples(X, ivar=ivar[:, 0])
    with pytest.raises(ValueError, match="negative"):
        fitted.score_samples(X, ivar=-ivar)
    # ivar through a Pipeline with metadata routing
    with config_context(enable_metadata_routing=True):
        ae = ImageAutoencoder(max_epochs=1, **SMALL).set_fit_request(ivar=True)
        pipe = make_pipeline(ae).fit(images, ivar=np.ones(images.shape))
    assert pipe[-1].offset_ is not None


def test_ivar_zero_pixel_does_not_drive_the_loss(images):
    """A wild pixel with ivar = 0 in every image changes nothing in training."""
    wild = images.copy()
    wild[:, 0, 0, 0] = 50.0
    ivar = np.ones(images.shape)
    ivar[:, 0, 0, 0] = 0.0
    a = ImageAutoencoder(max_epochs=3, augment=False, **SMALL).fit(images, ivar=ivar)
    b = ImageAutoencoder(max_epochs=3, augment=False, **SMALL).fit(wild, ivar=ivar)
    np.testing.assert_allclose(a.history_[:, "train_loss"], b.history_[:, "train_loss"], rtol=1e-5)


def test_skip_connections_refuse_inverse_transform(images):
    est = ImageAutoencoder(skip_connections=True, max_epochs=2, **SMALL).fit(images)
    assert est.reconstruct(images).shape == images.shape
    assert est.transform(images).shape == (len(images), 4)
    with pytest.raises(ValueError, match="skip_connections=True"):
        est.inverse_transform(est.transform(images))
    with pytest.raises(ValueError, match="skip connections"):
        est.net_.module_.decode(torch.zeros(1, 4))


def test_augmentation_in_training_batches_only(fitted, images):
    # 16 copies of one asymmetric image: shuffling cannot change a batch, only augmentation can
    one = np.arange(SIDE * SIDE, dtype=np.float32).reshape(1, SIDE, SIDE)
    X = np.repeat(one[None], 16, axis=0)
    y = np.stack([X, X + 1000], axis=1)  # target and weight map
    ds = Dataset(X, y)
    base = torch.as_tensor(one)
    symmetries = [
        torch.rot90(torch.flip(base, (-1,)) if f else base, k, (-2, -1))
        for f in (0, 1)
        for k in range(4)
    ]
    torch.manual_seed(0)
    Xb, yb = next(iter(fitted.net_.get_iterator(ds, training=True)))
    assert all(any(torch.equal(x, s) for s in symmetries) for x in Xb)
    assert sum(not torch.equal(x, base) for x in Xb) >= len(Xb) // 2
    # image and weight map moved together
    assert torch.equal(yb[:, 0], Xb) and torch.equal(yb[:, 1], Xb + 1000)
    Xe, ye = next(iter(fitted.net_.get_iterator(ds, training=False)))
    assert all(torch.equal(x, base) for x in Xe)
    # inference is deterministic
    assert_same_bits(fitted.transform(images), fitted.transform(images))


def test_non_square_images_flip_only():
    collate = RandomDihedral(rotate=False)
    X = torch.arange(2 * 1 * 3 * 5, dtype=torch.float32).reshape(2, 1, 3, 5)
    batch = [(X[i], torch.stack([X[i], X[i]])) for i in range(2)]
    torch.manual_seed(0)
    for _ in range(10):
        Xb, _ = collate(batch)
        assert Xb.shape == (2, 1, 3, 5)
    est = ImageAutoencoder(max_epochs=2, **SMALL).fit(_blobs(40, np.random.default_rng(1))[..., :9])
    assert est.reconstruct(np.zeros((2, 1, SIDE, 9))).shape == (2, 1, SIDE, 9)


def test_injected_streak_ranks_lowest(fitted):
    X = _blobs(30, np.random.default_rng(5))
    X[7, 0, 2, 1:11] += 0.8  # a bright streak across the top of one stamp
    scores = fitted.score_samples(X)
    assert np.argmin(scores) == 7
    assert fitted.predict(X)[7] == -1
    np.testing.assert_allclose(fitted.decision_function(X), scores - fitted.offset_)


def test_bce_loss(images):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ImageAutoencoder(loss="bce", max_epochs=1, **SMALL).fit(images * 3)
    X = np.clip(images, 0, 1)
    est = ImageAutoencoder(loss="bce", max_epochs=3, **SMALL).fit(X)
    rec = est.reconstruct(X)
    assert rec.min() >= 0 and rec.max() <= 1


def test_pickle_round_trip(fitted, images):
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(loaded.score_samples(images), fitted.score_samples(images))


@pytest.mark.parametrize("size", [(32, 32), (17, 23), (1, 5)])
@pytest.mark.parametrize("skip", [False, True])
def test_module_any_image_size(size, skip):
    module = ImageAutoencoder2d(3, size, 8, 4, 3, skip_connections=skip)
    x = torch.randn(2, 3, *size)
    assert module(x).shape == x.shape
    assert module.encode(x).shape == (2, 8)
    if not skip:
        assert module.decode(module.encode(x)).shape == x.shape
