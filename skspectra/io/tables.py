"""Reader for many spectra stored as arrays: a FITS binary table or a NumPy ``.npz`` archive."""

import zipfile

import numpy as np
from sklearn.utils import Bunch

from ._errors import InputError
from ._fits import check_file, find_column, naming_the_file, native, open_fits, read_hdu_data

__all__ = ["read_spectra_table"]

# Bunch field -> accepted names (case-insensitive), first present wins.
_FIELDS = {
    "flux": ("flux",),
    "ivar": ("ivar",),
    "mask": ("mask",),
    "wavelength": ("wavelength", "wave"),
    "ids": ("ids", "id"),
    "z": ("z", "redshift"),
}


def read_spectra_table(path):
    """Read spectra stored as arrays in a FITS binary table or a ``.npz`` archive.

    Layouts (names are case-insensitive):

    - ``.npz``: ``flux`` of shape (n_spectra, n_wavelengths) or (n_wavelengths,), and
      optionally ``ivar`` and ``mask`` (same shape), ``wavelength`` (or ``wave``) of shape
      (n_wavelengths,) or (n_spectra, n_wavelengths), ``ids`` (or ``id``) and ``z``
      (or ``redshift``) of shape (n_spectra,).
    - FITS: the first binary table HDU with a ``flux`` column. Either one row per spectrum,
      with vector columns ``flux``, ``ivar``, ``mask``, ``wavelength`` and scalar columns
      ``ids``/``id``, ``z``; or one row per pixel (scalar ``flux``, ``wavelength``, ...
      columns), read as a single spectrum.

    Parameters
    ----------
    path : str or path-like
        A ``.npz``, ``.fits``, ``.fit`` or ``.fits.gz`` file.

    Returns
    -------
    spectra : sklearn.utils.Bunch
        With fields

        wavelength : ndarray of shape (n_wavelengths,) or (n_spectra, n_wavelengths), or None
            Pixel centres in Å, float64; 1-D when shared by all spectra (also when a FITS
            column repeats the same vector in every row). None if the file has none.
        flux : ndarray of shape (n_spectra, n_wavelengths)
            Flux density, float64, in ``flux_unit``.
        ivar : ndarray of shape (n_spectra, n_wavelengths) or None
            Inverse variance of ``flux``.
        mask : ndarray of bool, shape (n_spectra, n_wavelengths)
            True marks a bad pixel: the file's ``mask`` if any, or ``ivar == 0``, or
            non-finite flux or ivar.
        ids : ndarray of shape (n_spectra,) or None
            Identifiers from the file's ``ids`` (or ``id``) column, if it has one.
        z : ndarray of shape (n_spectra,) or None
            Redshifts, float64.
        flux_unit : str or None
            The ``flux`` column's TUNIT (FITS only), else None: the unit is whatever the
            writer used.
        meta : dict
            ``file``: the path read; ``format``: ``"npz"`` or ``"fits"``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    InputError
        If the file cannot be read, has no ``flux``, or the arrays disagree in shape, or
        ``wavelength`` has NaN/infinite values or does not increase strictly, or ``ivar`` is
        negative. The message names the file.

    See Also
    --------
    read_sdss_spectrum : one SDSS spec/spec-lite file.
    read_spectra : many files at once.
    """
    path = check_file(path)
    if path.name.lower().endswith(".npz"):
        return _finish(_arrays_from_npz(path), None, path, "npz")
    with open_fits(path) as hdul:
        return _table_from_hdulist(hdul, path)


def _table_from_hdulist(hdul, path):
    """:func:`read_spectra_table` for an already opened FITS file."""
    arrays, flux_unit = _arrays_from_fits(hdul, path)
    return _finish(arrays, flux_unit, path, "fits")


def _finish(arrays, flux_unit, path, fmt):
    spectra = _validate(arrays, path)
    spectra.flux_unit = flux_unit
    spectra.meta = {"file": str(path), "format": fmt}
    return spectra


def _arrays_from_npz(path):
    try:
        with np.load(path, allow_pickle=False) as archive:
            found = {key: find_column(archive.files, names) for key, names in _FIELDS.items()}
            return {key: None if name is None else archive[name] for key, name in found.items()}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path} is not a readable .npz archive: {exc}") from exc


