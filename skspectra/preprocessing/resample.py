"""Flux-conserving resampling of many spectra onto one wavelength grid, propagating ivar."""

import numbers

import numpy as np

from .grids import EDGE_RTOL, _check_wavelength_1d, bin_edges

__all__ = ["resample_spectra"]

#: Rows resampled together; bounds the temporary memory to a few arrays of
#: ``_CHUNK_ROWS * n_wavelengths`` float64 values.
_CHUNK_ROWS = 32


def resample_spectra(
    wavelength,
    flux,
    ivar=None,
    *,
    new_wavelength,
    z=None,
    mask=None,
    fill="mask",
):
    """Resample spectra onto one wavelength grid, conserving flux and propagating ivar.

    Each output pixel gets the overlap-weighted mean flux density of the input pixels it
    overlaps (bin-edge integration), which conserves the integrated flux. This is the
    algorithm of SpectRes (Carnall 2017) and of specutils' ``FluxConservingResampler``,
    written for a whole batch of spectra at once with numpy.

    Parameters
    ----------
    wavelength : array-like of shape (n_wavelengths,) or (n_spectra, n_wavelengths), or list \
of n_spectra arrays
        Input pixel centres in Å (observed frame when ``z`` is given), strictly increasing.
        One vector shared by all spectra, one row per spectrum, or a list of per-spectrum
        arrays whose lengths may differ (then ``flux``, ``ivar`` and ``mask`` are lists too).
    flux : array-like of shape (n_spectra, n_wavelengths) or (n_wavelengths,), or list of arrays
        Flux density per unit wavelength (e.g. SDSS 1e-17 erg s⁻¹ cm⁻² Å⁻¹); the output has
        the same units. A 1-D array is one spectrum and gives 1-D outputs.
    ivar : array-like like ``flux``, optional
        Inverse variance of ``flux``. ``ivar == 0`` (or non-finite) marks a bad pixel.
        Negative values raise.
    new_wavelength : array-like of shape (n_new_wavelengths,)
        Output pixel centres in Å (rest frame when ``z`` is given), strictly increasing, e.g.
        from :func:`log_wavelength_grid` or :func:`common_wavelength_grid`.
    z : float or array-like of shape (n_spectra,), optional
        Redshift of each spectrum. When given, each spectrum is shifted to its rest frame
        before resampling (see Notes). Must be > -1.
    mask : array-like of bool like ``flux``, optional
        True marks a bad pixel, in addition to ``ivar == 0`` and non-finite ``flux``.
    fill : {"mask", "nan"} or float, default="mask"
        Flux given to output pixels that get no good input (see Notes): ``"mask"`` → 0.0,
        ``"nan"`` → NaN, a float → that value. Their ivar is always 0.

    Returns
    -------
    new_flux : ndarray of shape (n_spectra, n_new_wavelengths) or (n_new_wavelengths,)
        Resampled flux density, float64, same units as ``flux`` (times (1 + z) with ``z``).
    new_ivar : ndarray like ``new_flux``, or None
        Inverse variance of ``new_flux``, 0 where the output pixel has no good input.
        None when ``ivar`` is None.

    Raises
    ------
    ValueError
        If shapes disagree, a wavelength array is not finite and strictly increasing or has
        fewer than 2 pixels, ``ivar`` is negative, ``z <= -1``, or ``fill`` is unknown.

    See Also
    --------
    common_wavelength_grid : a grid that all spectra cover.
    bin_edges : how pixel edges are derived from centres.

    Notes
    -----
    **Pixel edges.** Input and output edges come from the centres by :func:`bin_edges`
    (midpoints, outer edges half a step out), as in specutils and SpectRes.

    **Flux.** With :math:`p_{ij}` the overlap in Å of input pixel :math:`i` with output
    pixel :math:`j` and :math:`g_i \\in \\{0, 1\\}` the good-pixel flag,

    .. math::

        F_j = \\frac{\\sum_i p_{ij} g_i f_i}{\\sum_i p_{ij} g_i}, \\qquad
        \\sigma^2_j = \\frac{\\sum_i p_{ij}^2 g_i \\sigma^2_i}{(\\sum_i p_{ij} g_i)^2},
        \\qquad \\mathrm{ivar}_j = 1 / \\sigma^2_j.

    The variance is that of a weighted mean of independent pixels; it is what specutils
    computes. An output pixel covering k whole input pixels of equal width and ivar gets
    ivar ≈ k · ivar. With no bad pixels :math:`\\sum_j F_j \\Delta\\lambda_j` equals the input
    integral over the same range: flux is conserved.

    **Bad pixels** (``ivar == 0``, non-finite, or ``mask``) are treated as missing data: they
    take no part in either sum, so they neither poison their neighbours' flux nor are
    smeared into them. An output pixel partly over bad pixels is the mean over its good
    part (with a correspondingly lower ivar); one with no good overlap gets ``fill`` and
    ivar 0. specutils instead lets a bad pixel's flux into the mean and sets the output ivar
    to 0; the two agree wherever all input pixels are good.

    **Coverage.** An output pixel must lie wholly inside the input's edges
    ``[edges[0], edges[-1]]`` (to a relative tolerance of 1e-10 in wavelength, against
    rounding); one that sticks out, even partly, gets ``fill`` and ivar 0, as in SpectRes.
    (specutils keeps a partly covered first pixel and fills a partly covered last one.) So
    an output spectrum never holds a pixel built from a fraction of its width at the end of
    the data.

    **Rest frame.** With ``z``, :math:`\\lambda_{rest} = \\lambda_{obs} / (1 + z)` and the
    flux density per Å becomes :math:`f_{rest} = f_{obs} (1 + z)`, hence
    :math:`\\mathrm{ivar}_{rest} = \\mathrm{ivar}_{obs} / (1 + z)^2`. This keeps the
    integrated flux :math:`\\int f\\, d\\lambda` unchanged; no luminosity distance or
    cosmological dimming (:math:`(1+z)^4` surface brightness) is applied.

    References
    ----------
    .. [1] Carnall, A. C. 2017, "SpectRes: A Fast Spectral Resampling Tool in Python",
       arXiv:1705.05165.
    .. [2] specutils, ``specutils.manipulation.FluxConservingResampler``,
       https://specutils.readthedocs.io/

    Examples
    --------
    >>> import numpy as np
    >>> from skspectra.preprocessing import resample_spectra
    >>> wave = np.arange(4000.0, 4010.0)                  # 10 pixels of 1 Å
    >>> flux = np.ones((2, 10)); ivar = np.full((2, 10), 4.0)
    >>> new_flux, new_ivar = resample_spectra(wave, flux, ivar, new_wavelength=[4001.5, 4003.5])
    >>> new_flux
    array([[1., 1.],
           [1., 1.]])
    >>> new_ivar                                        # 2 input pixels per output pixel
    array([[8., 8.],
           [8., 8.]])
    """
    fill_value = _fill_value(fill)
    new_wavelength = _check_wavelength_1d(new_wavelength, "new_wavelength")
    one_spectrum = not _is_ragged(flux) and np.ndim(flux) == 1
    edges, flux, ivar, mask = _as_padded_rows(wavelength, flux, ivar, mask)
    n_spectra = flux.shape[0]
    scale = _rest_frame_scale(z, n_spectra)

    new_edges = bin_edges(new_wavelength)
    new_flux = np.empty((n_spectra, new_wavelength.size))
    new_ivar = None if ivar is None else np.empty_like(new_flux)
    for start in range(0, n_spectra, _CHUNK_ROWS):
        rows = slice(start, start + _CHUNK_ROWS)
        in_edges = edges if edges.ndim == 1 else edges[rows]
        chunk_ivar = None if ivar is None else ivar[rows]
        good = _good_pixels(flux[rows], chunk_ivar, None if mask is None else mask[rows])
        var = None if ivar is None else _variance(chunk_ivar, good)
        # Resample in the observed frame onto the output edges moved to the observed frame;
        # overlaps are then computed against the stored input edges, with no rounding of them.
        out_edges = new_edges if scale is None else new_edges * scale[rows, None]
        f, iv = _resample_block(in_edges, flux[rows], var, good, out_edges, fill_value)
        if scale is not None:
            f *= scale[rows, None]
            if iv is not None:
                iv /= scale[rows, None] ** 2
        new_flux[rows] = f
        if new_ivar is not None:
            new_ivar[rows] = iv
    if one_spectrum:
        return new_flux[0], (None if new_ivar is None else new_ivar[0])
    return new_flux, new_ivar


