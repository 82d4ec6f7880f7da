"""Band fluxes of spectra through real filter curves (speclite), with an explicit policy for
filters that run past the spectrum's wavelength range."""

import numpy as np

__all__ = ["band_coverage", "synthetic_photometry"]

#: What to do with a filter that is not fully inside the spectrum's wavelength range.
OUT_OF_RANGE = ("edge", "median", "zero", "drop", "raise")

_SPECLITE_HINT = 'pip install speclite  (or: pip install "skspectra[images]")'


def _load_filters(bands):
    try:
        import speclite.filters
    except ImportError as exc:  # pragma: no cover - speclite is installed here
        raise ImportError(
            f"synthetic photometry needs speclite's filter curves; install it: {_SPECLITE_HINT}"
        ) from exc
    bands = [bands] if isinstance(bands, str) else list(bands)
    if not bands:
        raise ValueError("bands is empty; give at least one speclite filter name.")
    try:
        return speclite.filters.load_filters(*bands)
    except (ValueError, OSError) as exc:
        raise ValueError(
            f"unknown speclite filter in bands={bands!r} ({exc}); names look like "
            "'sdss2010-r' or 'decam2014-g' (see speclite.filters.filter_group_names)."
        ) from exc


def band_coverage(bands, wavelength):
    r"""Fraction of each filter's photon-weighted response inside a wavelength range.

    Parameters
    ----------
    bands : str or sequence of str
        speclite filter names, such as ``"sdss2010-r"``.
    wavelength : array-like of shape (n_wavelengths,)
        Wavelength grid of the spectra, in Å. Only its minimum and maximum matter.

    Returns
    -------
    coverage : ndarray of shape (n_bands,)
        :math:`\int_{\lambda_{min}}^{\lambda_{max}} S(\lambda)\,\lambda\,d\lambda /
        \int S(\lambda)\,\lambda\,d\lambda`, where :math:`S` is the filter response: 1 for a
        filter fully covered by the spectrum, 0 for one entirely outside it.
    """
    filters = _load_filters(bands)
    lo, hi = float(np.min(wavelength)), float(np.max(wavelength))
    out = []
    for response in filters:
        w = response.wavelength
        weight = response.response * w
        inside = (w >= lo) & (w <= hi)
        out.append(np.trapezoid(weight * inside, w) / np.trapezoid(weight, w))
    return np.asarray(out, dtype=np.float64)


def synthetic_photometry(
    spectra,
    wavelength,
    bands,
    *,
    flux_unit="erg / (s cm2 Angstrom)",
    out_of_range="edge",
    min_coverage=0.8,
):
    """AB maggies of spectra through speclite filters, padding or dropping uncovered filters.

    Parameters
    ----------
    spectra : ndarray of shape (n_samples, n_wavelengths)
        Flux density per unit wavelength (F_λ) in ``flux_unit``. Must be finite.
    wavelength : ndarray of shape (n_wavelengths,)
        Increasing wavelengths in Å (vacuum, as speclite's filter curves).
    bands : sequence of str
        speclite filter names.
    flux_unit : str or astropy unit, default="erg / (s cm2 Angstrom)"
        Unit of ``spectra``; it must be a flux density per unit wavelength.
    out_of_range : {"edge", "median", "zero", "drop", "raise"}, default="edge"
        Policy for a filter that reaches past ``wavelength``: pad the spectra with speclite's
        ``FilterSequence.pad_spectrum`` (method ``edge``: the flux at the nearest end, ``median``:
        the spectrum's median, ``zero``: no flux there), ``drop`` the filter, or ``raise``.
    min_coverage : float, default=0.8
        With a padding policy, a filter with less than this fraction of its response inside
        the range (see :func:`band_coverage`) raises instead of being padded.

    Returns
    -------
    maggies : ndarray of shape (n_samples, n_bands_kept)
        AB maggies (:math:`10^{-0.4 m_{AB}}`) of each spectrum in each kept band.
    bands : list of str
        The bands kept, in the order given.
    coverage : ndarray of shape (n_bands_kept,)
        :func:`band_coverage` of the kept bands; below 1 means the flux there is padded.

    Raises
    ------
    ValueError
        If a filter name is unknown, the unit is not F_λ, a filter is not covered under
        ``out_of_range="raise"`` or covered less than ``min_coverage`` under a padding policy,
        or ``"drop"`` leaves no band.
    """
    import astropy.units as u

    if out_of_range not in OUT_OF_RANGE:
        raise ValueError(f"out_of_range must be one of {OUT_OF_RANGE}, got {out_of_range!r}.")
    try:
        unit = u.Unit(flux_unit)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"flux_unit={flux_unit!r} is not an astropy unit ({exc}).") from exc
    if not unit.is_equivalent(u.erg / (u.s * u.cm**2 * u.AA)):
        raise ValueError(
            f"flux_unit={flux_unit!r} is not a flux density per unit wavelength (F_lambda), "
            "such as 'erg / (s cm2 Angstrom)' or 'W m-2 nm-1'; convert F_nu spectra first."
        )
    names = [bands] if isinstance(bands, str) else list(bands)
    coverage = band_coverage(names, wavelength)
    full = coverage >= 1 - 1e-9
    if out_of_range == "raise" and not full.all():
        raise ValueError(
            f"filters {_describe(names, coverage, ~full)} run past the spectra's wavelength "
            f"range {np.min(wavelength):.0f}-{np.max(wavelength):.0f} Å; choose bands inside "
            "it, or set out_of_range to 'edge', 'median', 'zero' (pad) or 'drop'."
        )
    if out_of_range == "drop":
        keep = full
        if not keep.any():
            raise ValueError(
                f"no band lies inside the spectra's wavelength range "
                f"{np.min(wavelength):.0f}-{np.max(wavelength):.0f} Å "
                f"({_describe(names, coverage, ~full)}); choose other bands."
            )
    else:
        low = coverage < min_coverage
        if low.any():
            raise ValueError(
                f"filters {_describe(names, coverage, low)} have less than "
                f"min_coverage={min_coverage} of their response inside the spectra's range "
                f"{np.min(wavelength):.0f}-{np.max(wavelength):.0f} Å, too little to pad; "
                "choose bands inside it, set out_of_range='drop', or lower min_coverage."
            )
        keep = np.ones(len(names), dtype=bool)
    kept = [n for n, k in zip(names, keep, strict=True) if k]
    filters = _load_filters(kept)
    flux = np.asarray(spectra, dtype=np.float64) * unit
    wave = np.asarray(wavelength, dtype=np.float64) * u.AA
    if out_of_range in ("edge", "median", "zero") and not full.all():
        flux, wave = filters.pad_spectrum(flux, wave, method=out_of_range)
    table = filters.get_ab_maggies(flux, wave)
    maggies = np.column_stack([np.asarray(table[n], dtype=np.float64) for n in kept])
    return maggies, kept, coverage[keep]


def _describe(names, coverage, which):
    return ", ".join(
        f"{n} ({100 * c:.0f} % covered)"
        for n, c, w in zip(names, coverage, which, strict=True)
        if w
    )
