"""``skspectra anomalies --chunk-size N``: find anomalies in more spectra than memory holds.

The spectra are read N at a time by :func:`skspectra.io.chunks.iter_spectrum_chunks`
(``.npy`` files memory-mapped, HDF5 datasets sliced, ``.npz`` members streamed, FITS files
N at a time), put on the wavelength grid of the first chunk (in the rest frame when every
spectrum of it has a redshift) and normalised by their median flux, as
:func:`skspectra.io.load_spectra` does for the whole set. Three passes over the files:

1. check every spectrum and count them (bad input fails before any training);
2. train the SpectralCAE of the in-memory path with ``partial_fit``, one call per chunk,
   ``--epochs`` passes over the files, its learning-rate schedule planned over all the
   calls (a last chunk smaller than N is trained together with the one before it, so that
   the noise scales and latent reference set, recalibrated by each call, come from at least
   N spectra);
3. score every spectrum, chunk by chunk, and set the threshold to the ``contamination``
   quantile of all the scores (:meth:`~skspectra.SpectralCAE.calibrate_offset`).

Memory holds one or two chunks, an id, a score and a source row per spectrum, and the
``--top`` spectra to plot. The report has the files and columns of the in-memory path.
"""

import sys
import time

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from .io._errors import InputError

__all__ = ["anomalies_in_chunks"]

