"""Spectra ready for a model: read, put on one wavelength grid, normalise, check.

What ``skspectra anomalies`` loads, as public functions that scripts can call too:
:func:`load_spectra` reads files (via :func:`~skspectra.io.read_spectra`), moves SDSS
spectra to the rest frame, resamples every spectrum onto one common grid and divides it
by its median flux; :func:`load_gaia_xp_sample` gives the shipped Gaia XP sample in the
same layout; :func:`check_training_spectra` refuses what a model cannot train on.
:func:`load_images`, :func:`load_hubble_sample` and :func:`check_training_images` do the
same for ``skspectra images``.
"""

from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._errors import InputError

__all__ = [
    "check_training_spectra",
    "load_gaia_xp_sample",
    "load_hubble_sample",
    "load_images",
    "load_spectra",
]

#: Limits of :class:`~skspectra.preprocessing.ImageNormalizer` in :func:`load_images`: the
#: 0.5th and 99.5th percentiles of each image become 0 and 1.
FITS_PERCENTILE = (0.5, 99.5)


def load_gaia_xp_sample():
    """The Gaia XP sample shipped with skspectra, in the layout of :func:`load_spectra`.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``flux`` and ``ivar`` of shape (3000, 343), ``wavelength`` (343,) in Å,
        ``wavelength_unit`` ('Å'), ``ids`` (APOGEE ids), ``has_ivar`` (True), ``labels``
        (DataFrame of APOGEE
        labels and photometry, one row per star) and ``source``.

    See Also
    --------
    skspectra.datasets.load_gaia_xp : the dataset itself.
    """
    from ..datasets import load_gaia_xp

    data = load_gaia_xp()
    return Bunch(
        flux=data.flux,
        ivar=data.ivar,
        wavelength=data.wavelength,
        wavelength_unit="Å",
        ids=data.ids["apogee_id"].to_numpy(),
        has_ivar=True,
        labels=data.labels.join(data.photometry),
        source="load_gaia_xp(): Gaia DR3 XP sampled spectra with APOGEE DR17 labels",
    )


def load_spectra(paths, *, skip_bad=False):
    """Read files, put every spectrum on one wavelength grid and normalise it.

    SDSS spectra with a redshift go to the rest frame; each spectrum is then
    divided by its median flux (ivar scaled to match). Tables without wavelengths
    must all have one length; they then share a pixel grid.

    Parameters
    ----------
    paths : str, path-like, or sequence of them
        Files and directories, as for :func:`~skspectra.io.read_spectra`.
    skip_bad : bool, default=False
        Go on past files that cannot be read and spectra that cannot be used (NaN or
        infinite flux at unmasked pixels, no usable pixel on the common grid), instead of
        stopping at the first; they are listed in ``skipped`` and ``skipped_spectra``.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``flux`` (n_spectra, n_wavelengths), dimensionless after the normalisation, with
        masked pixels set to 0; ``ivar`` of the same shape (0 = masked); ``wavelength``
        (n_wavelengths,) in Å, or pixel indices; ``wavelength_unit`` ('Å' or 'pixel');
        ``ids`` (n_spectra,), the file's id or ``name#row``; ``has_ivar`` (False when no
        file gave inverse variances: ``ivar`` then only marks masked pixels, with 1 elsewhere,
        and the noise is to be estimated); ``labels`` (DataFrame of the
        metadata of :func:`~skspectra.io.read_spectra` but ``id``); ``source`` (a line
        that says what was read and how); ``skipped`` (``{"file", "reason"}`` of each file
        left out with ``skip_bad``); ``skipped_spectra`` (``{"id", "file", "row",
        "reason"}`` of each spectrum left out with ``skip_bad``).

    Raises
    ------
    InputError
        If a file cannot be read, a spectrum has NaN flux at unmasked pixels or no usable
        pixel on the common grid (without ``skip_bad``), no spectrum is left, or tables
        without wavelengths differ in length.
    FileNotFoundError
        If a path does not exist.
    """
    from ..preprocessing import common_wavelength_grid, normalize_spectra, resample_spectra
    from .collection import read_spectra

    spectra = read_spectra(paths, require_wavelength=False, skip_bad=skip_bad)
    meta = spectra.meta
    ids = np.array(
        [
            str(i) if i is not None and i == i else f"{Path(f).name}#{r}"
            for i, f, r in zip(meta["id"], meta["file"], meta["row"], strict=True)
        ],
        dtype=object,
    )
    skipped_spectra = []
    unusable = _unusable_spectra(spectra, ids)
    if unusable and not skip_bad:
        i, reason = unusable[0]
        raise InputError(f"spectrum {ids[i]} {reason}{_in_all(len(unusable))}")
    if unusable:
        skipped_spectra += _skip_records(meta, ids, unusable)
        spectra, meta, ids = _drop(spectra, ids, [i for i, _ in unusable])
        _check_some_left(ids, skipped_spectra)
    if any(w is None for w in spectra.wavelength):
        flux, ivar, wavelength, frame = _stack_pixel_grid(spectra, ids)
    else:
        z = meta["z"].to_numpy(dtype=float)
        rest = bool(np.all(np.isfinite(z)))
        shift = 1 + z if rest else np.ones(len(z))
        grid = common_wavelength_grid(
            [w / s for w, s in zip(spectra.wavelength, shift, strict=True)]
        )
        flux, ivar = resample_spectra(
            spectra.wavelength,
            spectra.flux,
            spectra.ivar,
            mask=spectra.mask,
            new_wavelength=grid,
            z=z if rest else None,
        )
        wavelength, frame = grid, "rest frame" if rest else "observed frame"
    has_ivar = ivar is not None
    if ivar is None:
        ivar = np.ones_like(flux)
    ivar = np.where(np.isfinite(flux), ivar, 0.0)
    empty = np.flatnonzero(~np.any(ivar > 0, axis=1))
    reason = "has no usable pixel on the common wavelength grid; drop it"
    if empty.size and not skip_bad:
        raise InputError(f"spectrum {ids[empty[0]]} {reason}{_in_all(empty.size)}")
    if empty.size:
        skipped_spectra += _skip_records(meta, ids, [(i, reason) for i in empty])
        keep = np.setdiff1d(np.arange(len(ids)), empty)
        flux, ivar, ids = flux[keep], ivar[keep], ids[keep]
        meta = meta.iloc[keep].reset_index(drop=True)
    _check_some_left(ids, skipped_spectra)
    flux, ivar, _ = normalize_spectra(np.where(ivar > 0, flux, np.nan), ivar)
    labels = meta.drop(columns=["id"]).reset_index(drop=True)
    return Bunch(
        flux=np.nan_to_num(flux),
        ivar=ivar,
        wavelength=wavelength,
        wavelength_unit="pixel" if frame.startswith("pixel") else "Å",
        ids=ids,
        has_ivar=has_ivar,
        labels=labels,
        source=f"{len(set(meta['file']))} file(s), {frame}, normalised by the median flux",
        skipped=spectra.skipped,
        skipped_spectra=skipped_spectra,
    )


