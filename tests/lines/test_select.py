"""Choosing the number of lines: select_components and GaussianLineFitter(refine=True)."""

import numpy as np
import pytest

from skspectra.datasets import make_gaussian_spectra
from skspectra.lines import (
    GaussianLineFitter,
    count_components,
    gaussian_sum,
    refine_components,
    select_components,
)
from skspectra.lines._refine import _count_log_prior, _more_than

N = 128
NOISE = 0.1
TWO_LINES = np.array([[1.5, 40.0, 3.0], [1.0, 85.0, 4.0]])  # S/N 15 and 10, far apart


def spectrum(lines, seed=0, slope=0.0, offset=0.0):
    rng = np.random.default_rng(seed)
    t = np.arange(N) / (N - 1) - 0.5
    y = gaussian_sum(np.asarray(lines, dtype=float).reshape(1, -1), N)[0]
    return y + offset + slope * t + NOISE * rng.standard_normal(N)


def test_adds_the_line_the_first_guess_missed():
    y = spectrum(TWO_LINES, slope=0.8, offset=0.3)
    out = select_components(y, TWO_LINES[:1] * [1.1, 1.0, 0.9])
    assert out.n_components == 2
    assert set(out.criterion) >= {1, 2}
    assert out.criterion[2] < out.criterion[1]
    np.testing.assert_allclose(out.components[:, 1], TWO_LINES[:, 1], atol=1.0)
    np.testing.assert_allclose(out.components[:, 0], TWO_LINES[:, 0], rtol=0.2)
    # The continuum coefficients (offset, end-to-end slope / 2) are found too.
    np.testing.assert_allclose(out.continuum, [0.3, 0.4], atol=0.1)


def test_drops_a_spurious_line():
    y = spectrum(TWO_LINES[:1], seed=1)
    guess = np.vstack([TWO_LINES[:1], [[0.3, 100.0, 2.0]]])  # no line at 100
    out = select_components(y, guess)
    assert out.n_components == 1
    assert out.criterion[1] < out.criterion[2]
    assert abs(out.components[0, 1] - 40.0) < 1.0


def test_keeps_a_right_count_and_skips_clear_cases():
    y = spectrum(TWO_LINES, seed=2)
    out = select_components(y, TWO_LINES, fast=True)
    assert out.n_components == 2
    # Both lines are far above the BIC cost and the residual is noise: one fit is enough.
    assert out.n_fits == 1
    slow = select_components(y, TWO_LINES, fast=False)
    assert slow.n_components == 2 and slow.n_fits == 3
    np.testing.assert_allclose(slow.components, out.components, rtol=1e-6)


def test_forward_search_from_nothing_is_least_squares_plus_bic():
    y = spectrum(TWO_LINES, seed=3, slope=-0.5)
    out = select_components(y, np.empty((0, 3)), search="forward", max_components=3)
    assert sorted(out.criterion) == [0, 1, 2, 3]
    assert out.n_components == 2
    assert min(out.criterion, key=out.criterion.get) == 2
    np.testing.assert_allclose(out.components[:, 1], TWO_LINES[:, 1], atol=1.0)


def test_known_noise_and_estimated_noise_agree():
    y = spectrum(TWO_LINES, seed=4)
    a = select_components(y, TWO_LINES[:1])
    b = select_components(y, TWO_LINES[:1], ivar=np.full(N, NOISE**-2))
    assert a.n_components == b.n_components == 2
    np.testing.assert_allclose(a.components, b.components, rtol=1e-3)


def test_count_prior_from_slot_probabilities():
    # P(K > 0) = 0.9, P(K > 1) = 0.2, P(K > 2) = 0.05: P(K) = 0.1, 0.7, 0.15, 0.05.
    np.testing.assert_allclose(
        np.exp(_count_log_prior([0.9, 0.2, 0.05])), [0.1, 0.7, 0.15, 0.05], atol=1e-12
    )
    # Out-of-order slot probabilities are made non-increasing first (_more_than).
    np.testing.assert_allclose(
        np.exp(_count_log_prior(_more_than([0.5, 0.8]))), [0.5, 1e-4, 0.5], atol=1e-12
    )


def test_count_prior_decides_an_ambiguous_line():
    faint = np.array([[1.5, 40.0, 3.0], [0.22, 85.0, 3.0]])  # second line at S/N 2.2
    y = spectrum(faint, seed=5)
    plain = select_components(y, faint, fast=False)
    sure = select_components(y, faint, fast=False, count_probability=[1.0, 0.9999, 0.0])
    doubt = select_components(y, faint, fast=False, count_probability=[1.0, 0.0001, 0.0])
    assert sure.n_components == 2 and doubt.n_components == 1
    # The prior only shifts the criterion by -2 ln P(K).
    for k in plain.criterion:
        shift = sure.criterion[k] - plain.criterion[k]
        assert shift == pytest.approx(-2 * _count_log_prior([1.0, 0.9999, 0.0])[k])


