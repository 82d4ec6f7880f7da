"""Reader for SDSS ``spec`` / ``spec-lite`` coadded spectrum files (DR8 and later)."""

import numpy as np
from astropy.table import Table
from sklearn.utils import Bunch

from ._errors import InputError
from ._fits import find_column, naming_the_file, native, open_fits, python_scalar, read_hdu_data

__all__ = ["SDSS_FLUX_UNIT", "read_sdss_spectrum"]

#: Flux density unit of SDSS spectra, as an astropy unit string.
SDSS_FLUX_UNIT = "1e-17 erg / (Angstrom cm2 s)"

# Metadata key -> candidate columns of the SPECOBJ HDU, first present wins.
_META_COLUMNS = {
    "z": ("Z",),
    "z_err": ("Z_ERR",),
    "zwarning": ("ZWARNING",),
    "ra": ("PLUG_RA", "RA"),
    "dec": ("PLUG_DEC", "DEC"),
    "plate": ("PLATE",),
    "mjd": ("MJD",),
    "fiberid": ("FIBERID",),
    "class": ("CLASS",),
    "subclass": ("SUBCLASS",),
}
_EXTRA_COLUMNS = ("and_mask", "or_mask", "sky", "model", "wdisp")


def read_sdss_spectrum(path):
    """Read one SDSS ``spec`` or ``spec-lite`` FITS file.

    The layout is that of SDSS DR8 and later (SDSS-I/II reprocessed, BOSS, eBOSS): HDU 1
    ``COADD`` holds the coadded spectrum as table columns ``loglam``, ``flux``, ``ivar``,
    ``and_mask`` ...; HDU 2 ``SPECOBJ`` holds one row of pipeline results (redshift,
    classification, plate/MJD/fiber, position); HDU 3 ``SPZLINE`` holds the pipeline's
    Gaussian fits of emission lines.

    Parameters
    ----------
    path : str or path-like
        The file (``.fits`` or ``.fits.gz``).

    Returns
    -------
    spectrum : sklearn.utils.Bunch
        With fields

        wavelength : ndarray of shape (n_wavelengths,)
            Pixel centres in Å, vacuum, ``10**loglam`` (float64; see Notes).
        flux : ndarray of shape (n_wavelengths,)
            Flux density in 1e-17 erg s⁻¹ cm⁻² Å⁻¹ (``flux_unit``), float64.
        ivar : ndarray of shape (n_wavelengths,)
            Inverse variance of ``flux``, in the inverse square of that unit.
        mask : ndarray of bool, shape (n_wavelengths,)
            True marks a bad pixel: ``and_mask != 0`` (a problem in every exposure),
            ``ivar == 0`` or non-finite flux.
        flux_unit : str
            ``SDSS_FLUX_UNIT``, the astropy spelling of the file's BUNIT.
        meta : dict
            ``z``, ``z_err``, ``zwarning``, ``ra``, ``dec`` (deg, fibre position), ``plate``,
            ``mjd``, ``fiberid``, ``class``, ``subclass`` from SPECOBJ (None where the file
            lacks them), and ``file``, the path read.
        spzline : astropy.table.Table or None
            The SPZLINE table, None if the file has none.
        and_mask, or_mask, sky, model, wdisp : ndarray of shape (n_wavelengths,) or None
            The other COADD columns where present: mask bits set in all / any exposure, the
            subtracted sky, the pipeline's best-fit model, and the dispersion (in pixels).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    InputError
        If the file is not a readable FITS file, or not an SDSS spectrum (no ``loglam`` and
        ``flux`` columns in HDU 1); the message names the file.

    See Also
    --------
    read_spectra_table : spectra stored as a FITS table or .npz archive.
    read_spectra : many files, SDSS or tables, at once.

    Notes
    -----
    SDSS stores ``loglam`` as float32, which rounds each wavelength by up to ~1e-7 dex
    (~0.002 Å at 9000 Å) and makes the pixel spacing jitter by ±0.1 %. The pipeline's grid is
    exactly ``COEFF0 + COEFF1 * k`` (primary header); when the file gives those keywords and
    every pixel lies within 1 % of a pixel of that grid, the reader returns the exact grid.
    Otherwise it returns ``10**loglam`` as stored.

    References
    ----------
    .. [1] SDSS data model, ``spec`` files:
       https://data.sdss.org/datamodel/files/BOSS_SPECTRO_REDUX/RUN2D/spectra/PLATE4/spec.html
    .. [2] specutils, ``specutils/io/default_loaders/sdss.py``.

    Examples
    --------
    >>> import importlib.util, pathlib
    >>> from skspectra.io import read_sdss_spectrum
    >>> ppxf_dir = pathlib.Path(importlib.util.find_spec("ppxf").origin).parent
    >>> spec = read_sdss_spectrum(ppxf_dir / "spectra" / "NGC3522_SDSS_DR18.fits")
    >>> spec.meta["class"], round(spec.meta["z"], 4)
    ('GALAXY', 0.004)
    """
    with open_fits(path) as hdul:
        return _sdss_from_hdulist(hdul, path)


def _sdss_from_hdulist(hdul, path):
    """Build the Bunch of :func:`read_sdss_spectrum` from an open HDUList.

    Only the calls into astropy are wrapped (astropy's errors on a damaged file then name
    it); an error in our own parsing below propagates as the bug it is.
    """
    with naming_the_file(path):
        coadd = _coadd_hdu(hdul, path)
        data = read_hdu_data(coadd, path)
        names = list(data.columns.names)
        table = {name: np.asarray(data[name]) for name in names}
        header = {key: hdul[0].header.get(key) for key in ("COEFF0", "COEFF1", "BUNIT")}
        meta = _specobj_meta(hdul, path)
        spzline = _spzline_table(hdul, path)
    return _sdss_bunch(table, header, meta, spzline, path)


