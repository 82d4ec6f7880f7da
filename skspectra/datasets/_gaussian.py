"""Synthetic spectra of Gaussian lines, on a zero or sloped continuum, with known parameters."""

import numbers

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

__all__ = ["gaussian_spectra_preset", "make_gaussian_spectra"]

# How many times a spectrum's means are redrawn to honour ``min_separation``.
_MAX_SEPARATION_TRIES = 1000

# Defaults of the parameters a preset may set (``None`` in the signature means these).
_DEFAULTS = {
    "n_components": (1, 3),
    "amplitude_range": (0.5, 4.0),
    "sigma_range": (2.0, 12.0),
    "noise_range": (0.05, 0.25),
    "snr_range": None,
    "continuum_offset_range": 0.0,
    "continuum_slope_range": 0.0,
    "log_uniform": False,
}
PRESET_NAMES = ("wide", "heldout")


def gaussian_spectra_preset(name):
    """The parameters of a named :func:`make_gaussian_spectra` setting.

    Parameters
    ----------
    name : {'wide', 'heldout'}
        ``'wide'``: the mixture :class:`~skspectra.lines.GaussianLineFitter`'s
        defaults were tuned on; ``'heldout'``: the evaluation setting of
        issue 10. See :func:`make_gaussian_spectra`, Notes.

    Returns
    -------
    params : dict
        Keyword arguments of :func:`make_gaussian_spectra` (a new dict).

    Raises
    ------
    ValueError
        If ``name`` is not a preset.
    """
    if name == "wide":
        return dict(
            n_components=(0, 3),
            sigma_range=(1.0, 24.0),
            noise_range=(0.05, 0.25),
            snr_range=(2.0, 50.0),
            continuum_offset_range=(-20.0, 20.0),
            continuum_slope_range=(-30.0, 30.0),
            log_uniform=True,
        )
    if name == "heldout":
        return dict(
            n_components=(1, 3),
            sigma_range=(2.0, 12.0),
            noise_range=(0.05, 0.25),
            snr_range=(3.0, 20.0),
            continuum_offset_range=(-3.0, 3.0),
            continuum_slope_range=(-10.0, 10.0),
            log_uniform=False,
        )
    raise ValueError(f"preset must be one of {PRESET_NAMES} or None, got {name!r}.")


def _check_range(name, value, *, low=None, strict=False):
    """Turn a number or a ``(low, high)`` pair into a checked float pair."""
    if isinstance(value, numbers.Real):
        pair = (float(value), float(value))
    else:
        try:
            pair = tuple(float(v) for v in value)
        except TypeError:
            pair = ()
    if len(pair) != 2 or not np.all(np.isfinite(pair)) or pair[0] > pair[1]:
        raise ValueError(
            f"{name} must be a finite number or a (low, high) pair with low <= high, got {value!r}."
        )
    if low is not None and (pair[0] < low or (strict and pair[0] == low)):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be {relation} {low}, got {value!r}.")
    return pair


def _check_n_components(n_components):
    if isinstance(n_components, numbers.Integral):
        pair = (int(n_components), int(n_components))
    else:
        pair = tuple(n_components)
        if len(pair) != 2 or not all(isinstance(v, numbers.Integral) for v in pair):
            raise ValueError(
                f"n_components must be an int or an (min, max) pair of ints, got {n_components!r}."
            )
        pair = (int(pair[0]), int(pair[1]))
    if pair[0] < 0 or pair[1] < max(pair[0], 1):
        raise ValueError(
            f"n_components must satisfy 0 <= min <= max and max >= 1, got {n_components!r}."
        )
    return pair


def _draw_means(rng, n_samples, max_components, mean_range, min_separation, n_active):
    """Means of each spectrum's components; active ones at least ``min_separation`` apart."""
    means = rng.uniform(*mean_range, size=(n_samples, max_components))
    if min_separation <= 0 or max_components < 2:
        return means
    slots = np.arange(max_components)
    for _ in range(_MAX_SEPARATION_TRIES):
        active = slots < n_active[:, None]
        ordered = np.sort(np.where(active, means, np.inf), axis=1)
        with np.errstate(invalid="ignore"):  # inf - inf between two absent slots is NaN
            gaps = np.diff(ordered, axis=1)
        bad = np.any(gaps < min_separation, axis=1)  # NaN is not < min_separation
        if not bad.any():
            return means
        means[bad] = rng.uniform(*mean_range, size=(int(bad.sum()), max_components))
    raise ValueError(
        f"Could not place the components at least min_separation={min_separation} "
        f"channels apart within mean_range={mean_range} after {_MAX_SEPARATION_TRIES} "
        "draws; lower min_separation or widen mean_range."
    )


