"""Wavelength grids: pixel edges from centres, log-spaced grids, a common grid for many spectra."""

import numpy as np

__all__ = ["bin_edges", "common_wavelength_grid", "log_wavelength_grid"]

#: Relative tolerance on wavelength when deciding whether an output pixel lies inside the
#: input's edges. Building a grid from a median log step and powers of it rounds its far end
#: by ~1e-12 relative; coverage must not hinge on that. 1e-10 of 5000 Å is 5e-7 Å.
EDGE_RTOL = 1e-10


def _check_wavelength_1d(wavelength, name="wavelength"):
    """Return ``wavelength`` as a finite, strictly increasing float64 vector of length >= 2."""
    wavelength = np.asarray(wavelength, dtype=np.float64)
    if wavelength.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {wavelength.shape}.")
    if wavelength.size < 2:
        raise ValueError(
            f"{name} needs at least 2 pixels to define bin edges, got {wavelength.size}."
        )
    if not np.all(np.isfinite(wavelength)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    if np.any(np.diff(wavelength) <= 0):
        raise ValueError(
            f"{name} must be strictly increasing (reverse the arrays if your wavelengths decrease)."
        )
    return wavelength


def bin_edges(wavelength):
    """Pixel edges from pixel centres.

    Interior edges are the arithmetic midpoints of neighbouring centres; the two outer edges are
    placed half a neighbouring step beyond the first and last centre. This is the convention of
    specutils ``SpectralAxis.bin_edges`` and of SpectRes, so that resampled results agree.

    Parameters
    ----------
    wavelength : array-like of shape (n_wavelengths,) or (n_spectra, n_wavelengths)
        Pixel centres in Å, strictly increasing along the last axis, at least 2 per spectrum.

    Returns
    -------
    edges : ndarray of shape (n_wavelengths + 1,) or (n_spectra, n_wavelengths + 1)
        Pixel edges in Å, float64.
    """
    w = np.asarray(wavelength, dtype=np.float64)
    first = w[..., :1] - 0.5 * (w[..., 1:2] - w[..., :1])
    last = w[..., -1:] + 0.5 * (w[..., -1:] - w[..., -2:-1])
    return np.concatenate([first, 0.5 * (w[..., 1:] + w[..., :-1]), last], axis=-1)


def log_wavelength_grid(start, stop, n=None, *, dloglam=None):
    """Wavelength pixel centres equally spaced in log10(λ).

    Give exactly one of ``n`` and ``dloglam``.

    Parameters
    ----------
    start, stop : float
        First and (at most) last pixel centre, in Å, ``0 < start < stop``.
    n : int, optional
        Number of pixels; the grid then runs from ``start`` to ``stop`` inclusive.
    dloglam : float, optional
        Step in log10(λ / Å). SDSS and BOSS coadds use ``1e-4`` (69 km/s per pixel). The grid
        then starts at ``start`` and stops at the last centre not beyond ``stop``.

    Returns
    -------
    wavelength : ndarray of shape (n_wavelengths,)
        Pixel centres in Å, float64.

    Raises
    ------
    ValueError
        If the bounds are not positive and increasing, if both or neither of ``n`` and
        ``dloglam`` are given, or if they are not positive.

    Examples
    --------
    >>> from skspectra.preprocessing import log_wavelength_grid
    >>> grid = log_wavelength_grid(3800.0, 9200.0, dloglam=1e-4)
    >>> grid.shape
    (3841,)
    """
    if not (np.isfinite(start) and np.isfinite(stop) and 0 < start < stop):
        raise ValueError(f"need finite 0 < start < stop, got start={start}, stop={stop}.")
    if (n is None) == (dloglam is None):
        raise ValueError("give exactly one of n and dloglam.")
    lo, hi = np.log10(start), np.log10(stop)
    if n is not None:
        if int(n) != n or n < 2:
            raise ValueError(f"n must be an integer >= 2, got {n}.")
        return 10.0 ** np.linspace(lo, hi, int(n))
    if not (np.isfinite(dloglam) and dloglam > 0):
        raise ValueError(f"dloglam must be a positive float, got {dloglam}.")
    # The small tolerance keeps `stop` itself when (hi - lo) is a whole number of steps.
    n_pix = int(np.floor((hi - lo) / dloglam + 1e-9)) + 1
    if n_pix < 2:
        raise ValueError(
            f"dloglam={dloglam} leaves fewer than 2 pixels between {start} and {stop}."
        )
    return 10.0 ** (lo + dloglam * np.arange(n_pix))


def common_wavelength_grid(wavelengths, *, mode="intersection", dloglam=None):
    """A log-spaced grid that a set of spectra can all be resampled onto.

    Parameters
    ----------
    wavelengths : sequence of array-like, each of shape (n_wavelengths_i,), or array of shape \
(n_spectra, n_wavelengths) or (n_wavelengths,)
        Pixel centres in Å of each spectrum (lengths may differ).
    mode : {"intersection", "union"}, default="intersection"
        ``"intersection"``: every output pixel lies wholly inside every input spectrum, so that
        :func:`~skspectra.preprocessing.resample_spectra` fills none of them for lack of
        coverage. ``"union"``: the grid spans all inputs; pixels that a spectrum does not
        cover are filled for that spectrum.
    dloglam : float, optional
        Step in log10(λ / Å). Default: the median, over spectra, of each spectrum's median step
        in log10(λ), i.e. the typical input sampling.

    Returns
    -------
    wavelength : ndarray of shape (n_wavelengths,)
        Pixel centres in Å, float64, equally spaced in log10(λ). The edges that
        :func:`bin_edges` derives from them lie inside the chosen range. When every spectrum
        already has the same grid (and ``dloglam`` is not given), that grid is returned as it
        is, whatever its spacing.

    Raises
    ------
    ValueError
        If no spectra are given, a wavelength array is invalid, or (``"intersection"``) the
        spectra share less than two output pixels.

    See Also
    --------
    log_wavelength_grid : a grid from explicit bounds.
    resample_spectra : resample onto the grid.
    """
    if mode not in ("intersection", "union"):
        raise ValueError(f"mode must be 'intersection' or 'union', got {mode!r}.")
    if isinstance(wavelengths, np.ndarray) and wavelengths.ndim in (1, 2):
        arrays = [wavelengths] if wavelengths.ndim == 1 else list(wavelengths)
    else:
        arrays = list(wavelengths)
    if not arrays:
        raise ValueError("no wavelength arrays given.")
    arrays = [_check_wavelength_1d(w, f"wavelengths[{i}]") for i, w in enumerate(arrays)]
    if dloglam is None and all(np.array_equal(w, arrays[0]) for w in arrays[1:]):
        return np.array(arrays[0], dtype=np.float64)
    edges = [bin_edges(w) for w in arrays]
    lows = np.array([e[0] for e in edges])
    highs = np.array([e[-1] for e in edges])
    if mode == "intersection":
        lo, hi = lows.max(), highs.min()
    else:
        lo, hi = lows.min(), highs.max()
    if dloglam is None:
        dloglam = float(np.median([np.median(np.diff(np.log10(w))) for w in arrays]))
    if not (np.isfinite(dloglam) and dloglam > 0):
        raise ValueError(f"dloglam must be a positive float, got {dloglam}.")
    if not hi > lo:
        raise ValueError(f"the spectra do not overlap: common range is [{lo:.6g}, {hi:.6g}] Å.")
    # Choose the first centre so that its (arithmetic midpoint) edge is exactly `lo`: then an
    # input on the same log grid gives back its own centres. The while loops only guard
    # against rounding, dropping an end pixel whose edge would poke out of [lo, hi] by more
    # than the tolerance that resample_spectra allows.
    r = 10.0**dloglam
    first = lo / (1.0 - 0.5 * (r - 1.0))
    last_max = hi / (1.0 + 0.5 * (1.0 - 1.0 / r))
    n_pix = (
        int(np.floor(np.log10(last_max / first) / dloglam + 1e-6)) + 1 if last_max > first else 0
    )
    grid = first * r ** np.arange(n_pix)
    while grid.size >= 2 and bin_edges(grid)[0] < lo * (1 - EDGE_RTOL):
        grid = grid[1:]
    while grid.size >= 2 and bin_edges(grid)[-1] > hi * (1 + EDGE_RTOL):
        grid = grid[:-1]
    if grid.size < 2:
        raise ValueError(
            f"the common range [{lo:.6g}, {hi:.6g}] Å holds fewer than 2 pixels of "
            f"dloglam={dloglam:.3g}."
        )
    return grid
