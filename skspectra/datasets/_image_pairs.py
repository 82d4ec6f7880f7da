"""Semi-synthetic image-spectrum pairs: real spectra, their band fluxes through real filter
curves (speclite), rendered as multi-band images with GalSim."""

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._gaussian import _check_range
from ._photometry import OUT_OF_RANGE, synthetic_photometry

__all__ = ["make_image_spectrum_pairs"]

#: SDSS ugriz (Doi et al. 2010 curves, as speclite names them).
SDSS_BANDS = tuple(f"sdss2010-{b}" for b in "ugriz")
#: Moffat index of the ``psf="moffat"`` PSF: β = 3, a common fit to ground-based seeing.
MOFFAT_BETA = 3.0
GALAXY_PROFILES = ("exponential", "de_vaucouleurs", "sersic")
#: Range of the Sérsic index under ``galaxy_profile="sersic"``; drawn values are rounded to 0.1
#: so that GalSim can reuse its Sérsic tables.
SERSIC_N_RANGE = (0.5, 4.0)
#: Range of the axis ratio b/a of galaxy profiles.
AXIS_RATIO_RANGE = (0.3, 1.0)

_GALSIM_HINT = 'pip install galsim  (or: pip install "skspectra[images]")'

_DESCR = """\
Semi-synthetic image-spectrum pairs (make_image_spectrum_pairs)
---------------------------------------------------------------

The IMAGES ARE SIMULATED. The spectra are the ones given (for example real Gaia XP or MILES
spectra); their band fluxes are computed through real filter curves with speclite, and each
object is rendered with GalSim as a point source (or a Sersic galaxy profile) convolved with a
{psf} PSF of FWHM {fwhm} arcsec, on {h}x{w} pixels of {scale} arcsec, with Poisson noise
of the source and a flat sky of {sky} counts per pixel (then subtracted){neigh}. Counts are
band_flux (AB maggies) x 10**(0.4 * {zp}). Bands: {bands}.
No package ships real image-spectrum pairs; these exist to test models end to end.
"""


def _galsim():
    try:
        import galsim
    except ImportError as exc:  # pragma: no cover - galsim is installed here
        raise ImportError(f"make_image_spectrum_pairs renders with GalSim: {_GALSIM_HINT}") from exc
    return galsim


