"""Inject known, labelled anomalies into spectra, to test outlier detectors on real data."""

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import check_array, check_random_state

#: The kinds of anomaly :func:`inject_anomalies` can add (``kind="mixed"`` draws among them).
ANOMALY_KINDS = (
    "emission",
    "absorption",
    "dropout",
    "cosmic_ray",
    "slope",
    "step",
    "ripple",
    "stitched",
    "lsf_line",
)

# Ranges the anomalies are drawn from (uniformly). Amplitudes are in units of the local flux,
# widths in pixels. Documented in the docstring of inject_anomalies: keep the two in step.
_LINE_SIGMA_PIXELS = (1.0, 3.0)
_EMISSION_PEAK = (0.3, 1.0)
_ABSORPTION_DEPTH = (0.2, 0.6)
_DROPOUT_FRACTION = (0.05, 0.2)
_COSMIC_RAY_PEAK = (5.0, 20.0)
_SLOPE = (0.2, 0.5)
_STEP = (0.05, 0.2)
_RIPPLE_AMPLITUDE = (0.03, 0.1)
_RIPPLE_PERIOD_PIXELS = (4.0, 12.0)
_RIPPLE_FRACTION = (0.2, 0.4)
_SEAM_FRACTION = (0.2, 0.8)
# A line as wide as the line-spread function: Gaia XP's resolving power of ~30-100 in 20 Å
# pixels gives σ of about 2-5 pixels.
_LSF_SIGMA_PIXELS = (2.0, 5.0)
_LSF_LINE_AMPLITUDE = (0.1, 0.3)
# Half-width, in pixels, of the window whose median is the "local flux" at a position.
_LOCAL_HALF_WIDTH = 10

_PARAM_COLUMNS = ("index", "kind", "center", "center_wavelength", "width", "amplitude")


def _flux_scale(spectrum, center):
    """Flux level that sets the amplitude of an anomaly at pixel ``center``.

    The median of the spectrum within ``_LOCAL_HALF_WIDTH`` pixels of ``center``; where that is
    not positive (noise around zero flux), the median of ``|spectrum|``, then its maximum, then 1.
    Scaling by it makes the injected anomalies the same for a spectrum and for any positive
    multiple of it.
    """
    center = int(round(center))
    lo, hi = max(center - _LOCAL_HALF_WIDTH, 0), center + _LOCAL_HALF_WIDTH + 1
    for scale in (
        np.median(spectrum[lo:hi]),
        np.median(np.abs(spectrum)),
        np.max(np.abs(spectrum)),
    ):
        if scale > 0:
            return float(scale)
    return 1.0


def _gaussian(n_pixels, center, sigma):
    pixels = np.arange(n_pixels)
    return np.exp(-0.5 * ((pixels - center) / sigma) ** 2)


def _line(spectrum, rng, sign, amplitude_range):
    """Gaussian emission (``sign=+1``) or absorption (``sign=-1``) line at a random pixel."""
    n = spectrum.size
    sigma = rng.uniform(*_LINE_SIGMA_PIXELS)
    margin = min(3 * sigma, (n - 1) / 2)
    center = rng.uniform(margin, n - 1 - margin)
    amplitude = rng.uniform(*amplitude_range)
    scale = _flux_scale(spectrum, center)
    spectrum += sign * amplitude * scale * _gaussian(n, center, sigma)
    return center, sigma, amplitude


def _emission(spectrum, rng, wavelength, others):
    return _line(spectrum, rng, +1.0, _EMISSION_PEAK)


def _absorption(spectrum, rng, wavelength, others):
    return _line(spectrum, rng, -1.0, _ABSORPTION_DEPTH)