def _sdss_bunch(data, header, meta, spzline, path):
    """The Bunch from the COADD columns (name -> array) and the primary header's keywords."""
    names = list(data)
    columns = {key: find_column(names, (key,)) for key in ("loglam", "flux", "ivar")}
    missing = [key for key in ("loglam", "flux") if columns[key] is None]
    if missing:
        raise InputError(
            f"{path} is not an SDSS spectrum: HDU 1 has no {' or '.join(missing)} column "
            f"(columns: {', '.join(names)})."
        )
    loglam = native(data[columns["loglam"]], path=path)
    flux = native(data[columns["flux"]], path=path)
    ivar = None if columns["ivar"] is None else native(data[columns["ivar"]], path=path)
    extras = {}
    for key in _EXTRA_COLUMNS:
        name = find_column(names, (key,))
        dtype = np.int64 if key.endswith("mask") else np.float64
        extras[key] = None if name is None else native(data[name], dtype, path)

    wavelength = _wavelength_from_loglam(loglam, header, path)
    return Bunch(
        wavelength=wavelength,
        flux=flux,
        ivar=ivar,
        mask=_bad_pixels(flux, ivar, extras["and_mask"]),
        flux_unit=_flux_unit(header),
        meta=meta,
        spzline=spzline,
        **extras,
    )


def _coadd_hdu(hdul, path):
    """HDU 1 (EXTNAME ``COADD``) of spec/spec-lite files.

    SDSS-I/II ``spSpec`` files (DR7 and earlier) keep the spectrum as an image in the primary
    HDU instead; they are recognised and refused with a message that says so.
    """
    if "COADD" in hdul:
        return hdul["COADD"]
    primary = hdul[0]
    if primary.header.get("TELESCOP") == "SDSS 2.5-M" and primary.header.get("NAXIS") == 2:
        raise InputError(
            f"{path} looks like an SDSS-I/II spSpec file (spectrum in the primary image); "
            "only the DR8+ spec/spec-lite layout (COADD table in HDU 1) is supported."
        )
    if len(hdul) < 2 or not hasattr(hdul[1], "columns"):
        raise InputError(f"{path} is not an SDSS spectrum: it has no binary table in HDU 1.")
    return hdul[1]


def _wavelength_from_loglam(loglam, header, path):
    """Vacuum wavelength in Å from the COADD ``loglam`` column (log10 Å).

    ``loglam`` is float32 in SDSS files, so 10**loglam jitters around the pipeline's exact
    log-linear grid ``COEFF0 + COEFF1 * k``. Snap to that grid when the header has it and the
    stored values agree with it to 1 % of a pixel; keep the stored values otherwise.
    """
    if loglam.ndim != 1 or loglam.size < 2 or not np.all(np.isfinite(loglam)):
        raise InputError(f"{path}: loglam must be a finite 1-D column with >= 2 pixels.")
    coeff0, coeff1 = header.get("COEFF0"), header.get("COEFF1")
    if isinstance(coeff0, float) and isinstance(coeff1, float) and coeff1 > 0:
        k = np.round((loglam - coeff0) / coeff1)
        if np.max(np.abs(loglam - (coeff0 + coeff1 * k))) < 0.01 * coeff1:
            loglam = coeff0 + coeff1 * k
    wavelength = 10.0**loglam
    if np.any(np.diff(wavelength) <= 0):
        raise InputError(f"{path}: loglam is not strictly increasing.")
    return wavelength


def _bad_pixels(flux, ivar, and_mask):
    """True where a pixel is unusable.

    ``and_mask`` bits are set when a problem hit the pixel in every exposure (``or_mask``: in
    any, too strict to use). ``ivar == 0`` is how the pipeline marks pixels with no data.
    """
    bad = ~np.isfinite(flux)
    if ivar is not None:
        bad |= ~np.isfinite(ivar) | (ivar <= 0)
    if and_mask is not None:
        bad |= and_mask != 0
    return bad


def _flux_unit(header):
    """The flux unit as astropy spells it.

    SDSS writes ``BUNIT = '1E-17 erg/cm^2/s/Ang'``; astropy does not parse ``Ang``. Every SDSS
    spec file uses this unit, so any BUNIT that names 1e-17 erg (or none) maps to it.
    """
    bunit = str(header.get("BUNIT") or "1E-17 erg/cm^2/s/Ang")
    if "1e-17 erg" in bunit.lower():
        return SDSS_FLUX_UNIT
    return bunit.replace("Ang", "Angstrom") if "strom" not in bunit else bunit


def _specobj_meta(hdul, path):
    """Pipeline results from HDU 2 (``SPECOBJ``; BOSS files name it ``SPALL``).

    Missing HDU or columns give None: not every release writes every column.
    """
    meta = dict.fromkeys(_META_COLUMNS)
    for name in ("SPECOBJ", "SPALL"):
        if name in hdul:
            data = read_hdu_data(hdul[name], path)
            if data is not None and len(data) > 0:
                row = data[0]
                for key, candidates in _META_COLUMNS.items():
                    column = find_column(data.columns.names, candidates)
                    if column is not None:
                        meta[key] = python_scalar(row[column])
            break
    meta["file"] = str(path)
    return meta


def _spzline_table(hdul, path):
    """The SPZLINE HDU (pipeline Gaussian fits of emission lines) as a Table, or None."""
    if "SPZLINE" not in hdul:
        return None
    read_hdu_data(hdul["SPZLINE"], path)  # surface damaged data as a ValueError
    return Table.read(hdul["SPZLINE"])
