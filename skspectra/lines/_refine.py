"""Weighted least-squares polishing of a Gaussian decomposition, with parameter uncertainties."""

import warnings

import numpy as np
from scipy.optimize import least_squares

__all__ = ["refine_components"]

# Narrowest line the refinement may fit, in channels: below it a "line" is one pixel.
_MIN_SIGMA = 0.3


def _model_and_jacobian(theta, x):
    """Sum of Gaussians at ``x`` and its Jacobian with respect to ``theta = [a1, mu1, s1, ...]``."""
    a, mu, s = theta[0::3, None], theta[1::3, None], theta[2::3, None]
    u = (x - mu) / s
    g = np.exp(-0.5 * u**2)  # (k, n)
    jac = np.empty((x.size, theta.size))
    jac[:, 0::3] = g.T
    jac[:, 1::3] = (a * g * u / s).T
    jac[:, 2::3] = (a * g * u**2 / s).T
    return (a * g).sum(axis=0), jac


def _bounds(theta0, x):
    """Amplitudes keep their sign; means stay within half a channel span of the grid."""
    k = theta0.size // 3
    span = x[-1] - x[0] if x.size > 1 else 1.0
    lo = np.tile([0.0, x[0] - 0.5 * span, _MIN_SIGMA], k)
    hi = np.tile([np.inf, x[-1] + 0.5 * span, max(2.0 * span, 2 * _MIN_SIGMA)], k)
    negative = theta0[0::3] < 0
    lo[0::3] = np.where(negative, -np.inf, 0.0)
    hi[0::3] = np.where(negative, 0.0, np.inf)
    return lo, hi


def _start_inside(theta0, lo, hi):
    """Move a start point strictly inside the bounds, as ``least_squares`` requires."""
    width = np.where(np.isfinite(hi - lo), hi - lo, 1.0)
    margin = 1e-6 * np.maximum(width, 1.0)
    return np.clip(theta0, lo + margin, hi - margin)


def refine_components(y, components, ivar=None, x=None):
    """Fit a sum of Gaussians to one spectrum by weighted least squares, from a first guess.

    Parameters
    ----------
    y : ndarray of shape (n_channels,)
        The spectrum, in flux units.
    components : ndarray of shape (n_components, 3)
        First guess ``(amplitude, mean, sigma)`` per component, means and
        sigmas in the units of ``x``.
    ivar : ndarray of shape (n_channels,) or None
        Inverse variance of ``y`` (0 = masked). ``None`` weights every
        channel alike and takes the noise variance from the residual:
        ``sum(r**2) / (n_channels - 3 * n_components)``.
    x : ndarray of shape (n_channels,) or None
        Channel positions; ``None`` means ``0, 1, ..., n_channels - 1``.

    Returns
    -------
    params : ndarray of shape (n_components, 3)
        Fitted ``(amplitude, mean, sigma)``.
    errors : ndarray of shape (n_components, 3)
        One-sigma uncertainties from the covariance ``(Jᵀ W J)⁻¹``, scaled by
        the reduced χ² when ``ivar`` is None. NaN where they are undefined
        (as many free parameters as used channels, or a singular problem).

    Notes
    -----
    Uses :func:`scipy.optimize.least_squares` (trust-region reflective,
    analytic Jacobian). Amplitudes keep the sign of their first guess,
    sigmas stay above 0.3 channels, and means within half the window's span
    of its edges.
    """
    components = np.asarray(components, dtype=np.float64)
    k = components.shape[0]
    if k == 0:
        return np.empty((0, 3)), np.empty((0, 3))
    x = np.arange(y.size, dtype=np.float64) if x is None else np.asarray(x, dtype=np.float64)
    weight = np.ones_like(y) if ivar is None else np.asarray(ivar, dtype=np.float64)
    used = weight > 0
    x_u, y_u, sw = x[used], y[used], np.sqrt(weight[used])

    lo, hi = _bounds(components.ravel(), x)
    theta0 = _start_inside(components.ravel(), lo, hi)

    def residual(theta):
        return sw * (_model_and_jacobian(theta, x_u)[0] - y_u)

    def jacobian(theta):
        return sw[:, None] * _model_and_jacobian(theta, x_u)[1]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = least_squares(residual, theta0, jac=jacobian, bounds=(lo, hi), x_scale="jac")
    theta = fit.x
    errors = np.full(theta.size, np.nan)
    dof = x_u.size - theta.size
    if dof > 0:
        jtj = fit.jac.T @ fit.jac
        try:
            cov = np.linalg.inv(jtj)
        except np.linalg.LinAlgError:
            cov = None
        if cov is not None and np.all(np.isfinite(cov)):
            if ivar is None:
                cov = cov * (2 * fit.cost / dof)  # fit.cost is half the sum of squares
            diag = np.diag(cov)
            errors = np.where(diag >= 0, np.sqrt(np.abs(diag)), np.nan)
    return theta.reshape(k, 3), errors.reshape(k, 3)