def _fill_value(fill):
    """Translate the ``fill`` policy into the flux given to output pixels without data."""
    if isinstance(fill, str):
        if fill == "mask":
            return 0.0
        if fill == "nan":
            return np.nan
        raise ValueError(f"fill must be 'mask', 'nan' or a float, got {fill!r}.")
    if isinstance(fill, numbers.Real) and not isinstance(fill, bool):
        return float(fill)
    raise ValueError(f"fill must be 'mask', 'nan' or a float, got {fill!r}.")


def _is_ragged(x):
    return isinstance(x, (list, tuple)) and len(x) > 0 and np.ndim(x[0]) == 1


def _rest_frame_scale(z, n_spectra):
    """Return (1 + z) per spectrum as float64 of shape (n_spectra,), or None without z."""
    if z is None:
        return None
    z = np.asarray(z, dtype=np.float64)
    if z.ndim == 0:
        z = np.full(n_spectra, float(z))
    if z.shape != (n_spectra,):
        raise ValueError(f"z must be a scalar or have shape ({n_spectra},), got {z.shape}.")
    bad = ~np.isfinite(z) | (z <= -1)
    if bad.any():
        raise ValueError(
            f"z must be finite and > -1; bad value at rows {np.flatnonzero(bad)[:10]}."
        )
    return 1.0 + z


