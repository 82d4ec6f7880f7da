"""Opening FITS files with errors that name the file, and small column helpers."""

import contextlib
import errno
import gzip
import io
import os
import warnings
import zlib
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.io.fits.verify import VerifyError, VerifyWarning
from astropy.utils.exceptions import AstropyUserWarning

from ._errors import InputError

try:  # raised when the tiles of a compressed image HDU are damaged
    from astropy.io.fits.hdu.compressed._compression import CfitsioException
except ImportError:  # pragma: no cover - another astropy layout
    CfitsioException = OSError

# What astropy (and gzip underneath it) raise for files that are not FITS or are damaged.
# FileNotFoundError and PermissionError are OSErrors too, but they are re-raised as they are.
_UNREADABLE = (
    OSError,
    EOFError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    zlib.error,
    AstropyUserWarning,
    VerifyWarning,
    VerifyError,
    CfitsioException,
)


@contextlib.contextmanager
def _damage_is_an_error():
    """Turn astropy's warnings about damaged files into exceptions.

    astropy only warns when a file is shorter than its headers promise ("File may have been
    truncated") or an HDU header is cut ("Error validating header", after which it silently
    drops that HDU), then fails later with an unrelated error such as "cannot reshape array".
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*truncated", category=AstropyUserWarning)
        warnings.filterwarnings("error", message="Error validating header", category=VerifyWarning)
        yield


@contextlib.contextmanager
def naming_the_file(path):
    """Turn astropy's errors on a damaged file into an :class:`InputError` naming ``path``.

    Wrap only calls into astropy (headers, columns, table data): on a damaged header it
    raises ValueError, TypeError, KeyError, IndexError, AttributeError and its own errors.
    Never wrap our own parsing: there, such an error is a bug and must show as one, not as
    "not a readable FITS file" (which ``--skip-bad`` would then skip silently).
    """
    try:
        yield
    except InputError:
        raise
    except (ValueError, TypeError) as exc:
        if str(path) in str(exc):
            raise InputError(str(exc)) from exc
        raise InputError(f"{path}: {exc}") from exc
    except (AttributeError, KeyError, IndexError, VerifyError, CfitsioException) as exc:
        raise InputError(f"{path} is not a readable FITS file: {exc}") from exc


def check_file(path):
    """Return ``path`` as a Path, raising FileNotFoundError (with the path) if it is no file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    return path


@contextlib.contextmanager
def open_fits(path):
    """Open a FITS file fully (all headers, no memmap) and close it afterwards.

    Every failure to parse, damage included, becomes ``InputError("<path> is not a readable
    FITS file: ...")``.
    """
    path = check_file(path)
    try:
        with _damage_is_an_error():
            hdul = fits.open(_gunzipped(path), memmap=False, lazy_load_hdus=False)
    except (FileNotFoundError, PermissionError):
        raise
    except _UNREADABLE as exc:
        raise InputError(f"{path} is not a readable FITS file: {_why_not_fits(exc)}") from exc
    try:
        yield hdul
    finally:
        hdul.close()


def _why_not_fits(exc):
    """astropy's reason, without its advice on options that our callers do not offer."""
    text = str(exc)
    if "ignore_missing_simple" in text or "No SIMPLE card" in text:
        return "it does not begin with a FITS header (no SIMPLE card); is it another format?"
    if "Zip files with multiple members" in text:
        return "it is a zip archive of several files (a NumPy .npz?), not FITS"
    return text


def _gunzipped(path):
    """``path``, or for a gzip file its content, decompressed and checked (CRC) in memory.

    astropy reads a gzip stream lazily: a damaged one can send its header parser into an
    endless loop that eats memory (astropy 7, found by fuzzing). Python's gzip checks the
    whole stream first and raises on damage, which ``open_fits`` reports as unreadable.
    """
    with open(path, "rb") as file:
        if file.read(2) != b"\x1f\x8b":
            return path
    with gzip.open(path, "rb") as file:
        return io.BytesIO(file.read())