def _arrays_from_fits(hdul, path):
    with naming_the_file(path):  # astropy's calls only: errors on a damaged file name it
        found = _fits_flux_table(hdul, path)
    if found is None:
        raise InputError(f"{path} has no binary table with a 'flux' column.")
    arrays, flux_unit = found
    if arrays["flux"].ndim == 1:  # one row per pixel: a single spectrum
        arrays = {key: _per_pixel_to_row(key, value) for key, value in arrays.items()}
    return arrays, flux_unit


def _fits_flux_table(hdul, path):
    """The columns of the first binary table with a flux column, and its unit; or None."""
    for hdu in hdul[1:]:
        if not hasattr(hdu, "columns"):
            continue
        names = hdu.columns.names
        if find_column(names, _FIELDS["flux"]) is None:
            continue
        data = read_hdu_data(hdu, path)
        found = {key: find_column(names, candidates) for key, candidates in _FIELDS.items()}
        arrays = {
            key: None if name is None else np.asarray(data[name]) for key, name in found.items()
        }
        return arrays, hdu.columns[found["flux"]].unit
    return None


def _per_pixel_to_row(key, value):
    """In the one-row-per-pixel layout, pixel columns become one spectrum (a row)."""
    if value is None or key == "wavelength":
        return value
    if key in ("ids", "z"):
        return value[:1]
    return value[None, :]


def _validate(arrays, path):
    flux = arrays["flux"]
    if flux is None:
        raise InputError(f"{path} holds no 'flux' array.")
    flux = native(flux, path=path)
    if flux.ndim == 1:
        flux = flux[None, :]
    if flux.ndim != 2 or flux.shape[1] == 0:
        raise InputError(
            f"{path}: flux must have shape (n_spectra, n_wavelengths), got {flux.shape}."
        )
    n, m = flux.shape
    if n == 0:
        raise InputError(f"{path} holds no spectra: flux has shape {flux.shape}.")

    ivar = _same_shape(arrays["ivar"], flux.shape, "ivar", path, np.float64)
    if ivar is not None and np.any(ivar < 0):
        raise InputError(f"{path}: ivar has negative values; inverse variance must be >= 0.")
    mask = _same_shape(arrays["mask"], flux.shape, "mask", path, bool)
    bad = ~np.isfinite(flux) if mask is None else mask | ~np.isfinite(flux)
    if ivar is not None:
        bad |= ~np.isfinite(ivar) | (ivar == 0)

    wavelength = _wavelength(arrays["wavelength"], n, m, path)
    ids = _per_spectrum(arrays["ids"], n, "ids", path)
    z = _per_spectrum(arrays["z"], n, "z", path)
    if z is not None:
        z = native(z, path=path)
    return Bunch(wavelength=wavelength, flux=flux, ivar=ivar, mask=bad, ids=ids, z=z)


def _same_shape(x, shape, name, path, dtype):
    if x is None:
        return None
    x = native(x, dtype, path)
    if x.ndim == 1 and shape[0] == 1:
        x = x[None, :]
    if x.shape != shape:
        raise InputError(f"{path}: {name} has shape {x.shape} but flux has shape {shape}.")
    return x


def _wavelength(w, n, m, path):
    if w is None:
        return None
    w = native(w, path=path)
    if w.ndim == 2 and w.shape == (n, m) and np.all(w == w[:1]):
        w = w[0]  # a FITS column repeating one grid in every row
    if w.shape not in ((m,), (n, m)):
        raise InputError(
            f"{path}: wavelength has shape {w.shape}; expected ({m},) or ({n}, {m}) to match flux."
        )
    if not np.all(np.isfinite(w)):
        raise InputError(f"{path}: wavelength has NaN or infinite values.")
    if m > 1 and np.any(np.diff(w, axis=-1) <= 0):
        raise InputError(f"{path}: wavelength must be strictly increasing.")
    return w


def _per_spectrum(x, n, name, path):
    if x is None:
        return None
    x = np.asarray(x)
    if x.ndim == 0:
        x = x[None]
    if x.shape != (n,):
        raise InputError(f"{path}: {name} has shape {x.shape}; expected ({n},), one per spectrum.")
    if x.dtype.byteorder not in ("=", "|"):
        x = x.astype(x.dtype.newbyteorder("="))
    return x