def _as_padded_rows(wavelength, flux, ivar, mask):
    """Bring the accepted input layouts to (edges, flux, ivar, mask) with one row per spectrum.

    ``edges`` is 1-D when all spectra share one wavelength vector, else (n_spectra, m + 1).
    Ragged lists are padded: the padding pixels have zero width (the last edge repeated) and
    are masked, so they contribute nothing.
    """
    if _is_ragged(flux) or _is_ragged(wavelength):
        return _pad_ragged(wavelength, flux, ivar, mask)
    flux = np.asarray(flux, dtype=np.float64)
    if flux.ndim == 1:
        flux = flux[None, :]
    if flux.ndim != 2:
        raise ValueError(f"flux must be 1-D or 2-D, got shape {flux.shape}.")
    n, m = flux.shape
    wavelength = np.asarray(wavelength, dtype=np.float64)
    if wavelength.ndim == 1:
        if wavelength.shape != (m,):
            raise ValueError(f"wavelength has shape {wavelength.shape}, flux has {m} pixels.")
        edges = bin_edges(_check_wavelength_1d(wavelength))
    elif wavelength.shape == (n, m):
        _check_rows_increasing(wavelength)
        edges = bin_edges(wavelength)
    else:
        raise ValueError(
            f"wavelength must have shape ({m},) or ({n}, {m}) to match flux, "
            f"got {wavelength.shape}."
        )
    ivar = _optional_like(ivar, flux.shape, "ivar", np.float64)
    mask = _optional_like(mask, flux.shape, "mask", bool)
    return edges, flux, ivar, mask