#: The label columns of :func:`skspectra.io.load_spectra` that chunks do not give.
_EMPTY_LABELS = (
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


class _KeptRows:
    """Rows ``index`` of an (n, n_pixels) array whose other rows were not kept: what the
    report reads of ``flux`` and ``ivar`` (its plotted spectra)."""

    def __init__(self, n, index, rows):
        self.shape = (n, rows.shape[1])
        self.rows = {int(i): r for i, r in zip(index, rows, strict=True)}

    def __getitem__(self, key):
        if isinstance(key, slice):
            return np.stack([self.rows[i] for i in range(*key.indices(self.shape[0]))])
        if np.ndim(key) == 0:
            return self.rows[int(key)]
        return np.stack([self.rows[int(i)] for i in key])


def _grid(chunk):
    """(wavelength grid or None, its unit, the frame) of all chunks, from the first one."""
    from .preprocessing import common_wavelength_grid

    w = chunk.wavelength
    if w is None:
        return None, "pixel", "pixel grid (no wavelengths)"
    rows = [w] * len(chunk) if np.ndim(w) == 1 and not isinstance(w, list) else list(w)
    z = chunk.z
    rest = z is not None and bool(np.all(np.isfinite(z)))
    if rest:
        rows = [np.asarray(r) / (1 + zi) for r, zi in zip(rows, z, strict=True)]
    grid = common_wavelength_grid(rows)
    return np.asarray(grid, dtype=float), "Å", "rest frame" if rest else "observed frame"


def _prepared(chunks, metadata):
    """(chunk, flux, ivar) with ivar = 1 where the files give none, as in the in-memory path."""
    from ._cli_score import prepare_chunk

    for chunk in chunks:
        flux, ivar = prepare_chunk(chunk, metadata)
        yield chunk, flux, np.ones_like(flux) if ivar is None else ivar


def _check_pass(args, metadata):
    """Read every spectrum once: ids, source rows, chunk sizes, whether all give ivar."""
    from ._cli_score import _label
    from .io.chunks import iter_spectrum_chunks

    ids, files, rows, z, sizes, has_ivar = [], [], [], [], [], True
    for chunk, flux, _ in _prepared(iter_spectrum_chunks(args.paths, args.chunk_size), metadata):
        ids.append(
            np.asarray(chunk.ids, dtype=object)
            if chunk.ids is not None
            else np.array([_label(chunk, i) for i in range(len(chunk))], dtype=object)
        )
        files.append(chunk.file)
        rows.append(chunk.row)
        z.append(np.full(len(chunk), None, object) if chunk.z is None else chunk.z)
        sizes.append(len(flux))
        has_ivar &= chunk.ivar is not None
    labels = pd.DataFrame({"file": np.concatenate(files), "row": np.concatenate(rows)})
    labels["z"] = np.concatenate(z)
    for name in _EMPTY_LABELS:
        labels[name] = None
    return np.concatenate(ids).astype(str).astype(object), labels, sizes, has_ivar


def _training_calls(chunks, sizes):
    """Prepared (flux, ivar) per ``partial_fit`` call: a last chunk smaller than the one
    before it is joined to it (see :func:`_n_calls`)."""
    merge = _n_calls(sizes) < len(sizes)
    held = None
    for i, (_, flux, ivar) in enumerate(chunks):
        if merge and i == len(sizes) - 2:
            held = (flux, ivar)
            continue
        if merge and i == len(sizes) - 1:
            flux, ivar = np.vstack([held[0], flux]), np.vstack([held[1], ivar])
        yield flux, ivar


def _n_calls(sizes):
    """``partial_fit`` calls per epoch: one per chunk, the last two joined if the last is
    the smaller."""
    return len(sizes) - (1 if len(sizes) > 1 and sizes[-1] < sizes[-2] else 0)


def anomalies_in_chunks(args, run):
    """Run ``skspectra anomalies --chunk-size N``; return (data, model, scores, timings).

    ``data`` is what :func:`~skspectra.anomaly_report.write_anomaly_report` needs, its
    ``flux`` and ``ivar`` holding only the ``--top`` most anomalous spectra.

    Raises
    ------
    InputError
        Without PATHS, with ``--skip-bad`` or ``--resume``, with fewer than 10 spectra, and
        for what :func:`~skspectra._cli_score.prepare_chunk` refuses.
    """
    from .anomaly_report import _anomaly_model
    from .io.chunks import iter_spectrum_chunks

    def log(msg):
        print(msg, file=sys.stderr)

    progress = (lambda msg: None) if args.quiet else log
    for flag, bad in (("PATHS", not args.paths), ("--skip-bad", args.skip_bad)):
        if bad:
            what = "needs PATHS" if flag == "PATHS" else f"does not take {flag}"
            raise InputError(
                f"--chunk-size {what}: it reads files chunk by chunk; drop --chunk-size to "
                "load the data into memory" + (" (the Gaia XP sample)" if flag == "PATHS" else "")
            )
    if run.resume:
        raise InputError("a --chunk-size run keeps no checkpoint to resume; rerun it")
    t0 = time.perf_counter()
    first = next(iter_spectrum_chunks(args.paths, args.chunk_size))
    grid, unit, frame = _grid(first)
    metadata = {"wavelength": grid, "wavelength_unit": unit, "normalize": "median"}
    ids, labels, sizes, has_ivar = _check_pass(args, metadata)
    n, n_pixels = len(ids), len(grid) if grid is not None else np.shape(first.flux)[1]
    if n < 10:
        raise InputError(f"found {n} spectra; training needs at least 10")
    n_files = labels["file"].nunique()
    data = Bunch(
        wavelength=np.arange(n_pixels, dtype=float) if grid is None else grid,
        wavelength_unit=unit,
        ids=ids,
        has_ivar=has_ivar,
        labels=labels,
        source=f"{n_files} file(s), {frame}, normalised by the median flux, read in chunks "
        f"of {args.chunk_size}",
    )
    t_check = time.perf_counter() - t0
    w = data.wavelength
    log(
        f"skspectra: {n} spectra x {n_pixels} pixels ({w.min():.0f}-{w.max():.0f} {unit}) "
        f"in {len(sizes)} chunks from {data.source}"
    )
    run.begin()
    model = _anomaly_model(
        n_pixels,
        contamination=args.contamination,
        max_epochs=args.epochs,
        noise="estimate" if args.ignore_ivar or not has_ivar else "auto",
        random_state=args.random_state,
        verbose=0,
        device=args.device,
        amp=args.amp,
    )
    epochs = model.max_epochs
    model.set_params(max_epochs=epochs * _n_calls(sizes))  # the schedule spans every call
    t1 = time.perf_counter()
    for epoch in range(epochs):
        chunks = _prepared(iter_spectrum_chunks(args.paths, args.chunk_size), metadata)
        for flux, ivar in _training_calls(chunks, sizes):
            model.partial_fit(flux, ivar=ivar)
        progress(f"skspectra: epoch {epoch + 1}/{epochs} ({time.perf_counter() - t1:.0f} s)")
    model.set_params(max_epochs=epochs)
    t2 = time.perf_counter()
    scores, kept = _score_pass(model, args, metadata, n, progress)
    model.calibrate_offset(scores)
    data.flux, data.ivar = (_KeptRows(n, kept["index"], kept[k]) for k in ("flux", "ivar"))
    timings = {"check_s": t_check, "fit_s": t2 - t1, "score_s": time.perf_counter() - t2}
    return data, model, scores, timings


def _score_pass(model, args, metadata, n, progress):
    """Scores of every spectrum, and the ``--top`` lowest-scoring ones' flux and ivar."""
    from .io.chunks import iter_spectrum_chunks

    scores = np.empty(n)
    kept = {"index": np.empty(0, int), "score": np.empty(0), "flux": None, "ivar": None}
    start = 0
    for _, flux, ivar in _prepared(iter_spectrum_chunks(args.paths, args.chunk_size), metadata):
        s = model.score_samples(flux, ivar=ivar)
        scores[start : start + len(s)] = s
        low = np.argsort(s, kind="stable")[: args.top]
        both = {
            "index": np.concatenate([kept["index"], start + low]),
            "score": np.concatenate([kept["score"], s[low]]),
            "flux": flux[low] if kept["flux"] is None else np.vstack([kept["flux"], flux[low]]),
            "ivar": ivar[low] if kept["ivar"] is None else np.vstack([kept["ivar"], ivar[low]]),
        }
        best = np.argsort(both["score"], kind="stable")[: args.top]
        kept = {k: v[best] for k, v in both.items()}
        start += len(s)
        progress(f"skspectra: {start}/{n} spectra scored")
    return scores, kept
