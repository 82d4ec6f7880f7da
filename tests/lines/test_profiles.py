import numpy as np
import pytest
import torch

from skspectra.lines import (
    GAUSSIAN_SIGMA_TO_FWHM,
    as_components,
    count_components,
    gaussian_area,
    gaussian_profile,
    gaussian_sum,
    refine_components,
    sort_components,
)
from skspectra.nn.lines import gaussian_sum_torch


def test_profile_values():
    assert gaussian_profile(3.0, 2.0, 3.0, 1.5) == 2.0
    assert gaussian_profile(4.5, 2.0, 3.0, 1.5) == pytest.approx(2.0 * np.exp(-0.5))
    half_width = GAUSSIAN_SIGMA_TO_FWHM * 1.5 / 2
    assert gaussian_profile(3.0 + half_width, 2.0, 3.0, 1.5) == pytest.approx(1.0)
    assert GAUSSIAN_SIGMA_TO_FWHM == pytest.approx(2 * np.sqrt(2 * np.log(2)))


def test_profile_broadcasts():
    x = np.arange(10.0)
    out = gaussian_profile(x, np.array([[1.0], [2.0]]), 4.0, 2.0)
    assert out.shape == (2, 10)
    np.testing.assert_allclose(out[1], 2 * out[0])


def test_area_matches_numerical_integral():
    x = np.linspace(-50, 50, 20001)
    integral = np.trapezoid(gaussian_profile(x, 1.7, 3.0, 2.5), x)
    assert gaussian_area(1.7, 2.5) == pytest.approx(integral, rel=1e-9)


def test_sum_ignores_absent_slots_even_with_zero_sigma():
    params = np.array([[1.0, 2.0, 1.0, 0.0, 0.0, 0.0], [0.0, 9.0, 0.0, 2.0, 5.0, 2.0]])
    x = np.arange(8.0)
    out = gaussian_sum(params, 8)
    np.testing.assert_allclose(out[0], gaussian_profile(x, 1.0, 2.0, 1.0))
    np.testing.assert_allclose(out[1], gaussian_profile(x, 2.0, 5.0, 2.0))
    np.testing.assert_allclose(gaussian_sum(params, x + 0.5)[0], gaussian_profile(x + 0.5, 1, 2, 1))


def test_sort_and_count_components():
    params = np.array([[0.0, 1.0, 1.0, 2.0, 30.0, 3.0, 1.0, 10.0, 2.0]])
    np.testing.assert_array_equal(
        sort_components(params), [[1.0, 10.0, 2.0, 2.0, 30.0, 3.0, 0.0, 0.0, 0.0]]
    )
    np.testing.assert_array_equal(count_components(params), [2])
    assert as_components(params).shape == (1, 3, 3)
    with pytest.raises(ValueError, match="3 \\* max_components"):
        as_components(np.zeros((2, 5)))


def test_torch_sum_matches_numpy():
    params = np.array([[1.0, 3.0, 1.5, -0.5, 7.0, 0.8]])
    comps = torch.tensor(as_components(params))
    out = gaussian_sum_torch(comps[..., 0], comps[..., 1], comps[..., 2], torch.arange(10.0))
    np.testing.assert_allclose(out.numpy(), gaussian_sum(params, 10), rtol=1e-6)


def test_refine_recovers_noise_free_lines_from_a_rough_guess():
    truth = np.array([[2.0, 30.0, 4.0], [1.0, 45.0, 3.0]])
    y = gaussian_sum(truth.reshape(1, -1), 80)[0]
    guess = truth * [1.3, 1.0, 0.8] + [0.0, 2.0, 0.0]
    params, errors = refine_components(y, guess)
    np.testing.assert_allclose(params, truth, rtol=1e-6, atol=1e-6)
    assert errors.shape == (2, 3) and np.all(errors < 1e-5)


