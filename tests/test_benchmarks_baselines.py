"""The fair baselines of ``benchmarks/baselines/`` do what their docstrings say."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from benchmarks.baselines import PCACoefficientRegressor, lsq_bic_greedy, lsq_bic_greedy_batch

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


def test_lsq_bic_greedy_batch_is_the_baseline_spectrum_by_spectrum():
    # The batch's noise, estimated at once, is each spectrum's own: the same lines come out.
    lines = [[], [(1.0, 40.0, 4.0)], [(1.0, 30.0, 3.0), (0.8, 90.0, 5.0)]]
    X = np.stack([spectrum(ls, noise=0.05 * (i + 1), seed=i) for i, ls in enumerate(lines)])
    batch = lsq_bic_greedy_batch(X, max_components=3)
    assert [c.shape[0] for c in batch] == [0, 1, 2]
    for x, components in zip(X, batch, strict=True):
        np.testing.assert_array_equal(components, lsq_bic_greedy(x, max_components=3)[0])


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


def _quadratic_spectra(n=300, n_pixels=25, seed=0):
    """Spectra exactly quadratic in three labels (Teff-, logg- and [Fe/H]-like scales)."""
    rng = np.random.default_rng(seed)
    labels = np.column_stack(
        [rng.uniform(4000, 7000, n), rng.uniform(1, 5, n), rng.uniform(-2, 0.5, n)]
    )
    z = (labels - [5500, 3, -0.75]) / [1000, 1, 0.8]
    products = [z[:, i] * z[:, j] for i in range(3) for j in range(i, 3)]
    terms = np.column_stack([np.ones(n), z, *products])
    Y = terms @ rng.normal(0, 0.3, (terms.shape[1], n_pixels)) + 1.0
    return labels, Y


def test_cannon_recovers_spectra_exactly_quadratic_in_the_labels():
    from benchmarks.baselines import CannonQuadratic

    labels, Y = _quadratic_spectra()
    ivar = np.full(Y.shape, 1e4)
    model = CannonQuadratic().fit(labels[:200], Y[:200], ivar[:200])
    assert model.alpha_ == min(model.alphas)  # exact data: the least shrinkage validates best
    np.testing.assert_allclose(model.predict(labels[200:]), Y[200:], atol=1e-3)
    np.testing.assert_allclose(model.scatter_, 0.0, atol=1e-6)
    exact = CannonQuadratic(alphas=(1e-10,)).fit(labels[:200], Y[:200], ivar[:200])
    np.testing.assert_allclose(exact.predict(labels[200:]), Y[200:], atol=1e-6)


def test_cannon_ignores_masked_pixels():
    from benchmarks.baselines import CannonQuadratic

    labels, Y = _quadratic_spectra(seed=1)
    rng = np.random.default_rng(1)
    ivar = rng.uniform(1e3, 1e4, Y.shape)
    masked = rng.random(Y.shape) < 0.2
    ivar[masked] = 0.0
    corrupted = np.where(masked, 1e6, Y)
    corrupted[0, masked[0]] = np.nan
    clean = CannonQuadratic().fit(labels, Y, ivar)
    dirty = CannonQuadratic().fit(labels, corrupted, ivar)
    assert dirty.alpha_ == clean.alpha_
    np.testing.assert_allclose(dirty.coef_, clean.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dirty.scatter_, clean.scatter_, atol=1e-12)
    # and the exact model is recovered from the unmasked pixels alone
    np.testing.assert_allclose(dirty.predict(labels), Y, atol=1e-3)


def test_cannon_finds_no_intrinsic_scatter_when_the_noise_is_all_there_is():
    """With Gaussian noise of the stated ivar, the fitted intrinsic scatter is small beside it
    (its moment estimate over 2,000 stars has an sd of about 0.25 σ) and the fit averages the
    noise down."""
    from benchmarks.baselines import CannonQuadratic

    labels, Y = _quadratic_spectra(n=2000, n_pixels=10, seed=2)
    sigma = 0.01
    noisy = Y + np.random.default_rng(2).normal(0, sigma, Y.shape)
    model = CannonQuadratic(scatter=True).fit(labels, noisy, np.full(Y.shape, sigma**-2))
    assert model.use_scatter_
    assert np.all(model.scatter_ < 0.5 * sigma)
    assert np.sqrt(np.mean((model.predict(labels) - Y) ** 2)) < 0.2 * sigma


def test_cannon_measures_an_intrinsic_scatter_beyond_the_noise():
    from benchmarks.baselines import CannonQuadratic

    labels, Y = _quadratic_spectra(n=2000, n_pixels=10, seed=3)
    sigma, intrinsic = 0.03, 0.05
    rng = np.random.default_rng(3)
    noisy = Y + rng.normal(0, sigma, Y.shape) + rng.normal(0, intrinsic, Y.shape)
    model = CannonQuadratic(scatter=True).fit(labels, noisy, np.full(Y.shape, sigma**-2))
    np.testing.assert_allclose(model.scatter_, intrinsic, rtol=0.1)
