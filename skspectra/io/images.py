"""Read FITS images (2-D images, cubes, compressed HDUs) into one array of a fixed size."""

import warnings

import numpy as np
import pandas as pd
from astropy.io import fits

from ._errors import InputError
from ._fits import expand_paths, naming_the_file, open_fits, read_each, read_hdu_data

__all__ = ["IMAGE_PATTERNS", "read_fits_images"]

#: File names looked for inside a directory (non-recursive); ``.fz`` is fpack's compressed FITS.
IMAGE_PATTERNS = ("*.fits", "*.fit", "*.fts", "*.fits.gz", "*.fit.gz", "*.fits.fz", "*.fz")

#: An output pixel of :func:`read_fits_images` with ``size`` is NaN when less than this
#: fraction of its (anti-aliased) footprint falls on finite input pixels.
MIN_VALID_FRACTION = 0.5

_META_COLUMNS = (
    "file",
    "hdu",
    "extname",
    "shape",
    "plane",
    "bitpix",
    "bunit",
    "object",
    "ra",
    "dec",
    "pixel_scale",
    "wcs_problem",
    "n_blank",
    "flux_factor",
)


def read_fits_images(
    paths, size=None, hdu=None, plane=None, *, conserve_flux=False, skip_bad=False
):
    """Read FITS images from files and directories into one array, one image per file.

    Each file gives one image: the HDU ``hdu``, or, when None, the first HDU that holds
    image data (so an empty primary HDU is passed over for the first image extension).
    Plain and tile-compressed image HDUs (``CompImageHDU``, fpack ``.fz`` files) are read
    alike. astropy applies ``BSCALE``/``BZERO``, so the values are physical ones in
    ``BUNIT`` whatever the ``BITPIX`` (8, 16, 32, 64, -32, -64).

    Parameters
    ----------
    paths : str, path-like, or sequence of them
        FITS files, and directories whose FITS files (``*.fits``, ``*.fit``, ``*.fts``,
        ``*.fits.gz``, ``*.fit.gz``, ``*.fz``; not those in subdirectories) are read in
        sorted order.
    size : int or (int, int), default=None
        Output size ``(H, W)`` in pixels (an int for a square). Images are resized with
        :func:`skimage.transform.resize` (bilinear, ``anti_aliasing=True`` when shrinking).
        When None, every image must already have one shape.
    hdu : int or str, default=None
        HDU index or EXTNAME to read in every file. When None: the first HDU with image
        data.
    plane : int, default=None
        For 3-D cubes ``(n_planes, H, W)`` (wavelength or band planes): the plane to keep,
        as one channel. When None, every plane becomes a channel. Ignored for 2-D images.
    conserve_flux : bool, default=False
        Only with ``size``. False (default): the resized image samples the same surface
        brightness, so pixel values keep their scale and the sum over the image changes by
        the ratio of pixel counts, ``(H·W) / (H_in·W_in)``. True: each resized image is
        multiplied by ``(H_in·W_in) / (H·W)`` (``meta["flux_factor"]``), so that its sum,
        the total flux in a per-pixel unit such as counts or Jy/pixel, is kept (to
        interpolation accuracy: within about 1 % for sources resolved at the new size).
        Use False for surface-brightness units (MJy/sr, mag/arcsec²).
    skip_bad : bool, default=False
        Go on past files that cannot be read (damaged, not FITS, no such HDU...) instead of
        stopping at the first; they are listed in ``meta.attrs["skipped"]`` as
        ``{"file", "reason"}`` dicts (an empty list when none was).

    Returns
    -------
    images : ndarray of shape (n_files, n_channels, H, W)
        float64 pixel values in ``BUNIT`` (times ``flux_factor``). ``n_channels`` is 1 for
        2-D images and for cubes read with ``plane``, the number of planes otherwise.
        Blank pixels (NaN or ±inf in float images, the ``BLANK`` value in integer ones) are NaN:
        treat NaN as masked. With ``size``, an output pixel is NaN where less than half
        of its footprint covers finite input pixels; elsewhere the blanks are left out of
        the interpolation.
    meta : pandas.DataFrame
        One row per image: ``file``, ``hdu`` (index read), ``extname``, ``shape`` (of the
        data as stored, numpy order), ``plane`` (None when all planes were kept), ``bitpix``,
        ``bunit``, ``object``, ``ra`` and ``dec`` (degrees, ICRS or the frame of the WCS, at
        the centre of the image; NaN without a celestial WCS), ``pixel_scale`` (arcsec per
        input pixel along the first axis, NaN without a celestial WCS), ``wcs_problem``
        (missing, None or NaN, when the WCS is usable or the header has none; else why the
        WCS that the header describes could not be used, and ``ra``, ``dec`` and
        ``pixel_scale`` are NaN), ``n_blank`` (NaN pixels as read) and
        ``flux_factor`` (1.0 unless ``conserve_flux``).

    Raises
    ------
    InputError
        Naming the file, if a path does not exist, is not a readable FITS file (damaged,
        truncated or another format), has no image HDU, has no HDU ``hdu``, its HDU
        ``hdu`` holds no 2-D or 3-D image, ``plane`` is out of range; or if a directory
        holds no FITS file, no paths are given, or the images differ in shape without
        ``size``.

    See Also
    --------
    skspectra.preprocessing.ImageNormalizer : map each image to [0, 1], with a stretch.
    skspectra.io.read_spectra : the reader of spectrum files.

    Notes
    -----
    Axes of length 1 beyond the second (as in radio cubes of shape (1, 1, H, W)) are
    dropped. A cube is resized plane by plane, never along the plane axis.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from astropy.io import fits
    >>> from skspectra.io import read_fits_images
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> fits.PrimaryHDU(np.ones((64, 64), dtype=np.float32)).writeto(d / "a.fits")
    >>> images, meta = read_fits_images(d, size=32)
    >>> images.shape, meta["shape"][0]
    ((1, 1, 32, 32), (64, 64))
    """
    if size is not None:
        size = _check_size(size)
    if plane is not None and (isinstance(plane, bool) or not isinstance(plane, int | np.integer)):
        raise InputError(f"plane must be an int or None, got {plane!r}.")
    if conserve_flux and size is None:
        raise InputError("conserve_flux=True only applies when resizing: give size as well.")

    def read_one(path):  # resized at once, so that only small images are kept
        image, meta = _read_one(path, hdu, plane)
        if size is not None:
            factor = image.shape[1] * image.shape[2] / (size[0] * size[1])
            image = _resize(image, size)
            if conserve_flux:
                image *= factor
                meta["flux_factor"] = factor
        return image, meta

    files = expand_paths(paths, IMAGE_PATTERNS, "FITS images", _check_exists)
    read, skipped = read_each(files, read_one, skip_bad=skip_bad)
    images, rows = [list(column) for column in zip(*read, strict=True)]
    shapes = {image.shape for image in images}
    if len(shapes) > 1:
        first = images[0].shape
        other = next(i for i, image in enumerate(images) if image.shape != first)
        raise InputError(
            f"images differ in shape: {rows[0]['file']} gives (channels, H, W) = {first}, "
            f"{rows[other]['file']} gives {images[other].shape}; pass size=... to resize them "
            "to one size (and plane=... for cubes)."
        )
    meta = pd.DataFrame(rows, columns=list(_META_COLUMNS))
    meta.attrs["skipped"] = skipped
    return np.stack(images), meta


