"""Fuzzed files for every reader.

Files are written here with numpy and astropy from fuzzed arrays (any shape, dtype, NaN/inf
blocks, missing or extra columns, odd headers), or are valid files cut short, overwritten
byte by byte, or padded with garbage. A reader either returns a consistent result or raises a
ValueError that names the file (``_fuzz.py`` has the rule).
"""

import functools
import gzip
import io
import shutil
import uuid

import numpy as np
import pytest
from astropy.io import fits
from hypothesis import event, given, reject
from hypothesis import strategies as st

from skspectra.io import read_fits_images, read_sdss_spectrum, read_spectra, read_spectra_table

from _fuzz import REJECTED, arrays, call, fuzz


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-readers")


def fresh(workdir, name):
    """A new path ``name`` in its own folder (files of earlier examples never interfere)."""
    folder = workdir / uuid.uuid4().hex[:12]
    folder.mkdir()
    return folder / name


def outcome(result):
    event("rejected" if result is REJECTED else "result")
    return result


# -- checks of what the readers return --------------------------------------------------------


def check_spectrum_arrays(wavelength, flux, ivar, mask):
    """One spectrum (1-D arrays) or a table (2-D) as the readers document them."""
    assert flux.dtype == np.float64 and flux.shape[-1] >= 1
    assert mask.dtype == bool and mask.shape == flux.shape
    assert np.all(mask[~np.isfinite(flux)]), "non-finite flux left unmasked"
    if ivar is not None:
        assert ivar.shape == flux.shape and ivar.dtype == np.float64
        assert not np.any(ivar < 0), "negative ivar returned"
        assert np.all(mask[~np.isfinite(ivar) | (ivar == 0)]), "ivar == 0 or NaN left unmasked"
    if wavelength is not None:
        assert wavelength.shape in ((flux.shape[-1],), flux.shape)
        assert np.all(np.isfinite(wavelength))
        assert np.all(np.diff(wavelength, axis=-1) > 0), "wavelength not increasing"


def check_table(table):
    n = table.flux.shape[0]
    assert table.flux.ndim == 2
    check_spectrum_arrays(table.wavelength, table.flux, table.ivar, table.mask)
    for name in ("ids", "z"):
        value = getattr(table, name)
        assert value is None or value.shape == (n,)


def check_sdss(spec):
    assert spec.flux.ndim == 1 and spec.wavelength.shape == spec.flux.shape
    check_spectrum_arrays(spec.wavelength, spec.flux, spec.ivar, spec.mask)
    assert np.all(spec.wavelength > 0)


def check_collection(spectra):
    n = len(spectra.flux)
    assert n >= 1 and len(spectra.meta) == n and len(spectra.wavelength) == n
    for i in range(n):
        ivar = None if spectra.ivar is None else spectra.ivar[i]
        check_spectrum_arrays(spectra.wavelength[i], spectra.flux[i], ivar, spectra.mask[i])


def check_images(images, meta, size):
    assert images.ndim == 4 and images.dtype == np.float64 and len(meta) == len(images)
    assert not np.any(np.isinf(images)), "infinite pixels returned (blanks must be NaN)"
    if size is not None:
        expected = (size, size) if isinstance(size, int) else tuple(size)
        assert images.shape[2:] == expected


# -- fuzzed content ---------------------------------------------------------------------------

_SPELLINGS = {
    "flux": ("flux", "FLUX", "Flux"),
    "ivar": ("ivar", "IVAR"),
    "mask": ("mask",),
    "wavelength": ("wavelength", "wave", "WAVELENGTH"),
    "ids": ("ids", "id"),
    "z": ("z", "redshift"),
}


@st.composite
def shape_like(draw, n, m, per_spectrum=False):
    """The right shape most of the time; otherwise one that disagrees."""
    right = (n,) if per_spectrum else (n, m)
    wrong = [(m,), (n + 1, m), (n, m + 1), (), (n, m, 2), (0,)]
    if per_spectrum:
        wrong = [(n + 1,), (), (n, 2)]
    return draw(st.sampled_from([right] * 4 + wrong))


@st.composite
def wavelengths(draw, shape):
    """Increasing wavelengths in Å, sometimes damaged (NaN, repeats, decreasing)."""
    if draw(st.booleans()):
        return draw(arrays(shape, dtypes=("float64", "float32", "int64", "object")))
    m = shape[-1] if shape else 1
    step = draw(st.sampled_from((1.0, 1e-9, 0.5)))
    w = 4000.0 + step * np.arange(m)
    return np.broadcast_to(w, shape).copy() if shape else np.float64(4000.0)