def _nan_flux_problem(flux, ivar=None, *, skip_hint=True):
    """What is wrong with one spectrum's NaN or infinite flux, and the fix that works; or None.

    NaN or infinite flux is only acceptable where the pixel is masked (``ivar = 0``). The
    advice depends on what is left: masking the bad pixels helps only if the spectrum keeps
    a usable pixel; otherwise the spectrum must go.

    Parameters
    ----------
    flux : ndarray of shape (n_wavelengths,)
    ivar : ndarray of shape (n_wavelengths,), default=None
        None: every pixel counts as unmasked.
    skip_hint : bool, default=True
        Mention ``--skip-bad`` / ``skip_bad=True`` (where the caller offers it).

    Returns
    -------
    problem : str or None
        To follow "spectrum <id> ", or None if the spectrum has no such pixel.
    """
    flux = np.asarray(flux)
    unmasked = np.ones(flux.shape, bool) if ivar is None else np.asarray(ivar) > 0
    bad = ~np.isfinite(flux) & unmasked
    if not bad.any():
        return None
    usable = int(np.sum(np.isfinite(flux) & unmasked))
    if usable == 0:
        hint = " (--skip-bad / skip_bad=True leaves such spectra out)" if skip_hint else ""
        return (
            f"has NaN or infinite flux at all its {int(bad.sum())} unmasked pixels, so no "
            f"pixel is usable; drop the spectrum{hint}"
        )
    return (
        f"has NaN or infinite flux at {int(bad.sum())} pixels that are not masked; mask them "
        f"(ivar = 0 at those pixels; its {usable} other pixels stay usable), or drop the "
        "spectrum"
    )


def _unusable_spectra(spectra, ids):
    """``(index, reason)`` of each spectrum with NaN or infinite flux at unmasked pixels."""
    found = []
    for i, flux in enumerate(spectra.flux):
        problem = _nan_flux_problem(flux, None if spectra.ivar is None else spectra.ivar[i])
        if problem is not None:
            found.append((i, problem))
    return found


def _check_some_left(ids, skipped_spectra):
    if len(ids) == 0:
        raise InputError(
            f"none of the {len(skipped_spectra)} spectra can be used; the first, "
            f"{skipped_spectra[0]['id']}, {skipped_spectra[0]['reason']}"
        )