def _check_size(size):
    """``size`` as a pair of positive ints."""
    if isinstance(size, int | np.integer) and not isinstance(size, bool):
        size = (size, size)
    try:
        size = tuple(int(s) for s in size)
        ok = len(size) == 2 and all(s >= 1 for s in size)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError(f"size must be a positive int or a pair (H, W) of them, got {size!r}.")
    return size


def _check_exists(path):
    if not path.exists():
        raise InputError(f"{path}: no such file or directory.")


def _is_image(hdu):
    """Image HDUs (primary, extension or tile-compressed) with at least 2-D data."""
    return isinstance(hdu, fits.hdu.image._ImageBaseHDU) and hdu.header.get("NAXIS", 0) >= 2


def _read_one(path, hdu, plane):
    """One image of shape (n_channels, H, W) and its metadata row."""
    with open_fits(path) as hdul:
        with naming_the_file(path):  # astropy's calls only: errors on a damaged file name it
            index = _select_hdu(hdul, hdu, path)
            selected = hdul[index]
            header = selected.header
            bitpix = header.get("BITPIX")  # as stored: astropy sets -32/-64 once it scales
            data = read_hdu_data(selected, path)
        if data is None or data.ndim < 2:
            raise InputError(
                f"{path}: HDU {index} holds no image (NAXIS = {header.get('NAXIS', 0)}); "
                "choose another with hdu=..."
            )
        shape = tuple(int(n) for n in data.shape)
        image = _blank_to_nan(data, header)
        while image.ndim > 3 and image.shape[0] == 1:
            image = image[0]
        if image.ndim > 3:
            raise InputError(
                f"{path}: HDU {index} has {data.ndim} axes of shape {shape}; only 2-D images "
                "and 3-D cubes can be read."
            )
        if image.ndim == 2:
            image, kept = image[None], None
        elif plane is None:
            kept = None
        else:
            if not -image.shape[0] <= plane < image.shape[0]:
                raise InputError(
                    f"{path}: plane={plane} is out of range for a cube of {image.shape[0]} planes."
                )
            kept = int(plane) % image.shape[0]
            image = image[kept : kept + 1]
        ra, dec, scale, wcs_problem = _centre(header, shape)
        meta = {
            "file": str(path),
            "hdu": index,
            "extname": header.get("EXTNAME", "PRIMARY" if index == 0 else ""),
            "shape": shape,
            "plane": kept,
            "bitpix": bitpix,
            "bunit": header.get("BUNIT"),
            "object": header.get("OBJECT"),
            "ra": ra,
            "dec": dec,
            "pixel_scale": scale,
            "wcs_problem": wcs_problem,
            "n_blank": int(np.isnan(image).sum()),
            "flux_factor": 1.0,
        }
    return image, meta


