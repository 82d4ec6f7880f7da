"""Read spectra from many files in chunks of rows, so that memory stays bounded.

:func:`iter_spectrum_chunks` walks FITS files, directories, ``.npz`` and ``.npy`` files and
HDF5 datasets and yields at most ``chunk_size`` spectra at a time:

- ``.npy``: memory-mapped;
- ``.npz``: the ``flux`` (and ``ivar``) members are streamed row by row from the archive,
  compressed or not; small members (``wavelength``, ``ids``, ``z``) are read whole;
- HDF5 (``file.h5`` for its ``/flux`` dataset, or ``file.h5:/group/flux``): rows are read with
  h5py slicing; ``ivar``, ``wavelength``, ``ids`` and ``z`` are looked for beside the flux;
- FITS files (SDSS spec/spec-lite, FITS tables): read with
  :func:`~skspectra.io.read_spectra`, ``chunk_size`` files at a time (a FITS table file is
  read whole).
"""

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._errors import InputError
from ._fits import check_file, expand_paths, find_column
from .tables import _FIELDS

__all__ = ["SpectrumChunk", "iter_spectrum_chunks", "split_hdf5_path"]

_HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf")
#: Files taken from a directory, besides the FITS and .npz ones of read_spectra.
DIRECTORY_PATTERNS = ("*.fits", "*.fits.gz", "*.npz", "*.npy", "*.h5", "*.hdf5")


@dataclass
class SpectrumChunk:
    """Up to ``chunk_size`` spectra from one source.

    ``flux`` and ``ivar`` are arrays of shape (n, n_pixels) (or lists of 1-D arrays, for
    FITS files whose spectra differ in length); ``wavelength`` is None, one shared vector, an
    array of one row per spectrum, or a list; ``mask`` (True = bad pixel), ``z`` and ``ids``
    may be None. ``file`` and ``row`` say where each spectrum came from.
    """

    flux: object
    ivar: object
    wavelength: object
    mask: object
    z: object
    ids: object
    file: np.ndarray
    row: np.ndarray

    def __len__(self):
        return len(self.file)


def split_hdf5_path(text):
    """``"survey.h5:/spectra/flux"`` → (Path("survey.h5"), "/spectra/flux"); a plain HDF5
    file name gives the dataset ``"/flux"``; anything else gives (Path(text), None)."""
    text = str(text)
    for suffix in _HDF5_SUFFIXES:
        head, sep, dataset = text.partition(suffix + ":")
        if sep and dataset:
            return Path(head + suffix), dataset
    if text.lower().endswith(_HDF5_SUFFIXES):
        return Path(text), "/flux"
    return Path(text), None


def iter_spectrum_chunks(paths, chunk_size):
    """Yield :class:`SpectrumChunk` objects of at most ``chunk_size`` spectra each.

    Parameters
    ----------
    paths : sequence of str or path-like
        Files, directories (their ``*.fits``, ``*.fits.gz``, ``*.npz``, ``*.npy``, ``*.h5``,
        ``*.hdf5`` files, sorted) and HDF5 datasets written ``file.h5:/path/to/flux``.
    chunk_size : int
        Most spectra per chunk (FITS: most files per chunk).

    Yields
    ------
    chunk : SpectrumChunk

    Raises
    ------
    InputError
        If a file cannot be read, lacks a flux array, or its arrays disagree in shape.
    FileNotFoundError
        If a path does not exist.
    """
    fits_group = []
    for path, dataset in _expand(paths):
        if dataset is not None:
            yield from _flush(fits_group)
            fits_group = []
            yield from _hdf5_chunks(path, dataset, chunk_size)
        elif path.name.lower().endswith((".npz", ".npy")):
            yield from _flush(fits_group)
            fits_group = []
            yield from _npz_chunks(path, chunk_size)
        else:
            fits_group.append(path)
            if len(fits_group) >= chunk_size:
                yield from _flush(fits_group)
                fits_group = []
    yield from _flush(fits_group)


def _expand(paths):
    """(path, hdf5 dataset or None) for every file to read, in order."""
    out = []
    for text in paths:
        path, dataset = split_hdf5_path(text)
        if dataset is not None:
            check_file(path)
            out.append((path, dataset))
            continue
        for f in expand_paths([path], DIRECTORY_PATTERNS, "spectra"):
            out.append(split_hdf5_path(f))
    return out


def _flush(files):
    """FITS files, read together with read_spectra (one collection of 1-D spectra)."""
    if not files:
        return
    from .collection import read_spectra

    spectra = read_spectra(files, require_wavelength=False)
    meta = spectra.meta
    wavelength = spectra.wavelength
    if all(w is None for w in wavelength):
        wavelength = None
    elif any(w is None for w in wavelength):
        raise InputError(
            "some files give wavelengths and others do not; add a 'wavelength' array to every file"
        )
    ids = np.array(
        [
            str(i) if i is not None and i == i else f"{Path(f).name}#{r}"
            for i, f, r in zip(meta["id"], meta["file"], meta["row"], strict=True)
        ],
        dtype=object,
    )
    z = meta["z"].to_numpy(dtype=float)
    yield SpectrumChunk(
        flux=spectra.flux,
        ivar=spectra.ivar,
        wavelength=wavelength,
        mask=spectra.mask,
        z=z,
        ids=ids,
        file=meta["file"].astype(str).to_numpy(dtype=object),
        row=meta["row"].to_numpy(dtype=np.int64),
    )