def _dropout(spectrum, rng, wavelength, others):
    """A contiguous run of pixels set to 0 (a chip gap or lost flux)."""
    n = spectrum.size
    low = max(2, round(_DROPOUT_FRACTION[0] * n))
    high = max(low, round(_DROPOUT_FRACTION[1] * n))
    length = min(int(rng.randint(low, high + 1)), n)
    start = int(rng.randint(0, n - length + 1))
    spectrum[start : start + length] = 0.0
    return start + (length - 1) / 2, float(length), np.nan


def _cosmic_ray(spectrum, rng, wavelength, others):
    """A spike one or two pixels wide, many times the local flux."""
    n = spectrum.size
    length = min(int(rng.randint(1, 3)), n)
    start = int(rng.randint(0, n - length + 1))
    center = start + (length - 1) / 2
    amplitude = rng.uniform(*_COSMIC_RAY_PEAK)
    spectrum[start : start + length] += amplitude * _flux_scale(spectrum, center)
    return center, float(length), amplitude


def _slope(spectrum, rng, wavelength, others):
    """Multiply by ``1 + s (λ - λ_mid) / (λ_max - λ_min)``: a change of continuum slope."""
    slope = rng.uniform(*_SLOPE) * rng.choice([-1.0, 1.0])
    span = wavelength[-1] - wavelength[0]
    middle = 0.5 * (wavelength[0] + wavelength[-1])
    spectrum *= 1.0 + slope * (wavelength - middle) / span
    return np.nan, np.nan, slope