def _select_hdu(hdul, hdu, path):
    """Index of the HDU to read: ``hdu`` (index or EXTNAME) or the first image HDU."""
    if hdu is None:
        for index, candidate in enumerate(hdul):
            if _is_image(candidate):
                return index
        kinds = ", ".join(type(h).__name__ for h in hdul)
        raise InputError(f"{path} has no image HDU (it holds: {kinds}).")
    try:
        index = hdul.index_of(hdu)
        hdul[index]
        index %= len(hdul)
    except (KeyError, IndexError, TypeError):
        names = ", ".join(f"{i}:{h.name}" for i, h in enumerate(hdul))
        raise InputError(f"{path} has no HDU {hdu!r} (it has {names}).") from None
    return index


def _blank_to_nan(data, header):
    """float64 native-order copy; infinite pixels and integer ones equal to ``BLANK`` become NaN.

    astropy turns BLANK into NaN itself when it scales (BSCALE/BZERO), but returns
    unscaled integer data with the BLANK value in place.
    """
    image = np.array(data, dtype=np.float64)
    image[np.isinf(image)] = np.nan  # found by fuzzing: an infinite pixel is no measurement
    blank = header.get("BLANK")
    if data.dtype.kind in "iu" and blank is not None:
        image[data == blank] = np.nan
    return image


def _centre(header, shape):
    """(ra, dec) in degrees at the image centre, the pixel scale in arcsec, and the problem.

    Without celestial WCS keywords: NaNs and no problem. With a WCS that astropy cannot use
    (an unknown projection, a singular CD matrix...): NaNs and the reason, so that the
    caller can tell a broken WCS from none.
    """
    from astropy.wcs import WCS

    nan = (float("nan"),) * 3
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # FITSFixedWarning and friends on odd headers
            wcs = WCS(header).celestial
    except Exception as exc:  # noqa: BLE001 - any WCS failure leaves the image readable
        return (*nan, f"WCS not usable: {_first_line(exc)}")
    if not wcs.has_celestial or wcs.naxis != 2:
        return (*nan, None)
    ny, nx = shape[-2], shape[-1]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ra, dec = wcs.all_pix2world([[(nx - 1) / 2, (ny - 1) / 2]], 0)[0]
            scale = float(wcs.proj_plane_pixel_scales()[0].to_value("arcsec"))
    except Exception as exc:  # noqa: BLE001
        return (*nan, f"WCS not usable at the image centre: {_first_line(exc)}")
    if not (np.isfinite(ra) and np.isfinite(dec) and np.isfinite(scale)):
        return (*nan, "WCS gives no finite position at the image centre")
    return float(ra), float(dec), scale, None


def _first_line(exc):
    """The reason in one line; wcslib puts "ERROR n in f() at line ... of file ..." first."""
    lines = [x.strip() for x in str(exc).splitlines() if x.strip()]
    lines = [x for x in lines if not x.startswith("ERROR ")] or lines
    return lines[0] if lines else type(exc).__name__


def _resize(image, size):
    """Resize each channel to ``size``, leaving NaN pixels out (normalised convolution).

    The finite pixels (blanks set to 0) and the finite-pixel mask are resized alike; their
    ratio is the resized image, NaN where less than ``MIN_VALID_FRACTION`` of the output
    pixel's footprint is finite.
    """
    from skimage.transform import resize

    valid = np.isfinite(image)
    out = np.empty((image.shape[0], *size))
    for c, (channel, ok) in enumerate(zip(image, valid, strict=True)):
        kwargs = {"order": 1, "mode": "reflect", "anti_aliasing": True, "preserve_range": True}
        if ok.all():
            out[c] = resize(channel, size, **kwargs)
            continue
        weight = resize(ok.astype(np.float64), size, **kwargs)
        summed = resize(np.where(ok, channel, 0.0), size, **kwargs)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[c] = np.where(weight >= MIN_VALID_FRACTION, summed / weight, np.nan)
    return out
