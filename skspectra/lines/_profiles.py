"""Gaussian line profiles and the padded parameter table ``[a1, mu1, s1, a2, mu2, s2, ...]``."""

import numpy as np
from astropy.modeling.functional_models import GAUSSIAN_SIGMA_TO_FWHM

__all__ = [
    "GAUSSIAN_SIGMA_TO_FWHM",
    "as_components",
    "count_components",
    "gaussian_area",
    "gaussian_profile",
    "gaussian_sum",
    "sort_components",
]


def gaussian_profile(x, amplitude, mean, sigma):
    r"""Evaluate Gaussian profiles, broadcasting over every argument.

    Parameters
    ----------
    x : array-like
        Where to evaluate, in the units of ``mean`` (channels for the
        estimators of this package).
    amplitude : array-like
        Peak height, in flux units.
    mean : array-like
        Centre, in the units of ``x``.
    sigma : array-like
        Standard deviation, in the units of ``x`` (> 0).

    Returns
    -------
    profile : ndarray
        :math:`a \exp(-(x - \mu)^2 / (2 \sigma^2))`, with the broadcast shape
        of the arguments.

    Notes
    -----
    The full width at half maximum is ``GAUSSIAN_SIGMA_TO_FWHM * sigma``
    and the area (line flux) is :func:`gaussian_area`, as for astropy's
    :class:`~astropy.modeling.functional_models.Gaussian1D`.

    Examples
    --------
    >>> from skspectra.lines import gaussian_profile
    >>> float(gaussian_profile(0.0, 2.0, 0.0, 1.0))
    2.0
    """
    x, amplitude, mean, sigma = (
        np.asarray(v, dtype=np.float64) for v in (x, amplitude, mean, sigma)
    )
    return amplitude * np.exp(-0.5 * ((x - mean) / sigma) ** 2)


def gaussian_area(amplitude, sigma):
    r"""Integrated flux of Gaussian profiles, :math:`\sqrt{2\pi}\, a\, \sigma`.

    Parameters
    ----------
    amplitude : array-like
        Peak height, in flux units.
    sigma : array-like
        Standard deviation, in the units of the x-axis.

    Returns
    -------
    area : ndarray
        In flux units × x units (for example flux × Å once sigma is in Å).
    """
    return np.sqrt(2 * np.pi) * np.asarray(amplitude, dtype=np.float64) * np.asarray(sigma)


def as_components(params):
    """View a padded parameter table as one row of ``(amplitude, mean, sigma)`` per component.

    Parameters
    ----------
    params : array-like of shape (n_samples, 3 * max_components)
        ``[a_1, mu_1, sigma_1, a_2, mu_2, sigma_2, ...]`` per spectrum;
        amplitude 0 marks an absent component.

    Returns
    -------
    components : ndarray of shape (n_samples, max_components, 3)
        ``components[i, k] = (a_k, mu_k, sigma_k)`` of spectrum ``i``.

    Raises
    ------
    ValueError
        If ``params`` is not 2-D or its width is not a multiple of 3.
    """
    params = np.asarray(params, dtype=np.float64)
    if params.ndim != 2 or params.shape[1] % 3:
        raise ValueError(
            "Gaussian parameters must be a 2-D array of shape (n_samples, 3 * max_components) "
            f"laid out as [a1, mu1, sigma1, a2, mu2, sigma2, ...], got shape {params.shape}."
        )
    return params.reshape(params.shape[0], -1, 3)


def count_components(params):
    """Number of present components (non-zero amplitudes) of each spectrum.

    Parameters
    ----------
    params : array-like of shape (n_samples, 3 * max_components)
        Padded parameter table, amplitude 0 = absent.

    Returns
    -------
    n_components : ndarray of shape (n_samples,), int
    """
    return np.count_nonzero(as_components(params)[:, :, 0], axis=1)


def sort_components(params):
    """Put each spectrum's components in canonical order: present ones by mean, then padding.

    Parameters
    ----------
    params : array-like of shape (n_samples, 3 * max_components)
        Padded parameter table (amplitude 0 = absent), components in any order.

    Returns
    -------
    sorted_params : ndarray of shape (n_samples, 3 * max_components)
        A new array: present components sorted by mean and packed to the
        left; absent ones set to ``(0, 0, 0)`` at the end.
    """
    comps = as_components(params)
    present = comps[:, :, 0] != 0
    order = np.argsort(np.where(present, comps[:, :, 1], np.inf), axis=1, kind="stable")
    out = np.take_along_axis(comps, order[:, :, None], axis=1)
    out[~np.take_along_axis(present, order, axis=1)] = 0.0
    return out.reshape(params.shape[0], -1)


def gaussian_sum(params, x):
    """Render spectra from a padded parameter table.

    Parameters
    ----------
    params : array-like of shape (n_samples, 3 * max_components)
        ``[a_1, mu_1, sigma_1, ...]`` per spectrum, amplitude 0 = absent.
    x : array-like of shape (n_channels,) or int
        Where to evaluate, in the units of the means and sigmas; an int
        ``n`` means the channels ``0, 1, ..., n - 1``.

    Returns
    -------
    spectra : ndarray of shape (n_samples, n_channels)
        Sum of the present components of each spectrum (no noise).

    Examples
    --------
    >>> import numpy as np
    >>> from skspectra.lines import gaussian_sum
    >>> gaussian_sum(np.array([[1.0, 2.0, 1.0, 0.0, 0.0, 0.0]]), 5).round(3)
    array([[0.135, 0.607, 1.   , 0.607, 0.135]])
    """
    comps = as_components(params)
    x = np.arange(x, dtype=np.float64) if np.ndim(x) == 0 else np.asarray(x, dtype=np.float64)
    present = comps[:, :, 0] != 0
    sigma = np.where(present, comps[:, :, 2], 1.0)  # absent slots may hold sigma = 0
    profiles = gaussian_profile(
        x, comps[:, :, 0, None], comps[:, :, 1, None], sigma[:, :, None]
    )  # (n, K, n_channels)
    return np.where(present[:, :, None], profiles, 0.0).sum(axis=1)
