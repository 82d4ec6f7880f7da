"""Image cutouts beside spectra: read a directory of FITS (or PNG/JPEG) cutouts and pair each
with a spectrum, by file name or by sky position."""

import dataclasses
import warnings
from pathlib import Path

import numpy as np

from ._errors import InputError
from ._fits import open_fits
from .crossmatch import _DESIGNATION, crossmatch, parse_2mass_designation

__all__ = ["Cutout", "cutouts_for_spectra", "match_cutouts", "read_cutouts", "spectrum_positions"]

#: File endings read as cutouts (case-insensitive).
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz")
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg")
#: Largest distance between a spectrum and a cutout's centre for a positional match.
DEFAULT_MAX_SEP_ARCSEC = 3.0


@dataclasses.dataclass(frozen=True)
class Cutout:
    """One image cutout and, once matched, how it was paired with its spectrum.

    Attributes
    ----------
    id : str
        The file name without its ending (``2M00000002+7417074.fits`` → ``2M00000002+7417074``).
    path : pathlib.Path
        The file.
    image : ndarray of shape (H, W), or (H, W, 3 or 4) for PNG/JPEG
        Pixel values; for FITS the first 2-D image HDU, float64.
    origin : {"lower", "upper"}
        Where row 0 is: ``lower`` for FITS (pixel (1, 1) at the bottom left), ``upper`` for
        pictures.
    wcs : astropy.wcs.WCS or None
        The celestial WCS of a FITS cutout, if its header has one.
    matched_by : {"id", "position"} or None
        How :func:`match_cutouts` paired it.
    separation : astropy Angle or None
        Spectrum-to-centre separation of a positional match.
    target : astropy SkyCoord or None
        The spectrum's position, when known.
    """

    id: str
    path: Path
    image: np.ndarray
    origin: str = "lower"
    wcs: object = None
    matched_by: str | None = None
    separation: object = None
    target: object = None

    @property
    def center(self):
        """Sky position of the image centre (SkyCoord), or None without a WCS."""
        if self.wcs is None:
            return None
        h, w = self.image.shape[:2]
        return self.wcs.pixel_to_world((w - 1) / 2, (h - 1) / 2)


def _stem(path):
    name = path.name
    for suffix in sorted(FITS_SUFFIXES + PICTURE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return None


def _read_fits_cutout(path):
    from astropy.wcs import WCS, FITSFixedWarning

    with open_fits(path) as hdul:
        for hdu in hdul:
            data = getattr(hdu, "data", None)
            if data is None or getattr(hdu, "columns", None) is not None or data.ndim < 2:
                continue
            image = np.squeeze(np.asarray(data, dtype=np.float64))
            if image.ndim != 2:
                raise InputError(
                    f"{path}: its image has shape {data.shape}; a cutout must be one 2-D image "
                    "(save one band per file)."
                )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FITSFixedWarning)
                try:
                    wcs = WCS(hdu.header, naxis=2)
                except (ValueError, KeyError, MemoryError):
                    wcs = None
            if wcs is not None and not wcs.has_celestial:
                wcs = None
            return image, (None if wcs is None else wcs.celestial)
    raise InputError(f"{path} holds no 2-D image HDU, so it is not an image cutout.")


