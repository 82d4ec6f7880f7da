"""Noise estimated from reconstruction residuals, for spectra that come without ivar.

The model: the residual of spectrum ``i`` at pixel ``j`` is Gaussian with standard deviation
``sigma_ij = a_i * b_j``, one scale per spectrum (its signal-to-noise) times one per pixel (the
shape of the noise, or of the model's misfit, along the wavelength grid). Taking logs makes it
additive, ``log|r_ij| = log a_i + log b_j + log|e_ij|``, which Tukey's median polish fits
robustly: a narrow line, a cosmic ray or a dropout touches a few pixels of one spectrum and
cannot move either median.
"""

import numpy as np

__all__ = ["fit_pixel_noise", "spectrum_noise"]

#: median |e| of a standard normal e: turns a median absolute residual into a σ.
_MEDIAN_ABS_NORMAL = 0.6744897501960817
_POLISH_ITERATIONS = 5


def _log_abs(residuals, mask):
    """``log|r|`` with NaN at masked pixels; exact zeros get the smallest positive |r|."""
    r = np.abs(np.asarray(residuals, dtype=np.float64))
    if mask is not None:
        r = np.where(mask, r, np.nan)
    positive = r[r > 0]
    floor = positive.min() if positive.size else 1.0
    with np.errstate(invalid="ignore"):
        return np.log(np.where(r > 0, r, floor))


def _nanmedian(a, axis):
    """``np.nanmedian`` that gives 0 (not a warning) for all-NaN slices."""
    out = np.full(np.delete(a.shape, axis), 0.0)
    has = np.any(np.isfinite(a), axis=axis)
    if np.any(has):
        taken = np.compress(has, a, axis=1 - axis)
        out[has] = np.nanmedian(taken, axis=axis)
    return out


def fit_pixel_noise(residuals, mask=None):
    """Per-pixel noise scale ``b_j`` of the model ``sigma_ij = a_i * b_j`` (median polish).

    Parameters
    ----------
    residuals : ndarray of shape (n_samples, n_wavelengths)
        Data minus reconstruction, in flux units.
    mask : ndarray of bool of shape (n_samples, n_wavelengths), default=None
        True where a pixel is used (ivar > 0).

    Returns
    -------
    pixel_scale : ndarray of shape (n_wavelengths,)
        ``b_j`` in flux units, normalised so that the median training spectrum has
        ``a_i = 1``: then ``b_j`` is the residual σ at pixel ``j`` of a typical spectrum.
    """
    log_r = _log_abs(residuals, mask)
    row = np.zeros(log_r.shape[0])
    col = np.zeros(log_r.shape[1])
    for _ in range(_POLISH_ITERATIONS):
        col = _nanmedian(log_r - row[:, None], axis=0)
        row = _nanmedian(log_r - col[None, :], axis=1)
    col = col + np.median(row)
    return np.exp(col) / _MEDIAN_ABS_NORMAL


def spectrum_noise(residuals, pixel_scale, mask=None):
    """Per-spectrum noise scale ``a_i`` given the fitted per-pixel scale ``b_j``.

    Parameters
    ----------
    residuals : ndarray of shape (n_samples, n_wavelengths)
        Data minus reconstruction, in flux units.
    pixel_scale : ndarray of shape (n_wavelengths,)
        ``b_j`` from :func:`fit_pixel_noise`.
    mask : ndarray of bool of shape (n_samples, n_wavelengths), default=None
        True where a pixel is used.

    Returns
    -------
    scale : ndarray of shape (n_samples,)
        ``a_i = median_j(|r_ij| / b_j) / 0.6745``, so that ``r_ij / (a_i b_j)`` is in σ.
        A spectrum whose every residual is zero gets the smallest positive scale.
    """
    log_r = _log_abs(residuals, mask) - np.log(pixel_scale * _MEDIAN_ABS_NORMAL)[None, :]
    return np.exp(_nanmedian(log_r, axis=1))