def _step(spectrum, rng, wavelength, others):
    """Flux beyond a random pixel scaled by ``1 + s``: a calibration jump between detectors."""
    n = spectrum.size
    seam = int(rng.randint(max(1, n // 10), max(2, 9 * n // 10)))
    step = rng.uniform(*_STEP) * rng.choice([-1.0, 1.0])
    spectrum[seam:] *= 1.0 + step
    return float(seam), np.nan, step


def _ripple(spectrum, rng, wavelength, others):
    """A sinusoidal wiggle over 20-40 % of the pixels (fringing, or a spurious basis function)."""
    n = spectrum.size
    length = max(2, int(round(rng.uniform(*_RIPPLE_FRACTION) * n)))
    length = min(length, n)
    start = int(rng.randint(0, n - length + 1))
    period = rng.uniform(*_RIPPLE_PERIOD_PIXELS)
    amplitude = rng.uniform(*_RIPPLE_AMPLITUDE)
    phase = rng.uniform(0, 2 * np.pi)
    pixels = np.arange(length)
    spectrum[start : start + length] *= 1.0 + amplitude * np.sin(
        2 * np.pi * pixels / period + phase
    )
    return start + (length - 1) / 2, float(length), amplitude


def _stitched(spectrum, rng, wavelength, others):
    """Pixels beyond a seam taken from another spectrum, scaled to meet it there.

    Two objects stitched together, as when a pipeline joins the blue and red arms of two
    different targets. The other spectrum is drawn from the input set (an original copy).
    """
    n = spectrum.size
    seam = int(round(rng.uniform(*_SEAM_FRACTION) * (n - 1)))
    other = others[int(rng.randint(others.shape[0]))].astype(np.float64)
    lo, hi = max(seam - 5, 0), min(seam + 5, n)
    ratio = _flux_scale(spectrum, seam) / _flux_scale(other, seam) if hi > lo else 1.0
    spectrum[seam:] = ratio * other[seam:]
    return float(seam), np.nan, ratio


def _lsf_line(spectrum, rng, wavelength, others):
    """A weak emission or absorption line as wide as the line-spread function (σ = 2-5 px)."""
    n = spectrum.size
    sigma = rng.uniform(*_LSF_SIGMA_PIXELS)
    margin = min(3 * sigma, (n - 1) / 2)
    center = rng.uniform(margin, n - 1 - margin)
    amplitude = rng.uniform(*_LSF_LINE_AMPLITUDE) * rng.choice([-1.0, 1.0])
    spectrum += amplitude * _flux_scale(spectrum, center) * _gaussian(n, center, sigma)
    return center, sigma, amplitude


_INJECTORS = {
    "emission": _emission,
    "absorption": _absorption,
    "dropout": _dropout,
    "cosmic_ray": _cosmic_ray,
    "slope": _slope,
    "step": _step,
    "ripple": _ripple,
    "stitched": _stitched,
    "lsf_line": _lsf_line,
}


def _check_wavelength(wavelength, n_features):
    if wavelength is None:
        return np.arange(n_features, dtype=np.float64), False
    wavelength = np.asarray(wavelength, dtype=np.float64)
    if wavelength.shape != (n_features,):
        raise ValueError(
            f"wavelength must have shape (n_wavelengths,) = ({n_features},) to match X; "
            f"got shape {wavelength.shape}."
        )
    if not np.all(np.isfinite(wavelength)) or np.any(np.diff(wavelength) <= 0):
        raise ValueError("wavelength must be finite and strictly increasing.")
    return wavelength, True


def inject_anomalies(
    X,
    *,
    kind="emission",
    fraction=0.01,
    wavelength=None,
    random_state=None,
    return_params=False,
):
    """Copy spectra and add a known anomaly to a random fraction of them.

    Exactly ``round(fraction * n_samples)`` spectra (at least one) are chosen with
    ``check_random_state(random_state)`` and each gets one anomaly. Amplitudes are given in
    units of the spectrum's own flux near the anomaly (the median within 10 pixels, or the
    median of ``|flux|`` where that is not positive), so they mean the same for spectra
    normalised to median 1 and for spectra in physical units: injecting into ``c * X`` gives
    ``c`` times the result for ``X`` with the same ``random_state``.

    ==============  ===========================================================================
    kind            what is done to the spectrum (ranges drawn uniformly)
    ==============  ===========================================================================
    ``emission``    add a Gaussian line of σ = 1-3 pixels, peak 0.3-1.0 × the local flux
    ``absorption``  subtract a Gaussian line of σ = 1-3 pixels, depth 0.2-0.6 × the local flux
    ``dropout``     set a contiguous run of 5-20 % of the pixels (at least 2) to 0
    ``cosmic_ray``  add a spike 1 or 2 pixels wide, 5-20 × the local flux
    ``slope``       multiply by ``1 + s (λ - λ_mid) / (λ_max - λ_min)``, ``|s|`` = 0.2-0.5,
                    either sign (a ramp from ``1 - s/2`` to ``1 + s/2`` across the spectrum)
    ``step``        multiply the flux beyond a random pixel (10-90 % of the way) by
                    ``1 + s``, ``|s|`` = 0.05-0.2, either sign: a calibration jump
    ``ripple``      multiply 20-40 % of the pixels by ``1 + A sin(2π p / P + φ)``,
                    A = 0.03-0.1, P = 4-12 pixels: fringing or a spurious wiggle
    ``stitched``    replace the pixels beyond a seam (20-80 % of the way) by another
                    spectrum of ``X``, scaled to the same local flux at the seam: two
                    objects stitched together
    ``lsf_line``    add or subtract a Gaussian line of σ = 2-5 pixels (the width of Gaia
                    XP's line-spread function), 0.1-0.3 × the local flux
    ``mixed``       each chosen spectrum gets one of the kinds above, at random
    ==============  ===========================================================================

    Line centres are kept 3 σ from the ends of the spectrum.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_wavelengths)
        Spectra, in any flux unit (normalised or not), on a common grid. Must be finite.
        Not modified.
    kind : str, default="emission"
        Kind of anomaly, see the table above. ``ANOMALY_KINDS`` lists all but ``"mixed"``.
    fraction : float in (0, 1), default=0.01
        Fraction of the spectra to make anomalous.
    wavelength : array-like of shape (n_wavelengths,), default=None
        Wavelength grid of ``X`` in Å, strictly increasing. It sets the ramp of ``"slope"``
        and the ``center_wavelength`` of the returned parameters. If None, the pixel index is
        used in its place.
    random_state : int, RandomState instance or None, default=None
        Seed for the choice of spectra and the anomalies' parameters. Pass an int for
        reproducible output.
    return_params : bool, default=False
        If True, also return a DataFrame describing each injected anomaly.

    Returns
    -------
    X_new : ndarray of shape (n_samples, n_wavelengths)
        A copy of ``X`` (float64, or float32 if ``X`` is float32) with the anomalies added.
    is_anomaly : ndarray of shape (n_samples,), bool
        True for the spectra that were changed.
    params : DataFrame of shape (n_anomalies, 6)
        Only if ``return_params`` is True; one row per anomalous spectrum, in row order, with
        columns ``index`` (row in ``X``), ``kind``, ``center`` (pixel; the seam for step and
        stitched; NaN for slope), ``center_wavelength`` (Å, interpolated from
        ``wavelength``; NaN if ``wavelength`` is None or for slope), ``width`` (σ in pixels
        for lines; number of pixels for dropout, cosmic_ray and ripple; NaN for slope, step
        and stitched) and ``amplitude`` (peak or depth over the local flux for lines and
        cosmic rays, signed for lsf_line; ``s`` for slope and step; ``A`` for ripple; the
        other spectrum's scale factor for stitched; NaN for dropout).

    Raises
    ------
    ValueError
        If ``kind`` is not one of the kinds above, ``fraction`` is not in (0, 1), ``X`` is not
        2-D, empty or not finite, or ``wavelength`` does not match ``X``.

    See Also
    --------
    load_gaia_xp : Real spectra to inject anomalies into.

    Examples
    --------
    >>> import numpy as np
    >>> from skspectra.datasets import inject_anomalies
    >>> X = np.ones((200, 343))
    >>> X_new, is_anomaly = inject_anomalies(X, kind="mixed", fraction=0.05, random_state=0)
    >>> int(is_anomaly.sum())
    10
    >>> bool(np.array_equal(X_new[~is_anomaly], X[~is_anomaly]))
    True
    """
    valid_kinds = ANOMALY_KINDS + ("mixed",)
    if not isinstance(kind, str) or kind not in valid_kinds:
        raise ValueError(f"kind must be one of {valid_kinds}; got {kind!r}.")
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 < fraction < 1:
        raise ValueError(
            f"fraction must be a number in the open interval (0, 1); got {fraction!r}."
        )
    if np.ndim(X) != 2:
        raise ValueError(
            "X must be a 2-D array of shape (n_samples, n_wavelengths); "
            f"got an array with {np.ndim(X)} dimension(s)."
        )
    X_new = check_array(X, dtype=[np.float64, np.float32], copy=True)
    originals = X_new.copy()
    n_samples, n_features = X_new.shape
    grid, has_wavelength = _check_wavelength(wavelength, n_features)
    rng = check_random_state(random_state)

    n_anomalies = max(1, int(round(fraction * n_samples)))
    rows = np.sort(rng.choice(n_samples, size=n_anomalies, replace=False))
    records = []
    for row in rows:
        row_kind = str(rng.choice(ANOMALY_KINDS)) if kind == "mixed" else kind
        spectrum = X_new[row].astype(np.float64)
        others = np.delete(originals, row, axis=0) if n_samples > 1 else originals
        center, width, amplitude = _INJECTORS[row_kind](spectrum, rng, grid, others)
        X_new[row] = spectrum
        center_wavelength = (
            np.interp(center, np.arange(n_features), grid)
            if has_wavelength and np.isfinite(center)
            else np.nan
        )
        records.append((int(row), row_kind, center, center_wavelength, width, amplitude))

    is_anomaly = np.zeros(n_samples, dtype=bool)
    is_anomaly[rows] = True
    if return_params:
        return X_new, is_anomaly, pd.DataFrame.from_records(records, columns=_PARAM_COLUMNS)
    return X_new, is_anomaly