@st.composite
def table_content(draw):
    """Arrays for a spectrum table: field -> (name as spelled in the file, array)."""
    n, m = draw(st.integers(0, 4)), draw(st.integers(0, 8))
    content = {}
    for field, p in (("flux", 9), ("ivar", 5), ("mask", 3), ("wavelength", 6), ("ids", 3)):
        if field != "flux" and draw(st.integers(0, 9)) >= p:
            continue
        if field == "flux" and draw(st.integers(0, 19)) == 0:
            continue  # a table without flux
        name = draw(st.sampled_from(_SPELLINGS[field]))
        shape = draw(shape_like(n, m, per_spectrum=field == "ids"))
        if field == "wavelength":
            value = draw(wavelengths(draw(st.sampled_from(((m,), (m,), shape)))))
        elif field == "ivar":
            value = draw(arrays(shape, positive=draw(st.booleans())))
        elif field == "mask":
            value = draw(arrays(shape, dtypes=("bool", "int8", "float64")))
        elif field == "ids":
            value = np.array([f"s{i}" for i in range(int(np.prod(shape)))]).reshape(shape)
        else:
            value = draw(arrays(shape))
        content[field] = (name, value)
    if draw(st.integers(0, 3)) == 0:
        content["z"] = (draw(st.sampled_from(_SPELLINGS["z"])), draw(arrays((n,))))
    return content


_FITS_CODES = {"f8": "D", "f4": "E", "i8": "K", "i4": "J", "i2": "I", "u1": "B", "b1": "L"}


def fits_column(name, value):
    """A FITS column holding ``value`` row by row (vector cells for 2-D and more)."""
    value = np.asarray(value)
    if value.ndim == 0:
        value = value[None]
    if value.dtype.kind == "U":
        return fits.Column(name=name, format=f"{max(value.dtype.itemsize // 4, 1)}A", array=value)
    if value.dtype.kind == "O":  # a column of text, as a table with a bad cell would hold
        value = value.astype(str).reshape(len(value), -1)[:, 0]
        return fits.Column(name=name, format=f"{max(value.dtype.itemsize // 4, 1)}A", array=value)
    if value.dtype in (np.float16, np.int8):
        value = value.astype(np.float64)
    code = _FITS_CODES[value.dtype.str[1:]]
    repeat = int(np.prod(value.shape[1:])) if value.ndim > 1 else 1
    dim = str(tuple(reversed(value.shape[1:]))).replace(" ", "") if value.ndim > 2 else None
    return fits.Column(name=name, format=f"{repeat}{code}", array=value, dim=dim)


def write_table(path, content, fmt):
    if fmt == "npz":
        np.savez(path, **{name: value for name, value in content.values()})
        return
    try:
        columns = [fits_column(name, value) for name, value in content.values()]
        table = fits.BinTableHDU.from_columns(columns) if columns else fits.BinTableHDU()
        fits.HDUList([fits.PrimaryHDU(), table]).writeto(path)
    except Exception:  # astropy cannot write this combination: not a file anyone has
        reject()


@fuzz
@given(content=table_content(), fmt=st.sampled_from(("npz", "fits", "fits.gz")))
def test_fuzz_read_spectra_table(workdir, content, fmt):
    path = fresh(workdir, f"table.{fmt}")
    write_table(path, content, fmt)
    result = outcome(call(read_spectra_table, path, must_mention=path))
    if result is not REJECTED:
        check_table(result)


@st.composite
def sdss_file(draw, path):
    """Write an SDSS spec-lite-like file with fuzzed COADD columns and header."""
    m = draw(st.integers(0, 10))
    loglam = 3.6 + 1e-4 * np.arange(m)
    if draw(st.integers(0, 3)) == 0:
        loglam = draw(arrays((m,), dtypes=("float64", "float32")))
    columns = {
        "loglam": loglam.astype(draw(st.sampled_from((np.float64, np.float32)))),
        "flux": draw(arrays((m,), dtypes=("float64", "float32", "int64"))),
        "ivar": draw(arrays((m,), positive=draw(st.booleans()), dtypes=("float64", "float32"))),
        "and_mask": draw(arrays((m,), dtypes=("int64", "uint8"))),
    }
    for name in list(columns):
        if draw(st.integers(0, 7)) == 0:
            del columns[name]
    primary = fits.PrimaryHDU()
    primary.header["TELESCOP"] = "SDSS 2.5-M"
    coeffs = draw(st.sampled_from(((3.6, 1e-4), (3.6, -1e-4), (3.0, 1e-4), ("a", "b"), None)))
    if coeffs is not None:
        primary.header["COEFF0"], primary.header["COEFF1"] = coeffs
    hdus = [primary]
    if columns:
        cols = [fits_column(name, value) for name, value in columns.items()]
        hdus.append(fits.BinTableHDU.from_columns(cols, name=draw(st.sampled_from(("COADD", "X")))))
    if draw(st.booleans()):
        specobj = {"Z": draw(st.sampled_from((0.1, np.nan, "x"))), "PLATE": 1, "MJD": 2}
        cols = [fits_column(k, np.array([v])) for k, v in specobj.items()]
        hdus.append(fits.BinTableHDU.from_columns(cols, name="SPECOBJ"))
    try:
        fits.HDUList(hdus).writeto(path)
    except Exception:
        reject()
    return path