def test_search_probability_trusts_a_confident_first_guess():
    faint = np.array([[1.5, 40.0, 3.0], [0.22, 85.0, 4.0]])  # Δχ² of the second line ~ 34
    y = spectrum(faint, seed=1)
    start = faint[:1] * [1.1, 1.0, 0.9]
    doubt = [0.99, 0.05, 0.01]  # the detector is sure of one line, doubts a second
    searched = select_components(y, start, count_probability=doubt)
    trusted = select_components(y, start, count_probability=doubt, search_probability=0.1)
    # Without the option the faint line is found (the data outweigh the prior) ...
    assert searched.n_components == 2 and 2 in searched.criterion
    # ... with it, two lines are never tried, and the fit of one line is the same.
    assert trusted.n_components == 1 and 2 not in trusted.criterion
    assert trusted.criterion[1] == pytest.approx(searched.criterion[1])
    # A second line above the option's probability is searched for.
    likely = [0.99, 0.2, 0.01]
    assert (
        select_components(y, start, count_probability=likely, search_probability=0.1)[
            "n_components"
        ]
        == 2
    )
    # No count prior: the option has nothing to go by and changes nothing.
    assert select_components(y, start, search_probability=0.1).n_components == 2
    # A strong line that a wrongly confident detector missed leaves an excess χ² in the fit
    # of one line, so it is searched for, and found, all the same.
    y = spectrum(TWO_LINES, slope=0.8, offset=0.3)
    strong = select_components(
        y, TWO_LINES[:1], count_probability=[0.99, 1e-4, 0.0], search_probability=0.1
    )
    assert strong.n_components == 2


@pytest.mark.parametrize("value", [-0.1, 1.0, 2])
def test_bad_search_probability_raises(value):
    with pytest.raises(ValueError, match="search_probability"):
        select_components(np.zeros(N), np.empty((0, 3)), search_probability=value)


def test_a_sloped_continuum_biases_lines_unless_fitted():
    y = spectrum(TWO_LINES[:1], seed=6, slope=3.0, offset=1.0)
    flat, _ = refine_components(y, TWO_LINES[:1])
    tilted, _ = refine_components(y, TWO_LINES[:1], continuum="linear")
    assert abs(tilted[0, 0] - 1.5) < 0.15
    assert abs(flat[0, 0] - 1.5) > 0.5  # the offset at the line is added to its height


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"search": "all"}, "search"), ({"continuum": "cubic"}, "continuum")]
)
def test_bad_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        select_components(np.zeros(N), np.empty((0, 3)), **kwargs)


@pytest.fixture(scope="module")
def one_line_net():
    """A network that has only ever seen one line: it under-counts two-line spectra."""
    X, y, _ = make_gaussian_spectra(
        600,
        N,
        n_components=1,
        sigma_range=(2.0, 5.0),
        snr_range=(8.0, 20.0),
        noise_range=NOISE,
        return_params=True,
        random_state=0,
    )
    y = np.hstack([y, np.zeros((len(y), 3))])
    return GaussianLineFitter(
        max_components=2, n_filters=2, n_blocks=2, hidden_size=16, max_epochs=3, random_state=0
    ).fit(X, y)


def test_refine_picks_k_plus_one_when_the_network_under_counts(one_line_net):
    X = np.stack([spectrum(TWO_LINES, seed=s, slope=0.5) for s in range(3)])
    assert np.all(one_line_net.predict_n_components(X) == 1)
    for select in ("bic", "bic_prior"):
        one_line_net.set_params(refine=True, refine_n_components=select)
        # bic_prior: the network is sure there is no second line (P ~ 0), and the data
        # (Δχ² of ~100 against a cost of ~15) must still win over its -2 ln 1e-4 = 18.
        y_pred = one_line_net.predict(X)
        assert np.all(count_components(y_pred) == 2), select
        assert np.all(one_line_net.predict_n_components(X) == 2)
        np.testing.assert_allclose(y_pred[:, [1, 4]], np.tile([40.0, 85.0], (3, 1)), atol=1.0)
    fixed = one_line_net.set_params(refine_n_components="fixed").predict(X)
    assert np.all(count_components(fixed) == 1)
    table = one_line_net.set_params(refine_n_components="bic").predict_components(X)
    assert len(table) == 6 and np.all(np.isfinite(table["amplitude_err"]))
    one_line_net.set_params(refine=False)


