"""Pooling of image anomaly maps: the three detector statistics and their tail probabilities."""

import copy

import numpy as np
import pytest

from skspectra import ImageAutoencoder
from skspectra.images._pooling import (
    MIN_LINE,
    STREAK_CLIP,
    log_min_tail,
    pooled_statistics,
    streak_statistic,
    tail_spread,
)


def test_streak_statistic_is_the_line_integral_per_root_length():
    # one band, a row of z = 2 across a 24 px wide map: integral 2 * 24 over √24
    z = np.zeros((1, 1, 24, 24))
    z[0, 0, 10, :] = 2.0
    assert streak_statistic(z)[0] == pytest.approx(2.0 * np.sqrt(24), rel=0.03)
    # bands are summed over √C: the same row in 4 bands counts twice as much
    z4 = np.repeat(z, 4, axis=1)
    assert streak_statistic(z4)[0] == pytest.approx(2 * streak_statistic(z)[0], rel=1e-9)


def test_a_bright_pixel_is_clipped_out_of_the_streak_detector():
    z = np.zeros((2, 1, 24, 24))
    z[0, 0, 5, 7] = 1e3  # a cosmic ray: the point detector's job
    z[1, 0, :, 12] = 2.5  # a faint trail, no pixel above 3σ
    point_like, trail = streak_statistic(z)
    # clipped at 3σ, over a line of at least MIN_LINE pixels
    assert 0 < point_like <= 1.01 * STREAK_CLIP / np.sqrt(MIN_LINE)
    assert trail > 4 * point_like


def test_point_and_extended_statistics():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 2, 6, 6))
    used = np.ones(z.shape, dtype=bool)
    used[1, :, :3] = False
    z[~used] = 0.0
    stats = pooled_statistics(z, used, n_top_pixels=5)
    for i in range(3):
        z2 = np.sort(z[i].ravel() ** 2)
        assert stats[i, 0] == pytest.approx(np.mean(z2[-5:]))
        assert stats[i, 2] == pytest.approx(np.sum(z2) / used[i].sum())


def test_tail_probabilities_within_and_beyond_the_reference():
    reference = np.sort(np.column_stack([np.arange(1.0, 10.0), np.arange(1.0, 10.0)]), axis=0)
    spread = tail_spread(reference)
    # 9 reference values: P(S >= 5) = (1 + 5) / 10; the second detector is less surprised
    got = log_min_tail(np.array([[5.0, 1.0]]), reference, spread)
    assert got[0] == pytest.approx(np.log(6 / 10))
    # beyond the largest value: below 1/10 and falling with the distance
    far = log_min_tail(np.array([[10.0, 0.0], [20.0, 0.0], [0.0, 30.0]]), reference, spread)
    assert far[0] < np.log(1 / 10)
    assert far[1] < far[0]
    assert far[2] == pytest.approx(np.log(1 / 10) - 21.0 / spread[1])
    # the smallest probability of the row is kept
    both = log_min_tail(np.array([[2.0, 8.0]]), reference, spread)
    assert both[0] == pytest.approx(np.log(3 / 10))  # 8 and 9 are at least 8


def _blobs(n, rng, side=16):
    yy, xx = np.mgrid[:side, :side] - (side - 1) / 2
    cy, cx = rng.uniform(-1.5, 1.5, (2, n, 1, 1))
    width = rng.uniform(1.5, 2.5, (n, 1, 1))
    img = rng.uniform(0.5, 1.0, (n, 1, 1)) * np.exp(
        -0.5 * ((yy - cy) ** 2 + (xx - cx) ** 2) / width**2
    )
    return (img + rng.normal(0, 0.02, img.shape))[:, None]


@pytest.fixture(scope="module")
def fitted():
    images = _blobs(96, np.random.default_rng(0))
    ae = ImageAutoencoder(n_components=4, n_filters=4, depth=2, max_epochs=40, batch_size=8)
    return ae.set_params(lr=5e-3, random_state=0).fit(images)


def test_faint_trails_are_found_by_the_detectors_more_than_by_the_worst_pixels(fitted):
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    X = _blobs(60, rng)
    for i in range(30, 60):  # 2.5 σ of the noise per pixel, along a whole row or column
        line = (slice(None), rng.integers(2, 14))
        X[(i, 0, *(line if i % 2 else line[::-1]))] += 0.05
    y = np.r_[np.zeros(30), np.ones(30)]
    auc = roc_auc_score(y, -fitted.score_samples(X))
    auc_top = roc_auc_score(y, -_rescored(fitted, "top_pixels").score_samples(X))
    assert auc > 0.83
    assert auc > auc_top + 0.03


def _rescored(fitted, pooling, n_top_pixels=None):
    """A copy of ``fitted`` scoring with another rule without refitting (score_samples only:
    its ``offset_`` stays the fitted rule's)."""
    n_top_pixels = n_top_pixels or fitted.n_top_pixels
    params = {**fitted.get_params(), "pooling": pooling, "n_top_pixels": n_top_pixels}
    model = ImageAutoencoder(**params)
    model.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    model._fitted_scoring = {"pooling": pooling, "n_top_pixels": n_top_pixels}
    return model


def test_scoring_after_changing_the_pooling_asks_for_a_refit(fitted, tmp_path):
    from skspectra.io import load_model, save_model

    X = _blobs(5, np.random.default_rng(5))
    model = copy.copy(fitted)  # set_params below changes the copy, not the shared fixture
    expected = fitted.score_samples(X)
    for change in ({"pooling": "top_pixels"}, {"n_top_pixels": 4}):
        model.set_params(**change)
        with pytest.raises(ValueError, match="fit it again after set_params"):
            model.score_samples(X)
        with pytest.raises(ValueError, match="fit it again after set_params"):
            model.predict(X)
        model.set_params(pooling="detectors", n_top_pixels=2)
        np.testing.assert_array_equal(model.score_samples(X), expected)
    save_model(fitted, tmp_path / "ae.zip")
    loaded = load_model(tmp_path / "ae.zip")
    np.testing.assert_array_equal(loaded.score_samples(X), expected)
    with pytest.raises(ValueError, match="pooling='detectors' and n_top_pixels=2"):
        loaded.set_params(pooling="top_pixels").score_samples(X)


def test_top_pixels_pooling_is_minus_the_mean_of_the_worst_squares(fitted):
    X = _blobs(10, np.random.default_rng(4))
    model = _rescored(fitted, "top_pixels", n_top_pixels=16)
    z2 = np.sort(fitted.anomaly_map(X).reshape(10, -1) ** 2, axis=1)
    np.testing.assert_allclose(model.score_samples(X), -np.mean(z2[:, -16:], axis=1))


def test_detector_scores_are_log_tail_probabilities_of_the_training_images(fitted):
    n = len(fitted.reference_statistics_)
    scores = fitted.score_samples(_blobs(20, np.random.default_rng(6)))
    assert np.all(scores <= 0.0)
    assert np.all(np.diff(fitted.reference_statistics_, axis=0) >= 0)
    assert fitted.reference_statistics_.shape == (n, 3)