def read_cutouts(directory):
    """Read every FITS, PNG and JPEG cutout in a directory (not its subdirectories).

    Parameters
    ----------
    directory : str or pathlib.Path
        Folder of cutouts. FITS files (``.fits``, ``.fit``, ``.fts``, optionally ``.gz``) give
        the first 2-D image HDU and, if the header has one, its celestial WCS. PNG and JPEG
        files are read with matplotlib (JPEG needs Pillow) and carry no WCS.

    Returns
    -------
    cutouts : list of Cutout
        Sorted by file name; ``id`` is the name without its ending.

    Raises
    ------
    FileNotFoundError
        If ``directory`` does not exist.
    InputError
        If it holds no cutout, two files share an id, or a FITS file is damaged or has no 2-D
        image (the message names the file).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"image directory {directory} does not exist or is not a folder")
    cutouts, seen = [], {}
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        stem = _stem(path)
        if stem is None:
            continue
        if stem in seen:
            raise InputError(
                f"{seen[stem].name} and {path.name} are both cutouts of id {stem!r}; keep one."
            )
        seen[stem] = path
        if path.name.lower().endswith(FITS_SUFFIXES):
            image, wcs = _read_fits_cutout(path)
            cutouts.append(Cutout(stem, path, image, "lower", wcs))
        else:
            import matplotlib.image

            try:
                image = np.asarray(matplotlib.image.imread(path))
            except (OSError, ValueError, SyntaxError) as exc:
                raise InputError(f"{path} is not a readable PNG/JPEG image ({exc}).") from exc
            cutouts.append(Cutout(stem, path, image, "upper", None))
    if not cutouts:
        raise InputError(
            f"{directory} holds no image cutout (FITS, PNG or JPEG files named after the "
            "spectrum ids, e.g. 2M00000002+7417074.fits)."
        )
    return cutouts


def spectrum_positions(ids, labels=None):
    """Sky positions of spectra, where known: ``ra``/``dec`` labels, else 2MASS-style ids.

    Parameters
    ----------
    ids : sequence of str, length n_spectra
        Spectrum ids; those of the form ``2Mhhmmssss+ddmmsss`` (APOGEE) encode a position.
    labels : DataFrame, default=None
        Per-spectrum table; finite ``ra`` and ``dec`` columns (degrees, ICRS) win over ids.

    Returns
    -------
    rows : ndarray of int
        The spectra whose position is known.
    coords : astropy SkyCoord of shape (len(rows),)
        Their positions.
    """
    from astropy.coordinates import SkyCoord

    n = len(ids)
    ra, dec = np.full(n, np.nan), np.full(n, np.nan)
    if labels is not None and {"ra", "dec"} <= set(labels.columns):
        ra = np.asarray(labels["ra"], dtype=np.float64).copy()
        dec = np.asarray(labels["dec"], dtype=np.float64).copy()
    todo = [
        k
        for k in range(n)
        if not np.isfinite(ra[k]) and _DESIGNATION.match(str(ids[k])) is not None
    ]
    if todo:
        parsed = parse_2mass_designation([str(ids[k]) for k in todo])
        ra[todo], dec[todo] = parsed.ra.deg, parsed.dec.deg
    rows = np.flatnonzero(np.isfinite(ra) & np.isfinite(dec))
    return rows, SkyCoord(ra[rows], dec[rows], unit="deg", frame="icrs")


def match_cutouts(ids, cutouts, *, labels=None, max_sep=DEFAULT_MAX_SEP_ARCSEC):
    """Pair spectra with cutouts: by id first, then by position for the rest.

    A cutout whose ``id`` equals a spectrum id (``str``, exactly) is that spectrum's. Among the
    spectra and cutouts left, those with a position (:func:`spectrum_positions`; the cutout's
    WCS centre) are paired one-to-one by :func:`~skspectra.io.crossmatch` within ``max_sep``.

    Parameters
    ----------
    ids : sequence of str, length n_spectra
        Spectrum ids.
    cutouts : list of Cutout
        From :func:`read_cutouts`.
    labels : DataFrame, default=None
        Per-spectrum table with optional ``ra`` and ``dec`` (degrees).
    max_sep : float or astropy angle Quantity, default=3.0
        Largest spectrum-to-centre separation of a positional match (a number is in arcsec).

    Returns
    -------
    matched : dict
        Spectrum id → :class:`Cutout` with ``matched_by`` (and ``separation``, ``target``) set.
    """
    ids = [str(i) for i in ids]
    by_stem = {c.id: c for c in cutouts}
    matched = {}
    rows, coords = spectrum_positions(ids, labels)
    where = dict(zip(rows.tolist(), range(len(rows)), strict=True))
    for k, name in enumerate(ids):
        if name in by_stem and name not in matched:
            target = coords[where[k]] if k in where else None
            matched[name] = dataclasses.replace(by_stem[name], matched_by="id", target=target)
    used = {c.id for c in matched.values()}
    left = [c for c in cutouts if c.id not in used and c.wcs is not None]
    todo = [r for r in rows if ids[r] not in matched]
    if left and todo:
        from astropy.coordinates import SkyCoord

        centres = SkyCoord([c.center for c in left])
        m = crossmatch(coords[[where[r] for r in todo]], centres, max_sep=max_sep)
        for a, b, sep in zip(m.idx1, m.idx2, m.separation, strict=True):
            row = todo[a]
            matched[ids[row]] = dataclasses.replace(
                left[b], matched_by="position", separation=sep, target=coords[where[row]]
            )
    return matched


def cutouts_for_spectra(directory, ids, labels=None, *, max_sep=DEFAULT_MAX_SEP_ARCSEC):
    """Read a directory of cutouts and pair them with spectra; the ``--images`` option.

    Parameters
    ----------
    directory : str or pathlib.Path
        Folder of cutouts (see :func:`read_cutouts`).
    ids : sequence of str
        Spectrum ids.
    labels : DataFrame, default=None
        Per-spectrum table with optional ``ra``/``dec`` (degrees).
    max_sep : float or astropy angle Quantity, default=3.0
        Positional matching radius (arcsec if a number).

    Returns
    -------
    matched : dict
        Spectrum id → Cutout, as :func:`match_cutouts` returns.
    summary : dict
        ``directory``, ``n_cutouts``, ``matched_by_id``, ``matched_by_position``,
        ``max_sep_arcsec``, and ``unmatched_cutouts`` (their file names), for ``run.json``.
    """
    import astropy.units as u

    cutouts = read_cutouts(directory)
    matched = match_cutouts(ids, cutouts, labels=labels, max_sep=max_sep)
    used = {c.path.name for c in matched.values()}
    how = [c.matched_by for c in matched.values()]
    sep = max_sep.to_value(u.arcsec) if isinstance(max_sep, u.Quantity) else float(max_sep)
    summary = {
        "directory": str(directory),
        "n_cutouts": len(cutouts),
        "matched_by_id": how.count("id"),
        "matched_by_position": how.count("position"),
        "max_sep_arcsec": sep,
        "unmatched_cutouts": [c.path.name for c in cutouts if c.path.name not in used],
    }
    return matched, summary