def test_noise_of_a_batch_is_each_spectrum_own():
    # GaussianLineFitter(refine=True) estimates the noise of a whole batch in one call; each
    # spectrum must get the very number its own estimate gives, so that a spectrum's lines
    # do not depend on the batch it came in.
    from skspectra.lines._refine import _robust_noise

    X = np.stack([spectrum(TWO_LINES, seed=s, slope=0.2 * s) for s in range(5)])
    unscaled = _robust_noise(X[3])
    X[3] *= 50.0  # another noise level
    batch = _robust_noise(X)
    assert batch.shape == (5,)
    assert batch.tolist() == [float(_robust_noise(x)) for x in X]
    # The lines' slopes bias the differences a little upwards, never by half.
    assert np.all((batch[[0, 1, 2, 4]] > 0.8 * NOISE) & (batch[[0, 1, 2, 4]] < 1.5 * NOISE))
    np.testing.assert_allclose(batch[3], 50 * unscaled, rtol=1e-12)
    # A flat spectrum has no noise to measure: the floor keeps the weights finite.
    assert 0 < _robust_noise(np.zeros(N)) < 1e-300


def test_given_noise_is_the_estimate_it_replaces():
    from skspectra.lines._refine import _robust_noise

    y = spectrum(TWO_LINES, seed=6)
    guess = TWO_LINES[:1] * [1.1, 1.0, 0.9]
    own = select_components(y, guess, count_probability=[0.9, 0.2, 0.0], prior_width=(1, 1, 1))
    given = select_components(
        y,
        guess,
        count_probability=[0.9, 0.2, 0.0],
        prior_width=(1, 1, 1),
        noise=float(_robust_noise(y)),
    )
    np.testing.assert_array_equal(given.components, own.components)
    np.testing.assert_array_equal(given.errors, own.errors)
    assert given.criterion == own.criterion
    # The noise sets the prior's weight against χ²: a noise 100 times larger lets the prior win.
    loud = select_components(
        y, guess, count_probability=[0.9, 0.2, 0.0], prior_width=(1, 1, 1), noise=100 * NOISE
    )
    assert loud.n_components == 1 and own.n_components == 2


@pytest.mark.parametrize("noise", [0.0, -1.0, np.nan, np.inf])
def test_bad_noise_is_refused(noise):
    with pytest.raises(ValueError, match="noise must be a positive"):
        select_components(spectrum(TWO_LINES), TWO_LINES, noise=noise)
    with pytest.raises(ValueError, match="noise must be a positive"):
        refine_components(spectrum(TWO_LINES), TWO_LINES, noise=noise)


def test_fixed_count_refinement_with_a_prior_gets_each_spectrum_noise(one_line_net):
    # refine_n_components='fixed' with refine_prior estimates the noise of the batch at
    # once; each spectrum's fit must be the one its own estimate gives.
    X = np.stack([spectrum(TWO_LINES, seed=s, slope=0.5) for s in range(3)])
    X[1] *= 20.0  # another noise level in the same batch
    one_line_net.set_params(refine=True, refine_n_components="fixed", refine_prior=(1, 1, 1))
    try:
        table = one_line_net.predict_components(X)
        guess = one_line_net.set_params(refine=False).predict_components(X)
    finally:
        one_line_net.set_params(refine=False, refine_n_components="bic_prior", refine_prior=None)
    for i in range(len(X)):
        start = guess.loc[guess["spectrum"] == i, ["amplitude", "mean", "sigma"]].to_numpy()
        own, own_err = refine_components(X[i], start, prior_width=(1, 1, 1), continuum="linear")
        got = table[table["spectrum"] == i]
        np.testing.assert_array_equal(got[["amplitude", "mean", "sigma"]].to_numpy(), own)
        err = got[["amplitude_err", "mean_err", "sigma_err"]].to_numpy()
        np.testing.assert_array_equal(err, own_err)


def test_each_fit_inverts_its_normal_matrix_once(monkeypatch):
    # The covariance of a fit serves both the Wald test of its weakest line and its error
    # bars: it is computed once per fit, and the answer is unchanged.
    # Here the one fit is clearly right: its covariance decides that no line can go, then
    # gives the errors.
    y = spectrum(TWO_LINES, seed=7)
    expected = select_components(y, TWO_LINES)
    inv, calls = np.linalg.inv, []

    def counted(a):
        calls.append(a.shape)
        return inv(a)

    monkeypatch.setattr(np.linalg, "inv", counted)
    out = select_components(y, TWO_LINES)
    np.testing.assert_array_equal(out.components, expected.components)
    np.testing.assert_array_equal(out.errors, expected.errors)
    assert out.n_fits == 1 and np.all(np.isfinite(out.errors))
    assert calls == [(8, 8)]  # two lines and a linear continuum
