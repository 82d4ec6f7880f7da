import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.decomposition import PCA

from skspectra.plotting import ImageReconstructionDisplay


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class PCAImages:
    """A stand-in image model: PCA on flattened images, with the estimator's methods."""

    def __init__(self, n_components=2, image_shape=None):
        self.n_components = n_components
        self.image_shape = image_shape

    def fit(self, X, y=None):
        self.pca_ = PCA(self.n_components).fit(np.asarray(X).reshape(len(X), -1))
        return self

    def reconstruct(self, X):
        X = np.asarray(X)
        flat = X.reshape(len(X), -1)
        return self.pca_.inverse_transform(self.pca_.transform(flat)).reshape(X.shape)

    def anomaly_map(self, X, ivar=None):
        residual = np.asarray(X) - self.reconstruct(X)
        return residual if ivar is None else residual * np.sqrt(ivar)

    def score_samples(self, X, ivar=None):
        z = self.anomaly_map(X, ivar)
        return -np.sum(z.reshape(len(z), -1) ** 2, axis=1)


@pytest.fixture
def blobs():
    """40 round blobs of 12×12 pixels; images 7 and 23 carry a bright line (anomalies)."""
    rng = np.random.default_rng(0)
    y, x = np.indices((12, 12))
    width = rng.uniform(1.5, 3.0, (40, 1, 1))
    X = np.exp(-0.5 * ((x - 5.5) ** 2 + (y - 5.5) ** 2) / width**2)
    X = X + rng.normal(0, 0.01, X.shape)
    X[7, 2, :] += 1.0
    X[23, :, 9] += 0.8
    return X


def test_from_estimator_shows_the_worst_ranked(blobs):
    model = PCAImages().fit(blobs)
    disp = ImageReconstructionDisplay.from_estimator(model, blobs, n_images=3)
    assert set(disp.indices_[:2]) == {7, 23}
    scores = model.score_samples(blobs)
    np.testing.assert_allclose(disp.scores_, np.sort(scores)[:3])
    assert disp.axes_.shape == (3, 3)
    first = disp.indices_[0]
    panels = [ax.get_images()[0].get_array() for ax in disp.axes_[0]]
    np.testing.assert_allclose(panels[0], blobs[first])
    np.testing.assert_allclose(panels[1], model.reconstruct(blobs[first : first + 1])[0])
    np.testing.assert_allclose(panels[2], blobs[first] - panels[1])
    assert disp.axes_[0, 0].get_ylabel().startswith(f"{first}\nscore ")
    assert disp.axes_[0, 2].get_title() == "anomaly map"
    vmin, vmax = disp.axes_[0, 2].get_images()[0].get_clim()
    assert vmin == -vmax  # residuals on a scale symmetric about zero


def test_given_indices_ids_and_ivar(blobs):
    model = PCAImages().fit(blobs)
    ivar = np.full(blobs.shape, 4.0)
    ids = np.array([f"stamp{i:02d}" for i in range(40)])
    disp = ImageReconstructionDisplay.from_estimator(
        model, blobs, ivar=ivar, indices=[5, 1], ids=ids, residual="anomaly_map"
    )
    np.testing.assert_array_equal(disp.indices_, [5, 1])
    np.testing.assert_allclose(disp.scores_, model.score_samples(blobs, ivar)[[5, 1]])
    assert disp.axes_[1, 0].get_ylabel().startswith("stamp01")
    assert disp.axes_[0, 2].get_title() == "residual [σ]"
    resid = disp.axes_[0, 2].get_images()[0].get_array()
    np.testing.assert_allclose(resid, 2 * (blobs[5] - model.reconstruct(blobs[5:6])[0]))
    diff = ImageReconstructionDisplay.from_estimator(
        model, blobs, indices=[5], residual="difference"
    )
    assert diff.axes_[0, 2].get_title().startswith("residual (image")


def test_flat_input_uses_the_estimator_image_shape(blobs):
    flat = blobs.reshape(40, -1)
    model = PCAImages(image_shape=(12, 12)).fit(flat)
    disp = ImageReconstructionDisplay.from_estimator(model, flat, n_images=2)
    assert disp.images.shape == (2, 1, 12, 12)
    np.testing.assert_allclose(disp.images[0, 0], blobs[disp.indices_[0]])
    with pytest.raises(ValueError, match="image_shape"):
        ImageReconstructionDisplay.from_estimator(PCAImages().fit(flat), flat)


def test_pipeline_shows_what_its_last_step_sees(blobs):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    flat = blobs.reshape(40, -1)
    pipe = make_pipeline(FunctionTransformer(lambda X: 10 * X), PCAImages(image_shape=(12, 12)))
    pipe.fit(flat)
    disp = ImageReconstructionDisplay.from_estimator(pipe, flat, n_images=2)
    assert set(disp.indices_) == {7, 23}
    np.testing.assert_allclose(disp.images[:, 0], 10 * blobs[disp.indices_])


def test_colour_images_drawn_as_rgb():
    rng = np.random.default_rng(1)
    images = rng.uniform(2, 4, (2, 3, 6, 5))
    disp = ImageReconstructionDisplay(images, images * 0.5, titles=["a", "b"]).plot()
    rgb = disp.axes_[0, 0].get_images()[0].get_array()
    assert rgb.shape == (6, 5, 3)
    lo, hi = images[0].min(), images[0].max()
    np.testing.assert_allclose(rgb, (np.moveaxis(images[0], 0, -1) - lo) / (hi - lo))
    # the reconstruction on the image's scale: half as bright is clipped to black here
    np.testing.assert_array_equal(disp.axes_[0, 1].get_images()[0].get_array(), 0)
    resid = disp.axes_[0, 2].get_images()[0].get_array()
    np.testing.assert_allclose(resid, (images[0] * 0.5).mean(axis=0))


def test_given_axes_and_nan_pixels():
    images = np.ones((1, 4, 4))
    images[0, 0, 0] = np.nan
    fig, axes = plt.subplots(1, 3)
    disp = ImageReconstructionDisplay(images, np.ones((1, 4, 4))).plot(axes=axes)
    assert disp.figure_ is fig and disp.axes_[0, 1] is axes[1]
    shown = disp.axes_[0, 0].get_images()[0].get_array()
    assert np.ma.is_masked(shown[0, 0]) or np.isnan(shown[0, 0])
    assert np.ma.count_masked(shown) == 1


def test_bad_inputs(blobs):
    with pytest.raises(ValueError, match="must match"):
        ImageReconstructionDisplay(blobs[:2], blobs[:3])
    with pytest.raises(ValueError, match="residuals have shape"):
        ImageReconstructionDisplay(blobs[:2], blobs[:2], blobs[:2, :5])
    with pytest.raises(ValueError, match="one entry per image"):
        ImageReconstructionDisplay(blobs[:2], blobs[:2], titles=["a"])
    with pytest.raises(ValueError, match="flat"):
        ImageReconstructionDisplay(blobs[:2].reshape(2, -1), blobs[:2].reshape(2, -1))
    with pytest.raises(ValueError, match="reconstruct"):
        ImageReconstructionDisplay.from_estimator(PCA(), blobs)
    with pytest.raises(ValueError, match="residual must be"):
        ImageReconstructionDisplay.from_estimator(PCAImages().fit(blobs), blobs, residual="x")
