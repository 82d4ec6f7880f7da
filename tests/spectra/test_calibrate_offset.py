"""``calibrate_offset``: the anomaly threshold from the scores of a whole data set, for
models trained chunk by chunk (whose ``offset_`` otherwise comes from the last chunk)."""

import numpy as np
import pytest

from skspectra import SpectralCAE


@pytest.fixture(scope="module")
def model():
    X = np.random.default_rng(0).normal(size=(60, 24))
    params = dict(n_components=2, n_filters=2, depth=1, max_epochs=1, random_state=0)
    return SpectralCAE(**params, contamination=0.1).fit(X)


def test_offset_is_the_contamination_quantile_of_the_scores(model):
    scores = np.arange(1.0, 101.0)  # quantile 0.1 of 1..100 (linear interpolation): 10.9
    assert model.calibrate_offset(scores) is model
    assert model.offset_ == pytest.approx(10.9)
    assert np.sum(scores < model.offset_) == 10


def test_auto_contamination_uses_tukeys_fence(model):
    scores = np.arange(1.0, 101.0)  # Q1 = 25.75, Q3 = 75.25: fence 25.75 - 1.5 * 49.5
    auto = SpectralCAE(contamination="auto")
    assert auto.calibrate_offset(scores).offset_ == pytest.approx(25.75 - 1.5 * 49.5)


@pytest.mark.parametrize(
    "scores, message",
    [([], "no score"), ([[1.0, 2.0]], "1-D"), ([1.0, np.nan], "finite")],
)
def test_bad_scores_are_refused(model, scores, message):
    with pytest.raises(ValueError, match=message):
        model.calibrate_offset(scores)
