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


def _robust_noise(y):
    """White-noise sigma of ``y`` from its first differences (MAD), barely biased by lines."""
    noise = 1.4826 * np.median(np.abs(np.diff(y))) / np.sqrt(2) if y.size > 2 else 0.0
    floor = 1e-12 * max(float(np.max(np.abs(y), initial=0.0)), 1e-300)
    return max(noise, floor)


def _prior_scale(components, prior_width):
    """Standard deviations of the prior on ``[a1, mu1, s1, ...]`` (see ``refine_components``)."""
    width = np.asarray(prior_width, dtype=np.float64)
    if width.shape != (3,) or not np.all(np.isfinite(width)) or np.any(width <= 0):
        raise ValueError(
            f"prior_width must be three positive numbers (amplitude, mean, sigma), "
            f"got {prior_width!r}."
        )
    a, s = np.abs(components[:, 0]), np.abs(components[:, 2])
    tiny = np.finfo(np.float64).tiny
    scale = np.column_stack([width[0] * a, width[1] * s, width[2] * s])
    return np.maximum(scale, tiny).ravel()


def refine_components(y, components, ivar=None, x=None, prior_width=None):
    r"""Fit a sum of Gaussians to one spectrum by weighted least squares, from a first guess.

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
    prior_width : (float, float, float) or None, default=None
        If given, a Gaussian prior centred on the first guess regularises the
        fit (a maximum a posteriori estimate): its standard deviations are
        ``prior_width[0] * |a0|`` for the amplitude, ``prior_width[1] * s0``
        for the mean and ``prior_width[2] * s0`` for the sigma of a line
        guessed as ``(a0, mu0, s0)``. ``None`` fits by plain least squares.

    Returns
    -------
    params : ndarray of shape (n_components, 3)
        Fitted ``(amplitude, mean, sigma)``.
    errors : ndarray of shape (n_components, 3)
        One-sigma uncertainties from the covariance ``(Jᵀ W J)⁻¹``, scaled by
        the reduced χ² when ``ivar`` is None (with ``prior_width``: of the
        posterior, see Notes). NaN where they are undefined
        (as many free parameters as used channels, or a singular problem).

    Notes
    -----
    Uses :func:`scipy.optimize.least_squares` (trust-region reflective,
    analytic Jacobian). Amplitudes keep the sign of their first guess,
    sigmas stay above 0.3 channels, and means within half the window's span
    of its edges.

    **Prior.** Blended lines are nearly degenerate: flux can move between
    them at almost no cost in χ², and plain least squares then lands, now
    and then, far from the truth (one line swallowing its neighbour). With
    ``prior_width``, the residual vector gains one term
    :math:`(\theta_j - \theta_{0,j}) / \tau_j` per parameter, so that the
    minimum is that of :math:`\chi^2 + \sum_j ((\theta_j - \theta_{0,j}) /
    \tau_j)^2`: the data decide where they can, the first guess where they
    cannot. The χ² needs the noise in absolute terms: without ``ivar`` it is
    estimated from the spectrum, :math:`1.4826\,\mathrm{MAD}(\Delta y) /
    \sqrt 2` (robust to the lines), and the errors are those of the
    posterior, :math:`(J^T W J + \mathrm{diag}(\tau^{-2}))^{-1}`.
    """
    components = np.asarray(components, dtype=np.float64)
    k = components.shape[0]
    if k == 0:
        return np.empty((0, 3)), np.empty((0, 3))
    x = np.arange(y.size, dtype=np.float64) if x is None else np.asarray(x, dtype=np.float64)
    weight = np.ones_like(y) if ivar is None else np.asarray(ivar, dtype=np.float64)
    used = weight > 0
    x_u, y_u, sw = x[used], y[used], np.sqrt(weight[used])
    if prior_width is not None and ivar is None:
        sw = sw / _robust_noise(y_u)

    lo, hi = _bounds(components.ravel(), x)
    theta0 = _start_inside(components.ravel(), lo, hi)
    prior = None if prior_width is None else _prior_scale(components, prior_width)

    def residual(theta):
        r = sw * (_model_and_jacobian(theta, x_u)[0] - y_u)
        return r if prior is None else np.concatenate([r, (theta - components.ravel()) / prior])

    def jacobian(theta):
        jac = sw[:, None] * _model_and_jacobian(theta, x_u)[1]
        return jac if prior is None else np.vstack([jac, np.diag(1.0 / prior)])

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
            if ivar is None and prior is None:
                cov = cov * (2 * fit.cost / dof)  # fit.cost is half the sum of squares
            diag = np.diag(cov)
            errors = np.where(diag >= 0, np.sqrt(np.abs(diag)), np.nan)
    return theta.reshape(k, 3), errors.reshape(k, 3)