def _per_band(name, value, n_bands, *, low, allow_zero):
    """A positive (or non-negative) number, or one per band."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n_bands, float(arr))
    if arr.shape != (n_bands,):
        raise ValueError(
            f"{name} must be a number or one value per band ({n_bands} bands), "
            f"got shape {np.shape(value)}."
        )
    bad = ~np.isfinite(arr) | (arr < low) | ((arr == low) & (not allow_zero))
    if bad.any():
        relation = ">=" if allow_zero else ">"
        raise ValueError(f"{name} must be finite and {relation} {low}, got {value!r}.")
    return arr.copy()


def _check_inputs(spectra, wavelength):
    import astropy.units as u

    if isinstance(wavelength, u.Quantity):
        if not wavelength.unit.is_equivalent(u.AA):
            raise ValueError(f"wavelength must be a length, got unit {wavelength.unit}.")
        wavelength = wavelength.to_value(u.AA)
    spectra = np.array(spectra, dtype=np.float64)  # copies: the Bunch must not alias input
    wavelength = np.array(wavelength, dtype=np.float64)
    if spectra.ndim != 2 or spectra.shape[0] < 1:
        raise ValueError(
            f"spectra must be a 2-D array (n_samples, n_wavelengths), got shape {spectra.shape}."
        )
    if wavelength.shape != (spectra.shape[1],):
        raise ValueError(
            f"wavelength must have one value per spectrum pixel ({spectra.shape[1]}), "
            f"got shape {wavelength.shape}."
        )
    if not np.all(np.isfinite(wavelength)) or np.any(np.diff(wavelength) <= 0):
        raise ValueError("wavelength must be finite and strictly increasing (in Å).")
    bad = np.flatnonzero(~np.all(np.isfinite(spectra), axis=1))
    if bad.size:
        raise ValueError(
            f"spectra has NaN or infinite flux in {bad.size} rows (first: row {bad[0]}); "
            "interpolate over masked pixels or drop those spectra first."
        )
    return spectra, wavelength


def _draw_shapes(rng, n, galaxy_profile, hlr_range):
    """Half-light radius (arcsec), Sérsic n, axis ratio and position angle (deg) of n objects."""
    if galaxy_profile is None:
        nan = np.full(n, np.nan)
        return nan, nan.copy(), nan.copy(), nan.copy()
    hlr = rng.uniform(*hlr_range, size=n)
    if galaxy_profile == "sersic":
        sersic_n = np.round(rng.uniform(*SERSIC_N_RANGE, size=n), 1)
    else:
        sersic_n = np.full(n, 1.0 if galaxy_profile == "exponential" else 4.0)
    q = rng.uniform(*AXIS_RATIO_RANGE, size=n)
    angle = rng.uniform(0.0, 180.0, size=n)
    return hlr, sersic_n, q, angle


def _profile(galsim, hlr, sersic_n, q, angle):
    """Unit-flux GalSim profile before the PSF: a point, or a sheared Sérsic."""
    if not np.isfinite(hlr):
        return None
    if sersic_n == 1.0:
        gal = galsim.Exponential(half_light_radius=hlr)
    elif sersic_n == 4.0:
        gal = galsim.DeVaucouleurs(half_light_radius=hlr)
    else:
        gal = galsim.Sersic(n=sersic_n, half_light_radius=hlr)
    return gal.shear(q=q, beta=angle * galsim.degrees)


def _draw(galsim, profiles, offsets, psf, shape, pixel_scale):
    """Unit-flux images of each profile (None = point source) at its offset (pixels)."""
    out = np.empty((len(profiles),) + shape)
    for k, (prof, off) in enumerate(zip(profiles, offsets, strict=True)):
        obj = psf if prof is None else galsim.Convolve(prof, psf)
        image = galsim.ImageD(shape[1], shape[0], scale=pixel_scale)
        obj.drawImage(image=image, offset=tuple(off))
        out[k] = image.array
    return out


def _neighbour_positions(rng, k, shape, min_distance):
    """Offsets (pixels) uniform over the stamp, at least ``min_distance`` from its centre."""
    half = np.array([shape[1], shape[0]], dtype=np.float64) / 2
    pos = rng.uniform(-half, half, size=(k, 2))
    for _ in range(1000):
        close = np.hypot(pos[:, 0], pos[:, 1]) < min_distance
        if not close.any():
            return pos
        pos[close] = rng.uniform(-half, half, size=(int(close.sum()), 2))
    raise ValueError(  # pragma: no cover - needs a PSF larger than the stamp
        "cannot place neighbours one PSF FWHM away from the centre; enlarge image_size."
    )


@validate_params(
    {
        "spectra": ["array-like"],
        "wavelength": ["array-like"],
        "bands": ["array-like", str],
        "flux_unit": "no_validation",
        "magnitude_range": ["array-like", numbers.Real, None],
        "reference_band": [str, None],
        "image_size": ["array-like", Interval(numbers.Integral, 4, None, closed="left")],
        "pixel_scale": [Interval(numbers.Real, 0, None, closed="neither")],
        "psf_fwhm": ["array-like", Interval(numbers.Real, 0, None, closed="neither")],
        "psf": [StrOptions({"moffat", "kolmogorov"})],
        "zeropoint": [numbers.Real],
        "noise": ["array-like", Interval(numbers.Real, 0, None, closed="left"), None],
        "neighbours": ["array-like", Interval(numbers.Integral, 0, None, closed="left")],
        "galaxy_profile": [StrOptions(set(GALAXY_PROFILES)), None],
        "half_light_radius": ["array-like", Interval(numbers.Real, 0, None, closed="neither")],
        "out_of_range": [StrOptions(set(OUT_OF_RANGE))],
        "min_coverage": [Interval(numbers.Real, 0, 1, closed="both")],
        "return_params": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_image_spectrum_pairs(
    spectra,
    wavelength,
    *,
    bands=SDSS_BANDS,
    flux_unit="erg / (s cm2 Angstrom)",
    magnitude_range=(16.0, 20.0),
    reference_band=None,
    image_size=32,
    pixel_scale=0.396,
    psf_fwhm=1.4,
    psf="moffat",
    zeropoint=28.0,
    noise=100.0,
    neighbours=0,
    galaxy_profile=None,
    half_light_radius=(0.5, 2.0),
    out_of_range="edge",
    min_coverage=0.8,
    return_params=False,
    random_state=None,
):
    r"""Render simulated multi-band images of objects whose spectra are given.

    **The images are simulated.** Each spectrum (for example a real Gaia XP or MILES star) is
    integrated through real filter curves with speclite to get its band fluxes, and then drawn
    with GalSim in every band as a point source, or as a Sérsic galaxy profile, convolved with
    a PSF, with Poisson noise on the source and a flat sky, and optionally with neighbouring
    objects (whose spectra are other rows of ``spectra``). The result pairs each real spectrum
    with images whose colours come from that spectrum. No package ships real image-spectrum
    pairs; use :func:`skspectra.io.crossmatch` to pair your own.

    Parameters
    ----------
    spectra : array-like of shape (n_samples, n_wavelengths)
        Flux density per unit wavelength (F_λ) in ``flux_unit``, finite. Only the shape of
        each spectrum matters when ``magnitude_range`` is set: each one is rescaled. For the
        Gaia XP sample, ``load_gaia_xp().flux`` (median-normalised) works as is, and
        ``data.flux * data.medflux[:, None]`` with ``flux_unit="W m-2 nm-1"`` is calibrated.
    wavelength : array-like of shape (n_wavelengths,)
        Strictly increasing wavelengths in Å (vacuum), or an astropy length Quantity.
    bands : sequence of str, default=SDSS ugriz
        speclite filter names, ``("sdss2010-u", "sdss2010-g", "sdss2010-r", "sdss2010-i",
        "sdss2010-z")`` by default.
    flux_unit : str or astropy unit, default="erg / (s cm2 Angstrom)"
        Unit of ``spectra``; must be F_λ. It changes the result only when
        ``magnitude_range=None``.
    magnitude_range : (float, float), float or None, default=(16.0, 20.0)
        AB magnitude of each object in ``reference_band``, drawn uniformly from this range (a
        number fixes it); each spectrum is multiplied by ``flux_scale`` to reach it. ``None``
        keeps the spectra's own calibrated flux (``flux_scale = 1``).
    reference_band : str, default=None
        Band that ``magnitude_range`` refers to; the middle of ``bands`` (``sdss2010-r``)
        when None.
    image_size : int or (int, int), default=32
        Image height and width in pixels (>= 4). The object sits at the image centre (between
        the middle pixels for even sizes) plus a random offset of up to half a pixel.
    pixel_scale : float, default=0.396
        Arcsec per pixel (SDSS imaging).
    psf_fwhm : float or array-like of shape (n_bands,), default=1.4
        PSF full width at half maximum in arcsec: one for all bands, or one per band (given
        in the order of ``bands``). 1.4" is typical SDSS seeing.
    psf : {"moffat", "kolmogorov"}, default="moffat"
        PSF profile: Moffat with β = ``MOFFAT_BETA`` (3) or Kolmogorov (atmospheric turbulence).
    zeropoint : float, default=28.0
        AB magnitude that gives one count: counts = band_flux × 10**(0.4 × zeropoint). 28 is
        roughly SDSS r in its 54 s exposures (an r = 20 star gives about 1600 counts).
    noise : float, array-like of shape (n_bands,) or None, default=100.0
        Sky level in counts per pixel (one for all bands, or one per band). Each pixel gets a
        Poisson draw of (source + sky) counts, and then the sky is subtracted, so the noise
        σ of an empty pixel is √sky. 0 keeps only the source's Poisson noise; None gives
        noiseless images.
    neighbours : int or (int, int), default=0
        Number of other objects per image, fixed or drawn uniformly from the inclusive
        ``(min, max)`` range. Each is another row of ``spectra`` (chosen at random, never the
        central one), with its own magnitude from ``magnitude_range``, shape from
        ``galaxy_profile``, and a position uniform over the image at least one PSF FWHM from the
        centre. Neighbours add light to the images but not to ``band_flux``. A neighbour
        whose spectrum has no positive flux in ``reference_band`` stays dark.
    galaxy_profile : {"exponential", "de_vaucouleurs", "sersic"} or None, default=None
        None draws point sources (stars). Otherwise every object is a galaxy: a Sérsic profile
        with n = 1, n = 4, or n uniform in ``SERSIC_N_RANGE`` (rounded to 0.1), an axis ratio
        uniform in ``AXIS_RATIO_RANGE`` and a random position angle. The profile and PSF are
        the same in every band (no colour gradients).
    half_light_radius : float or (float, float), default=(0.5, 2.0)
        Range of the galaxies' half-light radius in arcsec (used only with ``galaxy_profile``).
    out_of_range : {"edge", "median", "zero", "drop", "raise"}, default="edge"
        What to do with a filter that runs past the spectra's wavelength range (Gaia XP
        3360-10200 Å leaves 11 % of SDSS u and 2 % of z outside; MILES 3540-7410 Å leaves
        38 % of u, 58 % of i and all of z). ``edge``, ``median`` and ``zero`` pad the spectra
        beyond their ends with speclite's ``pad_spectrum`` (the flux at the nearest end, each
        spectrum's median, or nothing), an extrapolation, not a measurement. ``drop`` removes
        such bands; ``raise`` refuses them. ``band_coverage`` reports the covered fraction.
    min_coverage : float, default=0.8
        When padding, a band with less than this fraction of its photon-weighted response
        inside the spectra's range raises a ValueError rather than be mostly extrapolated.
    return_params : bool, default=False
        If True, also return the per-object parameters and the neighbours.
    random_state : int, RandomState instance or None, default=None
        Seed of every random draw (magnitudes, offsets, shapes, neighbours, noise).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        images : ndarray of shape (n_samples, n_bands, H, W), float64
            Simulated sky-subtracted images in counts.
        band_flux : ndarray of shape (n_samples, n_bands), float64
            The truth: noiseless AB maggies of each central object's rescaled spectrum
            ``flux_scale * spectra`` in each band (neighbours excluded).
        band_counts : ndarray of shape (n_samples, n_bands)
            ``band_flux * 10**(0.4 * zeropoint)``: the counts of the central object over the
            whole plane; ``stamp_fraction`` of them fall inside the image.
        stamp_fraction : ndarray of shape (n_samples, n_bands)
            Fraction of the central object's light that falls inside the image.
        spectra : ndarray of shape (n_samples, n_wavelengths)
            The input spectra, unscaled, float64.
        flux_scale : ndarray of shape (n_samples,)
            Factor applied to each spectrum before its band fluxes were taken.
        wavelength : ndarray of shape (n_wavelengths,)
            In Å.
        bands : list of str
            The bands of ``images``' second axis (after ``out_of_range="drop"``).
        band_coverage : ndarray of shape (n_bands,)
            Fraction of each band's response inside the spectra's range (1 = no padding).
        psf_fwhm, sky_level : ndarray of shape (n_bands,)
            PSF FWHM (arcsec) and sky (counts per pixel; NaN if ``noise=None``) of each band.
        pixel_scale, zeropoint : float
            The ``pixel_scale`` (arcsec per pixel) and ``zeropoint`` (mag) used.
        params : DataFrame of shape (n_samples, 10)
            Only if ``return_params``: ``magnitude`` (AB, reference band), ``flux_scale``,
            ``x_offset``, ``y_offset`` (pixels from the image centre), ``half_light_radius``
            (arcsec), ``sersic_n``, ``axis_ratio``, ``position_angle`` (deg; NaN for point
            sources), ``n_neighbours`` and ``reference_band``.
        neighbours : DataFrame
            Only if ``return_params``: one row per neighbour, with ``image``,
            ``spectrum_index`` (row of ``spectra``), ``magnitude``, ``flux_scale``, offsets and
            shape as in ``params``.
        DESCR : str
            What was simulated, and how.

    Raises
    ------
    ValueError
        If the spectra are not 2-D and finite or ``wavelength`` does not match them, a filter
        is unknown or not covered enough (see ``out_of_range``), the reference band has no
        positive flux for some spectrum, a range is not ordered, or neighbours are asked for
        with a single spectrum.
    ImportError
        If speclite or GalSim is missing.

    See Also
    --------
    load_gaia_xp, fetch_miles : Real spectra to render.
    skspectra.images.aperture_photometry : Band fluxes back from the images.

    Notes
    -----
    The AB maggies of a spectrum :math:`F_\lambda` through a filter of response :math:`S` are
    (speclite's ``get_ab_maggies``)

    .. math::

        f = \frac{\int F_\lambda(\lambda)\, S(\lambda)\, \lambda\, d\lambda}
                 {\int f_{AB}\, c\, S(\lambda)\, \lambda^{-1}\, d\lambda},
        \qquad f_{AB} = 3631\ \mathrm{Jy},

    and the object's expected counts are :math:`f\,10^{0.4 z_p}`. The noiseless image of band
    b is :math:`\sum_o \mathrm{counts}_{o,b}\,(P_o * \mathrm{PSF}_b)`, where :math:`P_o` is the
    unit-flux profile of object o (a delta function for stars) and GalSim integrates over
    pixels. Pixels are then :math:`\mathrm{Poisson}(\mathrm{model} + s) - s` for sky s.

    References
    ----------
    .. [1] Rowe, B. et al. 2015, Astron. Comput. 10, 121, "GALSIM: The modular galaxy image
       simulation toolkit".
    .. [2] Kirkby, D. et al., speclite (https://speclite.readthedocs.io).
    .. [3] Doi, M. et al. 2010, AJ 139, 1628 (SDSS filter curves).
    .. [4] Wu, J. F. & Peek, J. E. G. 2020, arXiv:2009.12318, predicting galaxy spectra from
       images (the seed project 001's approach).

    Examples
    --------
    >>> from skspectra.datasets import load_gaia_xp, make_image_spectrum_pairs
    >>> stars = load_gaia_xp()
    >>> data = make_image_spectrum_pairs(
    ...     stars.flux[:10], stars.wavelength, image_size=16, random_state=0
    ... )
    >>> data.images.shape, data.band_flux.shape, data.bands[0]
    ((10, 5, 16, 16), (10, 5), 'sdss2010-u')
    """
    spectra, wavelength = _check_inputs(spectra, wavelength)
    n = spectra.shape[0]
    given = [bands] if isinstance(bands, str) else [str(b) for b in bands]
    shape = (int(image_size),) * 2 if np.ndim(image_size) == 0 else tuple(image_size)
    if len(shape) != 2 or any(not isinstance(s, numbers.Integral) or s < 4 for s in shape):
        raise ValueError(f"image_size must be an int >= 4 or a pair of them, got {image_size!r}.")
    shape = (int(shape[0]), int(shape[1]))
    fwhm = _per_band("psf_fwhm", psf_fwhm, len(given), low=0.0, allow_zero=False)
    sky = None if noise is None else _per_band("noise", noise, len(given), low=0.0, allow_zero=True)
    if magnitude_range is not None:
        magnitude_range = _check_range("magnitude_range", magnitude_range)
    hlr_range = _check_range("half_light_radius", half_light_radius, low=0.0, strict=True)
    if np.ndim(neighbours) == 0:
        k_range = (int(neighbours), int(neighbours))
    else:
        k_range = tuple(int(k) for k in neighbours)
        if len(k_range) != 2 or not 0 <= k_range[0] <= k_range[1]:
            raise ValueError(f"neighbours must be an int or a (min, max) pair, got {neighbours!r}.")
    if k_range[1] > 0 and n < 2:
        raise ValueError("neighbours need at least 2 spectra (a neighbour is another row).")

    maggies, kept, coverage = synthetic_photometry(
        spectra,
        wavelength,
        given,
        flux_unit=flux_unit,
        out_of_range=out_of_range,
        min_coverage=min_coverage,
    )
    keep = np.array([b in kept for b in given])
    fwhm = fwhm[keep]
    sky = None if sky is None else sky[keep]
    if reference_band is None:
        reference_band = kept[len(kept) // 2]
    if reference_band not in kept:
        raise ValueError(f"reference_band={reference_band!r} is not one of the bands {kept}.")
    ref = kept.index(reference_band)

    rng = check_random_state(random_state)
    if magnitude_range is None:
        scale = np.ones(n)
    else:
        bad = np.flatnonzero(~(maggies[:, ref] > 0))
        if bad.size:
            raise ValueError(
                f"{bad.size} spectra (first: row {bad[0]}) have no positive flux in "
                f"{reference_band}, so they cannot be scaled to a magnitude; drop them or "
                "choose another reference_band."
            )
        magnitude = rng.uniform(*magnitude_range, size=n)
        scale = 10 ** (-0.4 * magnitude) / maggies[:, ref]
    band_flux = maggies * scale[:, None]
    counts_per_maggie = 10 ** (0.4 * zeropoint)

    offsets = rng.uniform(-0.5, 0.5, size=(n, 2))
    shapes = np.column_stack(_draw_shapes(rng, n, galaxy_profile, hlr_range))
    n_neigh = rng.randint(k_range[0], k_range[1] + 1, size=n)
    owner = np.repeat(np.arange(n), n_neigh)
    m = owner.size
    other = rng.randint(0, max(n - 1, 1), size=m)
    other = other + (other >= owner)  # any row but the image's own
    if magnitude_range is None:
        n_scale = np.ones(m)
    else:
        n_mag = rng.uniform(*magnitude_range, size=m)
        with np.errstate(divide="ignore"):
            n_scale = np.where(maggies[other, ref] > 0, 10 ** (-0.4 * n_mag), 0.0) / np.where(
                maggies[other, ref] > 0, maggies[other, ref], 1.0
            )
    n_pos = _neighbour_positions(rng, m, shape, float(np.max(fwhm)) / pixel_scale)
    n_shapes = np.column_stack(_draw_shapes(rng, m, galaxy_profile, hlr_range))
    n_counts = maggies[other] * n_scale[:, None] * counts_per_maggie

    galsim = _galsim()
    make_psf = {
        "moffat": lambda f: galsim.Moffat(beta=MOFFAT_BETA, fwhm=f),
        "kolmogorov": lambda f: galsim.Kolmogorov(fwhm=f),
    }[psf]
    chromatic = not np.all(fwhm == fwhm[0])
    psfs = [make_psf(f) for f in (fwhm if chromatic else fwhm[:1])]
    model = np.empty((n, len(kept)) + shape)
    stamp_fraction = np.empty((n, len(kept)))
    starts = np.concatenate([[0], np.cumsum(n_neigh)])
    for i in range(n):
        rows = slice(starts[i], starts[i + 1])
        profiles = [_profile(galsim, *s) for s in np.vstack([shapes[i : i + 1], n_shapes[rows]])]
        where = np.vstack([offsets[i : i + 1], n_pos[rows]])
        counts = np.vstack([band_flux[i : i + 1] * counts_per_maggie, n_counts[rows]])
        for j, p in enumerate(psfs):
            unit = _draw(galsim, profiles, where, p, shape, pixel_scale)
            bands_here = [j] if chromatic else range(len(kept))
            for b in bands_here:
                model[i, b] = np.tensordot(counts[:, b], unit, axes=1)
                stamp_fraction[i, b] = unit[0].sum()
    if sky is None:
        images = model
    else:
        lam = np.clip(model, 0.0, None) + sky[None, :, None, None]
        images = rng.poisson(lam).astype(np.float64) - sky[None, :, None, None]

    descr = _DESCR.format(
        psf=psf,
        fwhm=", ".join(f"{f:g}" for f in np.unique(fwhm)),
        h=shape[0],
        w=shape[1],
        scale=pixel_scale,
        sky="no noise and no" if sky is None else ", ".join(f"{s:g}" for s in np.unique(sky)),
        neigh=f", and {k_range[0]}-{k_range[1]} neighbours" if k_range[1] else "",
        zp=zeropoint,
        bands=", ".join(kept),
    )
    data = Bunch(
        images=images,
        band_flux=band_flux,
        band_counts=band_flux * counts_per_maggie,
        stamp_fraction=stamp_fraction,
        spectra=spectra,
        flux_scale=scale,
        wavelength=wavelength,
        bands=kept,
        band_coverage=coverage,
        psf_fwhm=fwhm,
        sky_level=np.full(len(kept), np.nan) if sky is None else sky,
        pixel_scale=float(pixel_scale),
        zeropoint=float(zeropoint),
        DESCR=descr,
    )
    if return_params:
        columns = ["half_light_radius", "sersic_n", "axis_ratio", "position_angle"]
        with np.errstate(divide="ignore", invalid="ignore"):
            mag = -2.5 * np.log10(band_flux[:, ref])
            n_mag = -2.5 * np.log10(maggies[other, ref] * n_scale)
        data.params = pd.DataFrame(
            {
                "magnitude": mag,
                "flux_scale": scale,
                "x_offset": offsets[:, 0],
                "y_offset": offsets[:, 1],
            }
            | dict(zip(columns, shapes.T, strict=True))
            | {"n_neighbours": n_neigh, "reference_band": reference_band}
        )
        data.neighbours = pd.DataFrame(
            {
                "image": owner,
                "spectrum_index": other,
                "magnitude": n_mag,
                "flux_scale": n_scale,
                "x_offset": n_pos[:, 0],
                "y_offset": n_pos[:, 1],
            }
            | dict(zip(columns, n_shapes.T, strict=True))
        )
    return data