def read_hdu_data(hdu, path):
    """``hdu.data``, turning astropy's errors on damaged data into an InputError naming the file."""
    try:
        with _damage_is_an_error():
            return hdu.data
    except _UNREADABLE as exc:
        raise InputError(f"{path} is not a readable FITS file: {exc}") from exc


def find_column(names, candidates):
    """The first of ``candidates`` present in ``names``, compared case-insensitively, or None.

    FITS column names are case-insensitive by convention, and SDSS uses lower case in COADD
    and upper case in SPECOBJ.
    """
    lower = {name.lower(): name for name in names}
    for candidate in candidates:
        if candidate.lower() in lower:
            return lower[candidate.lower()]
    return None


def native(array, dtype=np.float64, path=None):
    """A native-byte-order copy of a FITS column in ``dtype``.

    FITS data are big-endian; torch (and some numpy fast paths) refuse non-native byte order.
    A column that cannot be converted (text in a flux column, say) is an error in the file:
    with ``path``, it is raised as an :class:`InputError` that names the file.
    """
    try:
        return np.array(array, dtype=np.dtype(dtype).newbyteorder("="))
    except (ValueError, TypeError) as exc:
        if path is None:
            raise
        raise InputError(f"{path}: a column cannot be read as {np.dtype(dtype)}: {exc}") from exc


def python_scalar(value):
    """A FITS table cell as a plain Python value, with the trailing blanks of strings removed."""
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, np.generic):
        value = value.item()
        return value.strip() if isinstance(value, str) else value
    return value


def expand_paths(paths, patterns, what, check=check_file):
    """Files to read, in order: explicit files as given (each passed to ``check``), and the
    files of each directory that match ``patterns``, sorted.

    Parameters
    ----------
    paths : str, path-like, or sequence of them
        Files and directories.
    patterns : tuple of str
        Glob patterns of the files to take from a directory.
    what : str
        What the files hold, for the error message ("spectra", "FITS images").
    check : callable, default=check_file
        Called on each explicit file; raises if it is unusable.

    Raises
    ------
    InputError
        If no path is given, or a directory holds no matching file.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError("no paths given.")
    files = []
    for path in paths:
        if path.is_dir():
            found = sorted({f for pattern in patterns for f in path.glob(pattern) if f.is_file()})
            if not found:
                raise InputError(f"no {what} found in {path} (looked for {', '.join(patterns)}).")
            files.extend(found)
        else:
            check(path)
            files.append(path)
    return files


def read_each(files, read_one, *, skip_bad=False):
    """``read_one(path)`` for each file, in order; with ``skip_bad``, go on past unreadable ones.

    Parameters
    ----------
    files : list of Path
        Files to read (from :func:`expand_paths`).
    read_one : callable
        Reads one file; raises :class:`InputError` or OSError (naming the file) if it cannot.
        Any other error is a bug and propagates, ``skip_bad`` or not.
    skip_bad : bool, default=False
        False: the first unreadable file stops everything (its error is raised). True: it is
        left out and listed in ``skipped``.

    Returns
    -------
    results : list
        What ``read_one`` returned for each readable file.
    skipped : list of dict
        ``{"file": path, "reason": first line of the error}`` per file left out.

    Raises
    ------
    InputError
        With ``skip_bad``, if no file at all could be read (naming the first).
    """
    results, skipped = [], []
    for path in files:
        try:
            results.append(read_one(path))
        except (InputError, OSError) as exc:
            if not skip_bad or isinstance(exc, FileNotFoundError):
                raise
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            skipped.append({"file": str(path), "reason": reason})
    if skipped and not results:
        raise InputError(
            f"none of the {len(skipped)} files could be read; the first, {skipped[0]['file']}: "
            f"{skipped[0]['reason']}"
        )
    return results, skipped
