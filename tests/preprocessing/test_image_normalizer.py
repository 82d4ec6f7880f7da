"""ImageNormalizer: per-image limits, stretches, layouts, NaN, and the inverse with limits."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skspectra.preprocessing import ImageNormalizer, normalize_images


@pytest.fixture
def images():
    """6 positive images of 2 bands, 5×4 pixels, with very different brightness."""
    rng = np.random.default_rng(0)
    X = rng.gamma(2.0, 1.0, size=(6, 2, 5, 4)) * np.logspace(0, 5, 6)[:, None, None, None]
    X[:, 1] *= 3.0  # the second band is brighter
    return X


def test_linear_min_max_by_hand():
    X = np.array([[[1.0, 3.0], [5.0, 9.0]], [[-2.0, 0.0], [0.0, 2.0]]])
    out = ImageNormalizer().fit_transform(X)
    expected = np.array([[[0.0, 0.25], [0.5, 1.0]], [[0.0, 0.5], [0.5, 1.0]]])
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    ("stretch", "a", "formula"),
    [
        ("asinh", None, lambda u: np.arcsinh(u / 0.1) / np.arcsinh(1 / 0.1)),
        ("asinh", 0.02, lambda u: np.arcsinh(u / 0.02) / np.arcsinh(1 / 0.02)),
        ("log", None, lambda u: np.log(1000 * u + 1) / np.log(1001)),
        ("log", 10.0, lambda u: np.log(10 * u + 1) / np.log(11)),
    ],
)
def test_stretch_formulas_of_the_notes(stretch, a, formula):
    X = np.array([[0.0, 1.0, 2.0, 5.0, 10.0]])
    out = ImageNormalizer(stretch=stretch, a=a).fit_transform(X)
    np.testing.assert_allclose(out[0], formula(X[0] / 10.0), rtol=1e-12, atol=1e-15)
    assert out[0, 0] == 0 and out[0, -1] == pytest.approx(1.0)


@pytest.mark.parametrize("stretch", ["linear", "asinh", "log"])
@pytest.mark.parametrize("per_channel", [False, True])
def test_range_and_exact_inverse(images, stretch, per_channel):
    norm = ImageNormalizer(stretch=stretch, per_channel=per_channel).fit(images)
    out = norm.transform(images)
    assert out.shape == images.shape and out.dtype == np.float64
    assert out.min() == 0.0 and out.max() == pytest.approx(1.0)
    limits = norm.compute_limits(images)
    assert limits.shape == (6, 2 if per_channel else 1, 2)
    back = norm.inverse_transform(out, limits)
    np.testing.assert_allclose(back, images, rtol=1e-9)


def test_each_image_on_its_own(images):
    norm = ImageNormalizer()
    alone = norm.fit_transform(images[2:3])
    np.testing.assert_array_equal(norm.fit_transform(images)[2:3], alone)
    # a brighter copy of an image normalises to the same thing
    np.testing.assert_allclose(norm.transform(1e3 * images[2:3] + 7), alone, atol=1e-12)


def test_per_channel_and_colour(images):
    together = ImageNormalizer().fit_transform(images)
    separate = ImageNormalizer(per_channel=True).fit_transform(images)
    # one limit per image keeps the band ratio: band 1 stays brighter
    assert together[:, 1].mean() > together[:, 0].mean()
    for band in range(2):
        assert np.allclose(separate[:, band].reshape(6, -1).max(axis=1), 1.0)
        assert np.allclose(separate[:, band].reshape(6, -1).min(axis=1), 0.0)


def test_layouts_agree(images):
    flat = images.reshape(6, -1)
    by_4d = ImageNormalizer(per_channel=True).fit_transform(images)
    by_flat = ImageNormalizer(per_channel=True, image_shape=(2, 5, 4)).fit_transform(flat)
    np.testing.assert_array_equal(by_flat, by_4d.reshape(6, -1))
    by_3d = ImageNormalizer().fit_transform(images[:, 0])
    np.testing.assert_array_equal(by_3d, ImageNormalizer().fit_transform(images[:, 0:1])[:, 0])
    # flat without image_shape: one image per row, as a whole
    whole = ImageNormalizer().fit_transform(images).reshape(6, -1)
    np.testing.assert_array_equal(ImageNormalizer().fit_transform(flat), whole)


def test_percentiles_clip_and_inverse_is_exact_inside(images):
    norm = ImageNormalizer(percentile=(10, 90)).fit(images)
    out = norm.transform(images)
    limits = norm.compute_limits(images)
    flat = images.reshape(6, -1)
    np.testing.assert_allclose(limits[:, 0, 0], np.percentile(flat, 10, axis=1))
    np.testing.assert_allclose(limits[:, 0, 1], np.percentile(flat, 90, axis=1))
    assert (out == 0).sum() > 0 and (out == 1).sum() > 0  # clipped tails
    back = norm.inverse_transform(out, limits).reshape(6, -1)
    inside = (flat >= limits[:, 0, :1]) & (flat <= limits[:, 0, 1:])
    np.testing.assert_allclose(back[inside], flat[inside], rtol=1e-9)
    np.testing.assert_allclose(np.clip(flat, limits[:, 0, :1], limits[:, 0, 1:]), back, rtol=1e-9)


def test_nan_pixels_stay_nan_and_are_left_out(images):
    X = images.copy()
    X[0, 0, 0, 0] = np.nan
    X[0, 1, 2, 2] = 1e30  # would be the maximum; it is not NaN so it counts
    X[1, :, :, :] = np.nan  # all masked
    out, limits = normalize_images(X)
    assert np.isnan(out[0, 0, 0, 0]) and np.isfinite(np.delete(out[0].ravel(), 0)).all()
    assert limits[0, 0, 0] == np.nanmin(X[0])
    assert np.isnan(out[1]).all() and np.isnan(limits[1]).all()
    back = ImageNormalizer().inverse_transform(out, limits)
    assert np.isnan(back[0, 0, 0, 0])
    np.testing.assert_allclose(back[2:], images[2:], rtol=1e-9)


def test_constant_image_maps_to_zero():
    X = np.full((2, 3, 3), 4.0)
    norm = ImageNormalizer(stretch="log")
    out = norm.fit_transform(X)
    np.testing.assert_array_equal(out, 0.0)
    np.testing.assert_array_equal(norm.inverse_transform(out, norm.compute_limits(X)), X)


def test_in_a_pipeline_and_set_output(images):
    flat = images.reshape(6, -1)
    pipe = make_pipeline(FunctionTransformer(np.log1p), ImageNormalizer(stretch="asinh"))
    out = pipe.fit_transform(flat)
    assert out.shape == flat.shape and 0 <= out.min() and out.max() <= 1
    frame = ImageNormalizer().set_output(transform="pandas").fit_transform(flat)
    assert list(frame.columns[:2]) == ["x0", "x1"]


def test_errors(images):
    norm = ImageNormalizer().fit(images)
    with pytest.raises(ValueError, match="stateless.*compute_limits"):
        norm.inverse_transform(norm.transform(images))
    with pytest.raises(ValueError, match=r"limits must have shape \(6, 1, 2\)"):
        norm.inverse_transform(norm.transform(images), np.zeros((6, 2)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        norm.inverse_transform(images, norm.compute_limits(images))
    for bad in [(50, 50), (-1, 50), (10, 101), (1, 2, 3)]:
        with pytest.raises(ValueError, match="percentile must be"):
            ImageNormalizer(percentile=bad).fit(images)
    with pytest.raises(ValueError, match="image_shape"):
        ImageNormalizer(image_shape=(3, 5, 4)).fit(images.reshape(6, -1))
    with pytest.raises(ValueError, match="image_shape"):
        ImageNormalizer(image_shape=(2, 4, 5)).fit(images)
    with pytest.raises(ValueError, match="stretch"):
        ImageNormalizer(stretch="sqrt").fit(images)
    with pytest.raises(ValueError, match="features"):
        norm.transform(images[:, :1])
    with pytest.raises(ValueError, match="dimensions"):
        ImageNormalizer().fit(np.zeros((2, 1, 3, 3, 3)))


def test_n_features_in_counts_pixels_in_every_layout(images):
    assert ImageNormalizer().fit(images).n_features_in_ == 40
    assert ImageNormalizer().fit(images[:, 0]).n_features_in_ == 20
    assert ImageNormalizer().fit(images.reshape(6, -1)).n_features_in_ == 40
    out = ImageNormalizer().fit_transform(images[:, 0].tolist())
    assert out.shape == (6, 5, 4)
