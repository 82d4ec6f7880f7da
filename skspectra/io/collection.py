"""Read many spectrum files (SDSS spectra and spectrum tables) into one collection."""

import warnings

import pandas as pd
from sklearn.utils import Bunch

from ._errors import InputError
from ._fits import check_file, expand_paths, find_column, naming_the_file, open_fits, read_each
from .sdss import _sdss_from_hdulist
from .tables import _table_from_hdulist, read_spectra_table

__all__ = ["read_spectra"]

#: File names looked for inside a directory (non-recursive).
SPECTRUM_PATTERNS = ("*.fits", "*.fits.gz", "*.npz")
_SUFFIXES = (".fits", ".fit", ".fits.gz", ".fit.gz", ".npz")
_META_KEYS = (
    "id",
    "z",
    "z_err",
    "zwarning",
    "ra",
    "dec",
    "plate",
    "mjd",
    "fiberid",
    "class",
    "subclass",
    "flux_unit",
)


def read_spectra(paths, *, require_wavelength=True, skip_bad=False):
    """Read spectra from files and directories into one collection, one entry per spectrum.

    Each file is read with the matching reader: an SDSS spec/spec-lite file (HDU 1 has a
    ``loglam`` column) with :func:`read_sdss_spectrum`, any other FITS or ``.npz`` file with
    :func:`read_spectra_table`, which may hold many spectra. Spectra keep their own
    wavelength grids; put them on one grid with
    :func:`~skspectra.preprocessing.common_wavelength_grid` and
    :func:`~skspectra.preprocessing.resample_spectra`, which take these lists as they are.

    Parameters
    ----------
    paths : str, path-like, or sequence of them
        Files, and directories whose ``*.fits``, ``*.fits.gz`` and ``*.npz`` files (not those
        in subdirectories) are read in sorted order.
    require_wavelength : bool, default=True
        Whether every file must give wavelengths. With False, a table without them
        yields ``None`` in ``wavelength``, and the caller decides (for example, that
        spectra of one length share a pixel grid).
    skip_bad : bool, default=False
        Go on past files that cannot be read (damaged, not FITS, no flux...) and list them
        in ``skipped``, instead of stopping at the first.

    Returns
    -------
    spectra : sklearn.utils.Bunch
        With fields, each a list of n_spectra entries in file order (then row order):

        wavelength : list of ndarray of shape (n_wavelengths_i,)
            Pixel centres in Å (observed frame, as stored); None for a table without
            wavelengths when ``require_wavelength=False``.
        flux : list of ndarray of shape (n_wavelengths_i,)
            Flux density, in the file's unit (``meta["flux_unit"]``; SDSS: 1e-17 erg s⁻¹
            cm⁻² Å⁻¹).
        ivar : list of ndarray of shape (n_wavelengths_i,), or None
            None when any file lacks ivar (with a warning if only some do); the bad pixels
            of the others stay in ``mask``.
        mask : list of ndarray of bool, shape (n_wavelengths_i,)
            True marks a bad pixel.
        meta : pandas.DataFrame
            One row per spectrum: ``file``, ``row`` (index within the file), ``id``, ``z``,
            ``z_err``, ``zwarning``, ``ra``, ``dec``, ``plate``, ``mjd``, ``fiberid``,
            ``class``, ``subclass``, ``flux_unit`` (None/NaN where unknown).
        skipped : list of dict
            ``{"file", "reason"}`` of each file left out with ``skip_bad`` (else empty).

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    InputError
        If no paths are given, a directory holds no spectrum files, a file has an unknown
        suffix or no wavelengths (with ``require_wavelength``), a reader rejects a file, or
        the files state different flux units (:class:`InputError`, naming a file of each).

    Examples
    --------
    A command-line tool would do::

        spectra = read_spectra(["spectra_dir/", "more.npz"])
        grid = common_wavelength_grid(spectra.wavelength)
        flux, ivar = resample_spectra(spectra.wavelength, spectra.flux, spectra.ivar,
                                      mask=spectra.mask, new_wavelength=grid)
    """
    files = expand_paths(paths, SPECTRUM_PATTERNS, "spectra", _check_spectrum_file)
    per_file, skipped = read_each(
        files, lambda path: _records(path, require_wavelength), skip_bad=skip_bad
    )
    records = [record for file_records in per_file for record in file_records]
    has_ivar = [record["ivar"] is not None for record in records]
    ivar = [record["ivar"] for record in records] if all(has_ivar) else None
    if any(has_ivar) and not all(has_ivar):
        lacking = sorted({record["meta"]["file"] for record in records if record["ivar"] is None})
        warnings.warn(
            f"ivar dropped for all spectra: {len(lacking)} file(s) have none, e.g. {lacking[0]}. "
            "Bad pixels remain flagged in mask.",
            UserWarning,
            stacklevel=2,
        )
    _check_one_flux_unit(records)
    return Bunch(
        wavelength=[record["wavelength"] for record in records],
        flux=[record["flux"] for record in records],
        ivar=ivar,
        mask=[record["mask"] for record in records],
        meta=pd.DataFrame(
            [record["meta"] for record in records], columns=["file", "row", *_META_KEYS]
        ),
        skipped=skipped,
    )