def _files_of(data):
    """ ", from a.npz" (the files the spectra came from, up to 3), or "" when unknown."""
    labels = data.get("labels")
    if labels is None or "file" not in getattr(labels, "columns", ()):
        return f", from {data.source}" if data.get("source") else ""
    files = list(dict.fromkeys(map(str, labels["file"])))
    more = f" and {len(files) - 3} more" if len(files) > 3 else ""
    return f", from {', '.join(files[:3])}{more}"


def _in_all(n):
    return f" ({n} spectra in all)" if n > 1 else ""


def _skip_records(meta, ids, found):
    """``{"id", "file", "row", "reason"}`` for run.json, one per skipped spectrum."""
    return [
        {
            "id": str(ids[i]),
            "file": str(meta["file"].iloc[i]),
            "row": int(meta["row"].iloc[i]),
            "reason": reason.split(";")[0],
        }
        for i, reason in found
    ]


def _drop(spectra, ids, drop):
    """The collection of :func:`read_spectra` without the spectra at indices ``drop``."""
    keep = [i for i in range(len(ids)) if i not in set(drop)]
    out = Bunch(
        wavelength=[spectra.wavelength[i] for i in keep],
        flux=[spectra.flux[i] for i in keep],
        ivar=None if spectra.ivar is None else [spectra.ivar[i] for i in keep],
        mask=[spectra.mask[i] for i in keep],
        meta=spectra.meta.iloc[keep].reset_index(drop=True),
        skipped=spectra.skipped,
    )
    return out, out.meta, ids[keep]


def _stack_pixel_grid(spectra, ids):
    """Tables without wavelengths: spectra of one length share a pixel grid."""
    lengths = {f.size for f in spectra.flux}
    if len(lengths) > 1:
        raise InputError(
            f"spectra have different lengths ({', '.join(map(str, sorted(lengths)))} pixels) "
            "and some files give no wavelength array; add a 'wavelength' array so they can "
            "be resampled onto one grid"
        )
    if any(w is not None for w in spectra.wavelength):
        raise InputError(
            "some files give wavelengths and others do not; add a 'wavelength' array to every file"
        )
    flux = np.vstack(spectra.flux)
    ivar = None if spectra.ivar is None else np.vstack(spectra.ivar)
    if ivar is not None:
        ivar = np.where(np.vstack(spectra.mask), 0.0, ivar)
    return flux, ivar, np.arange(flux.shape[1], dtype=float), "pixel grid (no wavelengths)"


def check_training_spectra(data):
    """Refuse what a model cannot train on, naming the spectrum and the fix.

    Parameters
    ----------
    data : sklearn.utils.Bunch
        With ``flux``, ``ivar`` (n_spectra, n_wavelengths) and ``ids``, as from
        :func:`load_spectra`. On success ``data.flux`` is replaced by a copy with
        masked pixels (``ivar == 0``) set to 0.

    Returns
    -------
    data : sklearn.utils.Bunch
        The same object.

    Raises
    ------
    InputError
        If a spectrum has NaN or infinite flux at unmasked pixels, or every pixel
        masked, or there are fewer than 10 spectra.
    """
    flux, ivar = data.flux, data.ivar
    bad = np.flatnonzero(~np.all(np.isfinite(flux) | (ivar == 0), axis=1))
    if bad.size:
        problem = _nan_flux_problem(flux[bad[0]], ivar[bad[0]])
        raise InputError(f"spectrum {data.ids[bad[0]]} {problem}{_in_all(bad.size)}")
    empty = np.flatnonzero(~np.any(ivar > 0, axis=1))
    if empty.size:
        raise InputError(
            f"spectrum {data.ids[empty[0]]} has every pixel masked (ivar = 0)"
            f"{_in_all(empty.size)}; drop it"
        )
    if flux.shape[0] < 10:
        raise InputError(
            f"need at least 10 spectra to learn what is normal, got {flux.shape[0]} (flux of "
            f"shape {flux.shape}{_files_of(data)}); each row of a flux array is one spectrum, "
            "and a 1-D flux array is read as a single spectrum"
        )
    data.flux = np.where(ivar > 0, flux, 0.0)
    return data