@fuzz
@given(data=st.data())
def test_fuzz_read_sdss_spectrum(workdir, data):
    path = data.draw(sdss_file(fresh(workdir, "spec.fits")))
    result = outcome(call(read_sdss_spectrum, path, must_mention=path))
    if result is not REJECTED:
        check_sdss(result)


# -- damaged copies of valid files -------------------------------------------------------------


@functools.cache
def valid_files():
    """Bytes of one valid file per format the readers take."""
    rng = np.random.default_rng(0)
    flux = 1 + rng.random((3, 8))
    wave = 4000.0 + np.arange(8)
    out = {}
    buf = io.BytesIO()
    np.savez(buf, flux=flux, ivar=np.ones_like(flux), wavelength=wave)
    out["table.npz"] = buf.getvalue()
    table = fits.BinTableHDU.from_columns(
        [
            fits.Column(name="flux", format="8D", array=flux),
            fits.Column(name="ivar", format="8E", array=np.ones_like(flux)),
            fits.Column(name="wavelength", format="8D", array=np.tile(wave, (3, 1))),
        ]
    )
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(buf)
    out["table.fits"] = buf.getvalue()
    out["table.fits.gz"] = gzip.compress(out["table.fits"], mtime=0)
    coadd = fits.BinTableHDU.from_columns(
        [
            fits.Column(name="flux", format="E", array=flux[0]),
            fits.Column(name="loglam", format="E", array=np.log10(wave)),
            fits.Column(name="ivar", format="E", array=np.ones(8)),
        ],
        name="COADD",
    )
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), coadd]).writeto(buf)
    out["sdss.fits"] = buf.getvalue()
    image = fits.PrimaryHDU(rng.random((6, 5)).astype(np.float32))
    image.header.update({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CDELT1": -1e-4})
    buf = io.BytesIO()
    image.writeto(buf)
    out["image.fits"] = buf.getvalue()
    out["image.fits.gz"] = gzip.compress(out["image.fits"], mtime=0)
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(rng.random((6, 5)))]).writeto(buf)
    out["image.fz"] = buf.getvalue()
    return out


@st.composite
def damaged(draw, original):
    """``original`` cut short, with bytes overwritten, or with garbage appended."""
    data = bytearray(original)
    kind = draw(st.sampled_from(("truncate", "overwrite", "overwrite", "append", "empty")))
    if kind == "truncate":
        return bytes(data[: draw(st.integers(0, len(data) - 1))])
    if kind == "empty":
        return b""
    if kind == "append":
        return bytes(data) + draw(st.binary(min_size=1, max_size=64))
    for _ in range(draw(st.integers(1, 4))):
        # headers come first: half of the edits land in the first 2880-byte block
        at = draw(st.one_of(st.integers(0, 2879), st.integers(0, len(data) - 1)))
        at = min(at, len(data) - 1)
        data[at] = draw(st.sampled_from((0, 32, 45, 48, 61, 69, 255, draw(st.integers(0, 255)))))
    return bytes(data)


_READERS = {
    "table.npz": (read_spectra_table, check_table),
    "table.fits": (read_spectra_table, check_table),
    "table.fits.gz": (read_spectra_table, check_table),
    "sdss.fits": (read_sdss_spectrum, check_sdss),
}


@fuzz
@given(data=st.data(), name=st.sampled_from(sorted(_READERS)), collection=st.booleans())
def test_fuzz_damaged_spectrum_files(workdir, data, name, collection):
    path = fresh(workdir, name)
    path.write_bytes(data.draw(damaged(valid_files()[name]), label="bytes"))
    reader, check = _READERS[name]
    if collection:  # the same file through read_spectra, which picks the reader itself
        reader, check = (lambda p: read_spectra(p, require_wavelength=False)), check_collection
    result = outcome(call(reader, path, must_mention=path))
    if result is not REJECTED:
        check(result)