def _pad_ragged(wavelength, flux, ivar, mask):
    n = len(flux)
    if len(wavelength) != n:
        raise ValueError(f"got {len(wavelength)} wavelength arrays for {n} flux arrays.")
    for name, seq in (("ivar", ivar), ("mask", mask)):
        if seq is not None and len(seq) != n:
            raise ValueError(f"got {len(seq)} {name} arrays for {n} flux arrays.")
    lengths = [np.size(f) for f in flux]
    m = max(lengths)
    edges = np.empty((n, m + 1))
    flux_pad = np.zeros((n, m))
    ivar_pad = None if ivar is None else np.zeros((n, m))
    pad_mask = np.ones((n, m), dtype=bool)
    for i, length in enumerate(lengths):
        w = _check_wavelength_1d(wavelength[i], f"wavelength[{i}]")
        f = np.asarray(flux[i], dtype=np.float64)
        if w.shape != f.shape:
            raise ValueError(f"spectrum {i}: wavelength shape {w.shape} != flux shape {f.shape}.")
        iv = _optional_like(None if ivar is None else ivar[i], f.shape, f"ivar[{i}]", np.float64)
        mk = _optional_like(None if mask is None else mask[i], f.shape, f"mask[{i}]", bool)
        e = bin_edges(w)
        edges[i, : length + 1] = e
        edges[i, length + 1 :] = e[-1]
        flux_pad[i, :length] = f
        if ivar_pad is not None:
            ivar_pad[i, :length] = iv
        pad_mask[i, :length] = False if mk is None else mk
    return edges, flux_pad, ivar_pad, pad_mask


def _check_rows_increasing(wavelength):
    if not np.all(np.isfinite(wavelength)):
        raise ValueError("wavelength contains NaN or infinite values.")
    bad = np.any(np.diff(wavelength, axis=1) <= 0, axis=1)
    if bad.any():
        raise ValueError(
            f"wavelength must be strictly increasing in every row; rows {np.flatnonzero(bad)[:10]} "
            "are not."
        )


def _optional_like(x, shape, name, dtype):
    if x is None:
        return None
    x = np.asarray(x, dtype=dtype)
    if x.ndim == 1 and len(shape) == 2 and shape[0] == 1:
        x = x[None, :]
    if x.shape != shape:
        raise ValueError(f"{name} has shape {x.shape}, expected {shape} like flux.")
    if dtype is np.float64 and np.any(x < 0):
        raise ValueError(f"{name} has negative values; inverse variance must be >= 0.")
    return x


def _good_pixels(flux, ivar, mask):
    good = np.isfinite(flux)
    if ivar is not None:
        good &= np.isfinite(ivar) & (ivar > 0)
    if mask is not None:
        good &= ~mask
    return good


def _variance(ivar, good):
    """1 / ivar on good pixels, 0 on bad ones (which carry no weight anyway)."""
    var = np.zeros_like(ivar)
    np.divide(1.0, ivar, out=var, where=good)
    return var


def _cumulative(x):
    """Zero-prepended cumulative sum along the last axis: shape (r, m) → (r, m + 1)."""
    out = np.zeros(x.shape[:-1] + (x.shape[-1] + 1,))
    np.cumsum(x, axis=-1, out=out[..., 1:])
    return out


def _locate(in_edges, out_edges, n_rows):
    """Index of the input pixel holding each output edge.

    Shape (n_out_edges,) when input and output edges are shared by all rows, else
    (n_rows, n_out_edges). Indices are clipped to [0, m - 1] for m input pixels.
    """
    if in_edges.ndim == 1:
        idx = np.searchsorted(in_edges, out_edges, side="right") - 1
    else:
        # numpy's searchsorted is 1-D only: one call per row, everything else is vectorised.
        idx = np.empty((n_rows, out_edges.shape[-1]), dtype=np.intp)
        for r in range(n_rows):
            row_out = out_edges if out_edges.ndim == 1 else out_edges[r]
            idx[r] = np.searchsorted(in_edges[r], row_out, side="right") - 1
    return np.clip(idx, 0, in_edges.shape[-1] - 2)