# -- array sources ------------------------------------------------------------------------------
def _row_chunks(path, flux, ivar, small, chunk_size):
    """Chunks of an array source: ``flux``/``ivar`` read rows ``[a, b)`` via ``read(a, b)``."""
    n = flux.shape[0]
    wavelength = small.get("wavelength")
    name = str(path)
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        w = (
            wavelength[start:stop]
            if wavelength is not None and wavelength.ndim == 2
            else wavelength
        )
        yield SpectrumChunk(
            flux=flux.read(start, stop),
            ivar=None if ivar is None else ivar.read(start, stop),
            wavelength=w,
            mask=None,
            z=None if small.get("z") is None else small["z"][start:stop],
            ids=None if small.get("ids") is None else small["ids"][start:stop],
            file=np.full(stop - start, name, dtype=object),
            row=np.arange(start, stop, dtype=np.int64),
        )


class _Sliced:
    """Rows of a memmap or an h5py dataset, read on demand (a memmap's pages are released
    once copied, so that the mapped file does not pile up in resident memory)."""

    def __init__(self, array):
        from ..scoring import _PageReleaser

        self.array = array
        self.shape = array.shape
        self.pages = _PageReleaser(array)

    def read(self, start, stop):
        rows = np.array(self.array[start:stop])
        self.pages.release(self.array, slice(start, stop))
        return rows


class _NpyStream:
    """Rows of a C-ordered ``.npy`` member of a zip archive, read in order from its stream."""

    def __init__(self, archive, member, path):
        self.stream = archive.open(member)
        version = np.lib.format.read_magic(self.stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(self.stream)
        else:  # (2, 0) or (3, 0): same header but for the length field and its encoding
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(self.stream)
        if dtype.hasobject:
            raise InputError(f"{path}: {member} holds Python objects; refusing to unpickle it.")
        self.shape, self.dtype, self.fortran = shape, dtype, fortran
        self.row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
        self.position = 0
        self.path = path

    def read(self, start, stop):
        assert start == self.position, "rows are read in order"
        data = self.stream.read((stop - start) * self.row_bytes)
        if len(data) != (stop - start) * self.row_bytes:
            raise InputError(f"{self.path} is truncated: rows {start}-{stop - 1} are missing.")
        self.position = stop
        return np.frombuffer(data, dtype=self.dtype).reshape(stop - start, *self.shape[1:])


def _npz_chunks(path, chunk_size):
    check_file(path)
    if path.name.lower().endswith(".npy"):
        try:
            flux = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputError(f"{path} is not a readable .npy array: {exc}") from exc
        _check_flux(flux, path)
        yield from _row_chunks(path, _Sliced(flux), None, {}, chunk_size)
        return
    try:
        with zipfile.ZipFile(path) as archive, np.load(path, allow_pickle=False) as npz:
            names = {find_column(npz.files, c): k for k, c in _FIELDS.items()}
            names.pop(None, None)
            found = {k: n for n, k in names.items()}
            if "flux" not in found:
                raise InputError(f"{path} has no 'flux' array (it has {', '.join(npz.files)}).")
            flux, ivar = (
                _stream(archive, npz, found[k], path) if k in found else None
                for k in ("flux", "ivar")
            )
            small = {k: npz[found[k]] for k in ("wavelength", "ids", "z") if k in found}
            _check_arrays(flux, ivar, small, path)
            yield from _row_chunks(path, flux, ivar, small, chunk_size)
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"{path} is not a readable .npz archive: {exc}") from exc


def _stream(archive, npz, name, path):
    member = name + ".npy"
    stream = _NpyStream(archive, member, path)
    if stream.fortran:  # rare: np.savez of a Fortran-ordered array; read it whole
        return _Sliced(npz[name])
    return stream


def _hdf5_chunks(path, dataset, chunk_size):
    try:
        import h5py
    except ImportError as exc:
        raise ImportError("reading HDF5 needs h5py: pip install h5py") from exc
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"{path} is not a readable HDF5 file: {exc}") from exc
    with f:
        if dataset not in f or not isinstance(f[dataset], h5py.Dataset):
            raise InputError(
                f"{path} has no dataset {dataset!r}; name it as FILE.h5:/path/to/flux "
                f"(top-level entries: {', '.join(f.keys())})."
            )
        group = f[dataset].parent
        names = {k: find_column(list(group.keys()), c) for k, c in _FIELDS.items() if k != "flux"}
        flux = _Sliced(f[dataset])
        ivar = _Sliced(group[names["ivar"]]) if names["ivar"] else None
        small = {k: np.asarray(group[names[k]]) for k in ("wavelength", "ids", "z") if names[k]}
        if "ids" in small and small["ids"].dtype.kind == "S":
            small["ids"] = small["ids"].astype(str)
        _check_arrays(flux, ivar, small, f"{path}:{dataset}")
        yield from _row_chunks(f"{path}:{dataset}", flux, ivar, small, chunk_size)


def _check_flux(flux, where):
    if len(flux.shape) < 2 or flux.shape[0] == 0:
        raise InputError(
            f"{where}: flux has shape {tuple(flux.shape)}; expected (n_spectra, n_pixels)."
        )


def _check_arrays(flux, ivar, small, where):
    _check_flux(flux, where)
    n = flux.shape[0]
    if ivar is not None and tuple(ivar.shape) != tuple(flux.shape):
        raise InputError(
            f"{where}: ivar has shape {tuple(ivar.shape)} but flux has {tuple(flux.shape)}."
        )
    w = small.get("wavelength")
    if w is not None and not (
        (w.ndim == 1 and w.shape[0] == flux.shape[-1]) or tuple(w.shape) == tuple(flux.shape)
    ):
        raise InputError(
            f"{where}: wavelength has shape {w.shape}; expected ({flux.shape[-1]},) or the "
            "shape of flux."
        )
    for key in ("ids", "z"):
        if key in small and small[key].shape != (n,):
            raise InputError(f"{where}: {key} has shape {small[key].shape}; expected ({n},).")