@fuzz
@given(
    data=st.data(),
    name=st.sampled_from(("image.fits", "image.fits.gz", "image.fz")),
    size=st.sampled_from((None, 4)),
)
def test_fuzz_damaged_image_files(workdir, data, name, size):
    path = fresh(workdir, name)
    path.write_bytes(data.draw(damaged(valid_files()[name]), label="bytes"))
    result = outcome(call(read_fits_images, path, size=size, must_mention=path))
    if result is not REJECTED:
        check_images(*result, size)


# -- images -----------------------------------------------------------------------------------


@st.composite
def image_hdus(draw):
    """An HDUList holding a fuzzed image: any shape and BITPIX, blanks, scaling, odd WCS."""
    shape = draw(
        st.sampled_from(
            ((4, 5), (4, 5), (1, 4, 5), (3, 4, 5), (1, 1, 4, 5), (2, 3, 4, 5), (5,), (0, 4),
             (1, 1), (1, 5), (2, 1, 1))
        )
    )  # fmt: skip
    dtype = draw(st.sampled_from(("float32", "float64", "uint8", "int16", "int32", "int64")))
    pixels = draw(arrays(shape, dtypes=(dtype,), loc=draw(st.sampled_from((1.0, 100.0)))))
    header = fits.Header()
    if dtype[0] in "iu" and draw(st.booleans()):
        header["BLANK"] = int(pixels.flat[0]) if pixels.size else 0
    if draw(st.integers(0, 3)) == 0:
        header["CTYPE1"], header["CTYPE2"] = "RA---TAN", "DEC--TAN"
        header["CDELT1"] = draw(st.sampled_from((-1e-4, 0.0)))
        header["CRVAL2"] = draw(st.sampled_from((0.0, 91.0, 1e30)))
    layout = draw(st.sampled_from(("primary", "extension", "after_table", "compressed")))
    if layout == "primary":
        return fits.HDUList([fits.PrimaryHDU(pixels, header=header)])
    if layout == "compressed" and len(shape) in (2, 3) and 0 not in shape:
        image = fits.CompImageHDU(pixels, header=header, name="SCI")
    else:
        image = fits.ImageHDU(pixels, header=header, name="SCI")
    hdus = [fits.PrimaryHDU()]
    if layout == "after_table":
        hdus.append(fits.BinTableHDU.from_columns([fits.Column("a", "D", array=[1.0])]))
    return fits.HDUList([*hdus, image])


@fuzz
@given(
    hdul=image_hdus(),
    hdu=st.sampled_from((None, None, 0, 1, 2, -1, "SCI", "nope", 1.5)),
    plane=st.sampled_from((None, None, 0, -1, 2, 7, "a")),
    size=st.sampled_from((None, None, 4, (3, 5), 1, 0, -2, (2,), "x")),
    conserve_flux=st.booleans(),
    n_files=st.integers(1, 2),
)
def test_fuzz_read_fits_images(workdir, hdul, hdu, plane, size, conserve_flux, n_files):
    folder = fresh(workdir, "x").parent
    try:
        for i in range(n_files):
            hdul.writeto(folder / f"image{i}.fits")
    except Exception:  # astropy cannot write it: not a file anyone has
        reject()
    kwargs = {"size": size, "hdu": hdu, "plane": plane, "conserve_flux": conserve_flux}
    result = outcome(call(read_fits_images, folder, **kwargs))
    if result is not REJECTED:
        check_images(*result, size)


# -- many files at once ------------------------------------------------------------------------


@fuzz
@given(data=st.data(), n_files=st.integers(1, 3), require_wavelength=st.booleans())
def test_fuzz_read_spectra_directory(workdir, data, n_files, require_wavelength):
    folder = fresh(workdir, "x").parent
    for i in range(n_files):
        kind = data.draw(st.sampled_from(("table", "sdss", "damaged", "text", "good")))
        if kind == "table":
            fmt = data.draw(st.sampled_from(("npz", "fits")))
            write_table(folder / f"f{i}.{fmt}", data.draw(table_content()), fmt)
        elif kind == "sdss":
            data.draw(sdss_file(folder / f"f{i}.fits"))
        elif kind == "damaged":
            name = data.draw(st.sampled_from(sorted(_READERS)))
            (folder / f"f{i}.{name}").write_bytes(data.draw(damaged(valid_files()[name])))
        elif kind == "text":
            (folder / f"f{i}.fits").write_text("flux,ivar\n1,2\n")
        else:
            (folder / f"f{i}.fits").write_bytes(valid_files()["table.fits"])
    result = outcome(
        call(read_spectra, folder, require_wavelength=require_wavelength, must_mention=folder)
    )
    if result is not REJECTED:
        check_collection(result)
    shutil.rmtree(folder)