@validate_params(
    {
        "n_samples": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_channels": [Interval(numbers.Integral, 1, None, closed="left")],
        "preset": [StrOptions(set(PRESET_NAMES)), None],
        "n_components": ["array-like", Interval(numbers.Integral, 1, None, closed="left"), None],
        "amplitude_range": ["array-like", numbers.Real, None],
        "mean_range": ["array-like", numbers.Real, None],
        "sigma_range": ["array-like", numbers.Real, None],
        "noise_range": ["array-like", numbers.Real, None],
        "snr_range": ["array-like", numbers.Real, None],
        "continuum_offset_range": ["array-like", numbers.Real, None],
        "continuum_slope_range": ["array-like", numbers.Real, None],
        "log_uniform": ["boolean", None],
        "min_separation": [Interval(numbers.Real, 0, None, closed="left")],
        "return_params": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_gaussian_spectra(
    n_samples=1000,
    n_channels=256,
    *,
    preset=None,
    n_components=None,
    amplitude_range=None,
    mean_range=None,
    sigma_range=None,
    noise_range=None,
    snr_range=None,
    continuum_offset_range=None,
    continuum_slope_range=None,
    log_uniform=None,
    min_separation=0.0,
    return_params=False,
    random_state=None,
):
    r"""Generate noisy spectra made of a random number of Gaussian lines.

    Each spectrum is a sum of Gaussian components, on a zero or linear
    continuum, sampled at the channels ``x = 0, 1, ..., n_channels - 1``,
    plus white Gaussian noise. Every quantity is drawn independently:
    the number of components, then for each component its amplitude, mean
    and sigma, and for each spectrum its noise level and continuum.

    Read more in the documentation of :class:`skspectra.lines.GaussianLineFitter`,
    which learns the inverse mapping.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of spectra.
    n_channels : int, default=256
        Number of channels (pixels) per spectrum.
    preset : {'wide', 'heldout'} or None, default=None
        A named setting (see Notes and :func:`gaussian_spectra_preset`): it
        gives the parameters below their values, except those passed
        explicitly (not None). ``'wide'`` is the training mixture that
        :class:`~skspectra.lines.GaussianLineFitter`'s defaults were tuned
        on; ``'heldout'`` the evaluation setting of ``benchmarks/bench_lines.py``.
    n_components : int or (int, int), default=None
        Number of components per spectrum: a fixed number, or the inclusive
        ``(min, max)`` range it is drawn from uniformly. ``min`` may be 0
        (noise-only spectra). ``max`` sets the width of ``params``.
        None means the preset's, else ``(1, 3)``.
    amplitude_range : float or (float, float), default=None
        Range of the peak heights, in flux units. A single number fixes it.
        Negative values make absorption lines. Ignored when ``snr_range``
        is set. None means ``(0.5, 4.0)``.
    mean_range : float or (float, float), default=None
        Range of the line centres, in channels. ``None`` means
        ``(0.1 * (n_channels - 1), 0.9 * (n_channels - 1))``.
    sigma_range : float or (float, float), default=None
        Range of the Gaussian standard deviations, in channels (> 0). The
        full width at half maximum is ``GAUSSIAN_SIGMA_TO_FWHM * sigma``
        (≈ 2.3548 σ). None means the preset's, else ``(2.0, 12.0)``.
    noise_range : float or (float, float), default=None
        Range of the standard deviation of the white noise of each spectrum,
        in flux units (>= 0). A single number gives every spectrum the same
        noise. None means the preset's, else ``(0.05, 0.25)``.
    snr_range : float or (float, float), default=None
        If set, each line's amplitude is its peak signal-to-noise ratio,
        drawn from this range, times the noise of its spectrum (so
        ``amplitude_range`` is not used); negative values make absorption
        lines. None means the preset's, else amplitudes from
        ``amplitude_range``.
    continuum_offset_range : float or (float, float), default=None
        Range of the continuum level at the central channel, in units of
        the spectrum's noise. None means the preset's, else 0.
    continuum_slope_range : float or (float, float), default=None
        Range of the continuum's rise from the first to the last channel,
        in units of the spectrum's noise (negative: falling). None means the
        preset's, else 0.
    log_uniform : bool, default=None
        If True, ``sigma_range`` and ``snr_range`` are sampled uniformly in
        their logarithm (every octave equally often), which mixes narrow and
        broad, faint and bright lines evenly; both ranges must then be
        positive. None means the preset's, else False.
    min_separation : float, default=0.0
        Smallest distance, in channels, between the means of two components
        of the same spectrum; spectra that break it are redrawn. 0 allows
        any blend.
    return_params : bool, default=False
        If True, also return the true parameters and the noise levels.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws, for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_channels)
        The spectra, in flux units. By default this array alone is returned;
        with ``return_params=True``, three values are, in this order:
        ``X, params, noise = make_gaussian_spectra(..., return_params=True)``.
    params : ndarray of shape (n_samples, 3 * max_components)
        Only if ``return_params``. The true parameters, per spectrum
        ``[a_1, mu_1, sigma_1, a_2, mu_2, sigma_2, ...]`` (amplitude, mean
        and sigma of each component in turn), sorted by increasing mean.
        Spectra with fewer than ``max_components`` lines are padded at the
        end with ``(0, 0, 0)``: amplitude 0 marks an absent component.
        This is the layout :class:`~skspectra.lines.GaussianLineFitter`
        fits and predicts. The continuum is not in it.
    noise : ndarray of shape (n_samples,)
        Only if ``return_params``. The noise standard deviation of each
        spectrum, in flux units.

    Raises
    ------
    ValueError
        If a range is not a number or an ordered pair, ``sigma_range`` is not
        positive, ``noise_range`` is negative, ``log_uniform`` is set with a
        range that is not positive, ``preset`` is unknown, or
        ``min_separation`` cannot be met within ``mean_range``.

    See Also
    --------
    skspectra.lines.gaussian_sum : Render spectra from a parameter table.
    gaussian_spectra_preset : The parameters of the presets.

    Notes
    -----
    Each spectrum is

    .. math::

        f(x) = \sum_{k=1}^{n} a_k \exp\left(-\frac{(x - \mu_k)^2}{2\sigma_k^2}\right)
               + s\,(b_0 + b_1 t(x)) + \epsilon(x), \qquad \epsilon \sim \mathcal{N}(0, s^2),

    with :math:`t` running from -1/2 to 1/2 over the channels, :math:`b_0`
    drawn from ``continuum_offset_range`` and :math:`b_1` from
    ``continuum_slope_range``, and, with ``snr_range``,
    :math:`a_k = s \cdot \mathrm{SNR}_k`.

    **Presets.**

    ``'wide'`` (the training mixture): 0 to 3 lines; sigma log-uniform in
    1-24 channels; peak S/N log-uniform in 2-50; continuum offset
    U(-20, 20) and end-to-end slope U(-30, 30) noise sigmas; noise
    U(0.05, 0.25). It spans and overlaps the ``'heldout'`` setting on every
    axis, as real line windows do (narrow and broad lines, faint and bright,
    flat and tilted continua).

    ``'heldout'`` (issue 10's evaluation setting): 1 to 3 lines; sigma
    U(2, 12) channels; peak S/N U(3, 20); continuum offset U(-3, 3) and
    end-to-end slope U(-10, 10) noise sigmas; noise U(0.05, 0.25).

    Two settings from the literature:

    - GaussPy's training tutorial [1]_: three components, 512 channels,
      RMS 0.05, amplitude U(0.5, 4), FWHM U(20, 80) channels, means
      U(0.25, 0.75) × 512. That is ``n_components=3, n_channels=512,
      noise_range=0.05, amplitude_range=(0.5, 4), mean_range=(128, 384),
      sigma_range=(20 / GAUSSIAN_SIGMA_TO_FWHM, 80 / GAUSSIAN_SIGMA_TO_FWHM)``.
      (The tutorial's own code writes the profile as
      ``exp(-(x - mu)**2 / (4 * (fwhm / 2.355)**2))``, √2 wider than the
      nominal FWHM; here the FWHM is the true one.)
    - The seed project's, in channels [2]_: one or two components, 140
      channels, amplitude U(0.002, 0.05), means U(8.95, 127.7), sigma
      U(0.99, 5.94), noise U(0.0007, 0.0008).

    References
    ----------
    .. [1] Lindner, R. R. et al. 2015, AJ 149, 138, "Autonomous Gaussian
       Decomposition"; GaussPy documentation, "Training AGD".
    .. [2] Bemis, A. R., spectral-line-fitting-ml (the seed project):
       ``config.py``, with x from 1204.8 to 1907.1 over 140 channels.

    Examples
    --------
    >>> from skspectra.datasets import make_gaussian_spectra
    >>> X, params, noise = make_gaussian_spectra(
    ...     5, 128, n_components=(1, 2), return_params=True, random_state=0
    ... )
    >>> X.shape, params.shape, noise.shape
    ((5, 128), (5, 6), (5,))
    >>> X = make_gaussian_spectra(5, preset="wide", random_state=0)
    """
    given = dict(
        n_components=n_components,
        amplitude_range=amplitude_range,
        sigma_range=sigma_range,
        noise_range=noise_range,
        snr_range=snr_range,
        continuum_offset_range=continuum_offset_range,
        continuum_slope_range=continuum_slope_range,
        log_uniform=log_uniform,
    )
    setting = {**_DEFAULTS, **(gaussian_spectra_preset(preset) if preset else {})}
    setting.update({k: v for k, v in given.items() if v is not None})
    log = bool(setting["log_uniform"])

    k_min, k_max = _check_n_components(setting["n_components"])
    amplitude_range = _check_range("amplitude_range", setting["amplitude_range"])
    if mean_range is None:
        mean_range = (0.1 * (n_channels - 1), 0.9 * (n_channels - 1))
    mean_range = _check_range("mean_range", mean_range)
    sigma_range = _check_range("sigma_range", setting["sigma_range"], low=0.0, strict=True)
    noise_range = _check_range("noise_range", setting["noise_range"], low=0.0)
    snr_range = setting["snr_range"]
    if snr_range is not None:
        snr_range = _check_range("snr_range", snr_range)
        if log and not snr_range[0] > 0:
            raise ValueError(f"log_uniform=True needs a positive snr_range, got {snr_range!r}.")
    offset_range = _check_range("continuum_offset_range", setting["continuum_offset_range"])
    slope_range = _check_range("continuum_slope_range", setting["continuum_slope_range"])
    if (k_max - 1) * min_separation > mean_range[1] - mean_range[0]:
        raise ValueError(
            f"{k_max} components cannot be min_separation={min_separation} channels apart "
            f"within mean_range={mean_range}."
        )

    def draw(bounds, size):
        if log:
            return np.exp(rng.uniform(*np.log(bounds), size=size))
        return rng.uniform(*bounds, size=size)

    rng = check_random_state(random_state)
    n_active = rng.randint(k_min, k_max + 1, size=n_samples)
    amplitude = rng.uniform(*amplitude_range, size=(n_samples, k_max))
    mean = _draw_means(rng, n_samples, k_max, mean_range, min_separation, n_active)
    sigma = draw(sigma_range, (n_samples, k_max))
    noise = rng.uniform(*noise_range, size=n_samples)
    if snr_range is not None:
        amplitude = draw(snr_range, (n_samples, k_max)) * noise[:, None]

    active = np.arange(k_max) < n_active[:, None]
    # Sort the active components by mean; inactive ones go last.
    order = np.argsort(np.where(active, mean, np.inf), axis=1, kind="stable")
    params = np.stack([amplitude, mean, sigma], axis=2)
    params = np.take_along_axis(params, order[:, :, None], axis=1)
    params[~active] = 0.0  # ``active`` is left-packed, so it needs no reordering

    x = np.arange(n_channels, dtype=np.float64)
    a, mu, s = (params[:, :, i, None] for i in range(3))
    with np.errstate(divide="ignore", invalid="ignore"):
        lines = np.where(active[:, :, None], a * np.exp(-0.5 * ((x - mu) / s) ** 2), 0.0)
    X = lines.sum(axis=1) + noise[:, None] * rng.standard_normal((n_samples, n_channels))
    if offset_range != (0.0, 0.0) or slope_range != (0.0, 0.0):
        # Drawn after everything else, so that spectra without a continuum are unchanged.
        t = x / max(n_channels - 1, 1) - 0.5
        offset = rng.uniform(*offset_range, size=(n_samples, 1))
        slope = rng.uniform(*slope_range, size=(n_samples, 1))
        X = X + noise[:, None] * (offset + slope * t)

    if return_params:
        return X, params.reshape(n_samples, 3 * k_max), noise
    return X
