"""The fair baselines of ``benchmarks/baselines.py`` do what their docstrings say."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from benchmarks.baselines import PCACoefficientRegressor, lsq_bic_greedy

N_CHANNELS = 128


def spectrum(lines, noise=0.05, seed=0):
    x = np.arange(N_CHANNELS, dtype=float)
    y = sum(a * np.exp(-0.5 * ((x - m) / s) ** 2) for a, m, s in lines)
    return y + np.random.default_rng(seed).normal(0, noise, N_CHANNELS)


@pytest.mark.parametrize(
    "lines",
    [[], [(1.0, 40.0, 4.0)], [(1.0, 30.0, 3.0), (0.8, 90.0, 5.0)]],
    ids=["no line", "one line", "two lines"],
)
def test_lsq_bic_greedy_stops_at_the_first_bic_rise(lines):
    # A greedy stop fits one line more than it keeps (the fit whose BIC rose), never all three
    components, n_fits = lsq_bic_greedy(spectrum(lines), max_components=3)
    assert components.shape == (len(lines), 3)
    assert n_fits == len(lines) + 1
    for (a, m, s), (a_fit, m_fit, s_fit) in zip(lines, components, strict=True):
        assert a_fit == pytest.approx(a, rel=0.15)
        assert m_fit == pytest.approx(m, abs=0.5)
        assert s_fit == pytest.approx(s, rel=0.15)


def test_lsq_bic_greedy_stops_at_max_components():
    lines = [(1.0, 20.0, 3.0), (1.0, 60.0, 3.0), (1.0, 100.0, 3.0)]
    components, n_fits = lsq_bic_greedy(spectrum(lines), max_components=2)
    assert components.shape == (2, 3)
    assert n_fits == 2


def test_pca_coefficient_regressor_is_exact_on_a_linear_low_rank_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    Y = X @ rng.normal(size=(3, 20)) + 5.0  # rank 3 around a mean spectrum
    model = PCACoefficientRegressor(LinearRegression(), n_components=3).fit(X[:40], Y[:40])
    np.testing.assert_allclose(model.predict(X[40:]), Y[40:], atol=1e-8)


@pytest.mark.parametrize("with_ivar", [False, True])
def test_pca_residual_scores_like_the_cae_and_ranks_a_spike_lowest(with_ivar):
    """The anomaly baseline goes through SpectralCAE's own scoring mixins (which validate with
    the estimators' masked-flux rules): it must fit, score, and find an injected spike."""
    from benchmarks.baselines import PCAResidual

    rng = np.random.default_rng(0)
    x = np.linspace(-1, 1, 60)
    X = 1 + rng.uniform(-0.3, 0.3, (200, 1)) * x + rng.normal(0, 0.01, (200, 60))
    ivar = np.full(X.shape, 1e4) if with_ivar else None
    # novelty: fitted on clean spectra (fitted on the spike too, a component could take it)
    model = PCAResidual(3, n_top_pixels=5, anomaly_score="residual").fit(X, ivar=ivar)
    X = X.copy()
    X[7, 30] += 0.5  # one spectrum with an emission spike
    scores = model.score_samples(X, ivar=ivar)
    assert scores.shape == (200,) and np.all(np.isfinite(scores))
    assert np.argmin(scores) == 7