def _check_one_flux_unit(records):
    """Spectra in different flux units cannot share one array: refuse them, naming a file of
    each unit. Units are compared as astropy units, so spellings of one unit agree; files that
    state no unit (``.npz``, FITS without TUNIT) are not compared."""
    from astropy import units as u

    first_file, seen = {}, []
    for record in records:
        unit = record["meta"]["flux_unit"]
        if unit is None or unit in first_file:
            continue
        parsed = u.Unit(unit, parse_strict="silent")
        if any(parsed == other for other in seen):
            continue
        seen.append(parsed)
        first_file[unit] = record["meta"]["file"]
    if len(first_file) > 1:
        listed = "; ".join(f"{unit!r} in {file}" for unit, file in first_file.items())
        raise InputError(
            f"the files give flux in {len(first_file)} different units ({listed}); convert "
            "them to one unit (e.g. with astropy.units) before reading them together, or "
            "read each unit separately."
        )


def _check_spectrum_file(path):
    check_file(path)
    if not path.name.lower().endswith(_SUFFIXES):
        raise InputError(f"{path}: unsupported file type; expected one of {', '.join(_SUFFIXES)}.")


def _records(path, require_wavelength=True):
    """One dict per spectrum in ``path``: wavelength, flux, ivar, mask, meta."""
    if path.name.lower().endswith(".npz"):
        return _table_records(read_spectra_table(path), path, require_wavelength)
    with open_fits(path) as hdul:
        with naming_the_file(path):
            is_sdss = _is_sdss(hdul)
        if is_sdss:
            spec = _sdss_from_hdulist(hdul, path)
            return [_sdss_record(spec, path)]
        return _table_records(_table_from_hdulist(hdul, path), path, require_wavelength)


def _is_sdss(hdul):
    """SDSS spec/spec-lite files have a COADD table with a ``loglam`` column in HDU 1."""
    if "COADD" in hdul:
        return True
    return (
        len(hdul) > 1
        and hasattr(hdul[1], "columns")
        and find_column(hdul[1].columns.names, ("loglam",)) is not None
    )


def _sdss_record(spec, path):
    meta = {key: spec.meta.get(key) for key in _META_KEYS}
    if None not in (spec.meta["plate"], spec.meta["mjd"], spec.meta["fiberid"]):
        meta["id"] = f"{spec.meta['plate']}-{spec.meta['mjd']}-{spec.meta['fiberid']}"
    meta.update(file=str(path), row=0, flux_unit=spec.flux_unit)
    return {
        "wavelength": spec.wavelength,
        "flux": spec.flux,
        "ivar": spec.ivar,
        "mask": spec.mask,
        "meta": meta,
    }


def _table_records(table, path, require_wavelength=True):
    if table.wavelength is None and require_wavelength:
        raise InputError(
            f"{path} has no wavelength array; read_spectra needs one per file to "
            "put spectra on a common grid."
        )
    records = []
    for i in range(table.flux.shape[0]):
        meta = dict.fromkeys(_META_KEYS)
        meta.update(file=str(path), row=i, flux_unit=table.flux_unit)
        if table.ids is not None:
            meta["id"] = table.ids[i].item()
        if table.z is not None:
            meta["z"] = float(table.z[i])
        wavelength = table.wavelength
        if wavelength is not None and wavelength.ndim == 2:
            wavelength = wavelength[i]
        records.append(
            {
                "wavelength": wavelength,
                "flux": table.flux[i],
                "ivar": None if table.ivar is None else table.ivar[i],
                "mask": table.mask[i],
                "meta": meta,
            }
        )
    return records