class _Gather:
    """values[r, idx[r, k]] for many (n_rows, width) arrays and one index array.

    ``np.take`` on flattened rows is several times faster than ``np.take_along_axis`` here.
    A shared 1-D index is used as is; a 1-D ``values`` (shared by all rows) is indexed directly.
    """

    def __init__(self, idx, n_rows):
        self.idx = idx
        self.n_rows = n_rows
        self._flat = {}

    def __call__(self, values, shift=0):
        idx = self.idx + shift if shift else self.idx
        if values.ndim == 1:
            return values[idx]
        if idx.ndim == 1:
            return np.take(values, idx, axis=-1)
        width = values.shape[-1]
        key = (width, shift)
        if key not in self._flat:
            self._flat[key] = idx + (width * np.arange(self.n_rows))[:, None]
        return np.take(values.reshape(-1), self._flat[key])


def _resample_block(in_edges, flux, var, good, out_edges, fill_value):
    """Resample a block of rows; see :func:`resample_spectra` Notes for the formulas.

    For output pixel [a, b] with a in input pixel ia and b in input pixel ib, the overlap
    sums are: partial first pixel + whole pixels ia+1 .. ib-1 (from cumulative sums) +
    partial last pixel. Taking the two partial overlaps explicitly keeps the result exact
    for an output pixel inside a single input pixel, and gives the p² terms of the variance.
    Output edge k is the right edge of pixel k - 1 and the left edge of pixel k, so every
    quantity is gathered once at the K + 1 edges and sliced.
    """
    n_rows = flux.shape[0]
    width = np.diff(in_edges, axis=-1)
    all_good = bool(good.all())
    fg = flux if all_good else np.where(good, flux, 0.0)
    goodf = None if all_good else good.astype(np.float64)
    lo, hi = in_edges[..., :1], in_edges[..., -1:]
    tol = EDGE_RTOL * np.maximum(np.abs(lo), np.abs(hi))
    covered = (out_edges[..., :-1] >= lo - tol) & (out_edges[..., 1:] <= hi + tol)
    # Edges within the tolerance outside the input are pulled onto its end; edges further
    # out belong to uncovered pixels, which are filled whatever their sums.
    out_edges = np.clip(out_edges, lo, hi)
    gather = _Gather(_locate(in_edges, out_edges, n_rows), n_rows)

    a, b = out_edges[..., :-1], out_edges[..., 1:]
    ia, ib = gather.idx[..., :-1], gather.idx[..., 1:]
    same = ia == ib
    p_first = np.where(same, b - a, gather(in_edges, 1)[..., :-1] - a)
    p_last = np.where(same, 0.0, b - gather(in_edges)[..., 1:])

    def overlap_sum(per_pixel, weighted, power=1):
        cum = _cumulative(weighted)
        middle = np.where(same, 0.0, gather(cum)[..., 1:] - gather(cum, 1)[..., :-1])
        at_edges = gather(per_pixel)
        return p_first**power * at_edges[..., :-1] + middle + p_last**power * at_edges[..., 1:]

    sum_f = overlap_sum(fg, fg * width)
    if all_good:  # the common case: the good overlap is the whole (clipped) output pixel
        sum_g = np.broadcast_to(b - a, sum_f.shape)
    else:
        sum_g = overlap_sum(goodf, goodf * width)
    ok = covered & (sum_g > 0)
    new_flux = np.full(np.broadcast_shapes(ok.shape, (n_rows, 1)), fill_value)
    np.divide(sum_f, sum_g, out=new_flux, where=ok)
    if var is None:
        return new_flux, None
    sum_v = overlap_sum(var, var * width**2, power=2)
    ok = ok & (sum_v > 0)
    new_ivar = np.zeros(new_flux.shape)
    np.divide(sum_g**2, sum_v, out=new_ivar, where=ok)
    new_flux[~np.broadcast_to(ok, new_flux.shape)] = fill_value
    return new_flux, new_ivar