def load_images(paths, *, size=32, hdu=None, plane=None, stretch="asinh", skip_bad=False):
    """FITS images ready for a model: read, resized to one size, each mapped to [0, 1].

    Parameters
    ----------
    paths : str, path-like, or sequence of them
        FITS files and directories (see :func:`~skspectra.io.read_fits_images`).
    size : int, default=32
        Side of the square images in pixels; every image is resized to it.
    hdu, plane
        As for :func:`~skspectra.io.read_fits_images`.
    stretch : {'linear', 'asinh', 'log'}, default='asinh'
        Stretch of the :class:`~skspectra.preprocessing.ImageNormalizer` that maps each
        image to [0, 1] between its 0.5th and 99.5th percentiles (``FITS_PERCENTILE``).
    skip_bad : bool, default=False
        Go on past files that cannot be read, instead of stopping at the first; they are
        listed in ``skipped``.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``images`` (n_images, C, size, size) in [0, 1] (NaN = masked), ``ids``
        (n_images,): the file name, or its path where names repeat; ``labels``
        (the metadata DataFrame of :func:`~skspectra.io.read_fits_images`), ``source`` and
        ``preprocessing`` (one line each), ``skipped`` (``{"file", "reason"}`` of each file
        left out with ``skip_bad``).

    Raises
    ------
    InputError
        If a file cannot be read (the message names it).
    """
    from ..preprocessing import ImageNormalizer
    from .images import read_fits_images

    raw, meta = read_fits_images(paths, size=size, hdu=hdu, plane=plane, skip_bad=skip_bad)
    images = ImageNormalizer(stretch=stretch, percentile=FITS_PERCENTILE).fit_transform(raw)
    names = [Path(f).name for f in meta["file"]]
    ids = np.array(
        [n if names.count(n) == 1 else f for n, f in zip(names, meta["file"], strict=True)],
        dtype=object,
    )
    return Bunch(
        images=images,
        ids=ids,
        labels=meta,
        source=f"{len(images)} FITS image(s), resized to {size}x{size}",
        preprocessing=(
            f"ImageNormalizer(stretch={stretch!r}, percentile={FITS_PERCENTILE}): "
            "each image to [0, 1]"
        ),
        skipped=meta.attrs["skipped"],
    )


def load_hubble_sample(size=32):
    """The Hubble Deep Field stamps, in the layout of :func:`load_images`.

    Parameters
    ----------
    size : int, default=32
        Side of the stamps in pixels.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``images`` (n_images, 3, size, size) in [0, 1], used as they are (no
        normalisation); ``ids`` (``hdf0000``...); ``labels`` (the ``sources`` DataFrame:
        ``x``, ``y`` of the stamp centre in the field, ``peak``, ``is_bright_star``);
        ``source`` and ``preprocessing``.

    See Also
    --------
    skspectra.datasets.load_hubble_deep_field : the dataset itself.
    """
    from ..datasets import load_hubble_deep_field

    hdf = load_hubble_deep_field(size=size)
    images = np.asarray(hdf.images, dtype=float)
    labels = hdf.sources.reset_index(drop=True)
    return Bunch(
        images=images,
        ids=np.array([f"hdf{i:04d}" for i in range(len(images))], dtype=object),
        labels=labels,
        source=(
            "load_hubble_deep_field(): stamps cut from scikit-image's Hubble Deep Field "
            "(an 8-bit colour rendering, not calibrated flux)"
        ),
        preprocessing="none: the 8-bit rendering scaled to [0, 1]",
    )


def check_training_images(data):
    """Refuse image sets a model cannot learn from.

    Parameters
    ----------
    data : sklearn.utils.Bunch
        With ``images`` (n_images, C, H, W) and ``ids``, as from :func:`load_images`.

    Returns
    -------
    data : sklearn.utils.Bunch
        The same object.

    Raises
    ------
    InputError
        If an image has no finite pixel (naming it) or there are fewer than 10 images.
    """
    images = np.asarray(data.images)
    empty = np.flatnonzero(~np.isfinite(images).reshape(len(images), -1).any(axis=1))
    if empty.size:
        raise InputError(
            f"image {data.ids[empty[0]]} has no finite pixel (all blank) "
            f"({empty.size} images in all); drop it"
        )
    if len(images) < 10:
        raise InputError(f"need at least 10 images to learn what is normal, got {len(images)}")
    return data


def report_skipped(data, extra):
    """Add ``skipped_files`` (and, for spectra, ``skipped_spectra``) to ``extra`` (for
    run.json) and say on stderr what was left out."""
    import sys

    skipped = list(data.get("skipped", []))
    extra["skipped_files"] = skipped
    if skipped:
        print(
            f"skspectra: skipped {len(skipped)} unreadable file(s) (listed in run.json), "
            f"e.g. {skipped[0]['file']}: {skipped[0]['reason']}",
            file=sys.stderr,
        )
    if "skipped_spectra" in data:
        spectra = list(data.skipped_spectra)
        extra["skipped_spectra"] = spectra
        if spectra:
            print(
                f"skspectra: skipped {len(spectra)} unusable spectra (listed in run.json), "
                f"e.g. {spectra[0]['id']}, which {spectra[0]['reason']}",
                file=sys.stderr,
            )