def test_refine_uses_ivar_as_absolute_weights_and_masks_zero_weight():
    rng = np.random.default_rng(0)
    truth = np.array([[1.0, 40.0, 5.0]])
    noise = 0.1
    y = gaussian_sum(truth.reshape(1, -1), 100)[0] + rng.normal(0, noise, 100)
    y_spiked = y.copy()
    y_spiked[60] = 50.0  # a cosmic ray, masked below
    ivar = np.full(100, 1 / noise**2)
    ivar[60] = 0.0
    p_masked, e_masked = refine_components(y_spiked, truth, ivar)
    p_clean, e_clean = refine_components(y, truth, np.where(np.arange(100) == 60, 0, 1 / noise**2))
    np.testing.assert_allclose(p_masked, p_clean)
    np.testing.assert_allclose(e_masked, e_clean)
    # Absolute errors with ivar agree with residual-scaled ones when the noise is right.
    _, e_resid = refine_components(y, truth)
    np.testing.assert_allclose(e_clean, e_resid, rtol=0.15)
    # Doubling the stated noise doubles the errors.
    _, e_double = refine_components(y, truth, np.full(100, 1 / (2 * noise) ** 2))
    np.testing.assert_allclose(
        e_double, 2 * refine_components(y, truth, np.full(100, 1 / noise**2))[1]
    )


def test_refine_without_lines_or_dof():
    p, e = refine_components(np.zeros(10), np.empty((0, 3)))
    assert p.shape == e.shape == (0, 3)
    p, e = refine_components(np.array([1.0, 0.5, 0.1]), np.array([[1.0, 0.0, 1.0]]))
    assert p.shape == (1, 3) and np.all(np.isnan(e))


def test_refine_prior_interpolates_between_least_squares_and_the_guess():
    from skspectra.lines import gaussian_profile, refine_components

    rng = np.random.default_rng(3)
    x = np.arange(100.0)
    truth = np.array([[2.0, 40.0, 4.0], [1.0, 55.0, 5.0]])
    y = sum(gaussian_profile(x, *c) for c in truth) + rng.normal(0, 0.05, x.size)
    ivar = np.full(x.size, 1 / 0.05**2)
    guess = np.array([[1.5, 42.0, 5.0], [1.3, 53.0, 4.0]])
    plain, _ = refine_components(y, guess, ivar=ivar)
    loose, _ = refine_components(y, guess, ivar=ivar, prior_width=(1e6, 1e6, 1e6))
    tight, tight_err = refine_components(y, guess, ivar=ivar, prior_width=(1e-6, 1e-6, 1e-6))
    np.testing.assert_allclose(loose, plain, rtol=1e-4)
    np.testing.assert_allclose(tight, guess, rtol=1e-4)
    assert np.all(tight_err < 1e-3)
    np.testing.assert_allclose(plain, truth, rtol=0.1)


def test_refine_computes_the_lines_once_per_point(monkeypatch):
    # least_squares asks for the residual and then the Jacobian at the same point; the
    # Gaussians' model and Jacobian are computed once for both, and the fit is unchanged.
    import skspectra.lines._refine as refine_module

    x = np.arange(120.0)
    truth = np.array([[3.0, 40.0, 4.0], [-2.0, 75.0, 6.0]])
    y = gaussian_sum(truth.reshape(1, -1), x)[0] + np.random.default_rng(0).normal(0, 0.05, x.size)
    guess = truth * np.array([0.8, 1.0, 1.3]) + np.array([0.0, 1.5, 0.0])
    expected = refine_components(y, guess)
    model_and_jacobian, least_squares = (
        refine_module._model_and_jacobian,
        refine_module.least_squares,
    )
    calls, fits = [], []

    def counted(theta, x):
        calls.append(theta)
        return model_and_jacobian(theta, x)

    def solver(*args, **kwargs):
        calls.clear()
        fit = least_squares(*args, **kwargs)
        fits.append((len(calls), fit.nfev, fit.njev))
        return fit

    monkeypatch.setattr(refine_module, "_model_and_jacobian", counted)
    monkeypatch.setattr(refine_module, "least_squares", solver)
    params, errors = refine_components(y, guess)
    np.testing.assert_array_equal(params, expected[0])
    np.testing.assert_array_equal(errors, expected[1])
    ((n_calls, nfev, njev),) = fits
    assert njev > 1 and n_calls == nfev
