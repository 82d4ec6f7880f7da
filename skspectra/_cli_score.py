"""``skspectra score --model FILE PATHS...``: score new spectra with a saved model.

The spectra are read, prepared and scored ``--chunk-size`` at a time, so memory holds one
chunk of spectra plus one output row per spectrum, whatever the size of the survey. A model
saved by ``skspectra anomalies --save-model`` carries its training wavelength grid and
normalisation; new spectra are put on that grid and normalised the same way before they are
scored. A model saved with :func:`skspectra.io.save_model` without that metadata gets the
flux as it is in the files.
"""

import inspect
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from .io._errors import InputError

__all__ = ["add_score_parser", "prepare_chunk", "score"]

_OUTPUT_SUFFIXES = (".csv", ".parquet")
_METHODS = ("score_samples", "decision_function", "predict", "transform")


def add_score_parser(sub, positive_int):
    """Register ``skspectra score`` on the sub-parsers ``sub``; return its parser."""
    from .scoring import DEFAULT_CHUNK_SIZE

    score = sub.add_parser(
        "score",
        help="score new spectra with a saved model, in chunks, into a ranked table",
        description=(
            "Load a model saved with --save-model (or skspectra.io.save_model), score the "
            "spectra in PATHS chunk by chunk with bounded memory, and write one row per "
            "spectrum, most anomalous first, to a CSV or Parquet file."
        ),
    )
    score.add_argument("--model", type=Path, required=True, metavar="FILE", help="model file")
    score.add_argument(
        "paths",
        nargs="+",
        metavar="PATHS",
        help="FITS files, .npz/.npy arrays (flux, optional ivar, wavelength, ids, z), HDF5 "
        "datasets as FILE.h5:/path/to/flux (ivar, wavelength, ids, z beside it), or "
        "directories of them",
    )
    score.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FILE",
        help="output table, .csv or .parquet; a free name is chosen if it exists "
        "(default: skspectra-scores-DATE-TIME.csv)",
    )
    score.add_argument(
        "--chunk-size",
        type=positive_int,
        default=DEFAULT_CHUNK_SIZE,
        help=f"spectra per chunk; memory grows with it (default: {DEFAULT_CHUNK_SIZE})",
    )
    score.add_argument(
        "--method",
        choices=_METHODS,
        default=None,
        help="model method to apply (default: score_samples, or predict for a regressor)",
    )
    score.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return score


def _check_output(path):
    from .utils import unique_path

    path = path or Path(f"skspectra-scores-{datetime.now():%Y%m%d-%H%M%S}.csv")
    if path.suffix.lower() not in _OUTPUT_SUFFIXES:
        raise InputError(f"--out must end in .csv or .parquet, got {path.name}")
    if path.suffix.lower() == ".parquet":
        try:
            import pyarrow.parquet  # noqa: F401
        except ImportError as exc:
            raise ImportError("writing Parquet needs pyarrow: pip install pyarrow") from exc
    return unique_path(path)


def _accepts_ivar(func):
    try:
        return "ivar" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


def prepare_chunk(chunk, metadata):
    """Flux and ivar of a chunk, on the model's wavelength grid and normalised as in training.

    Parameters
    ----------
    chunk : skspectra.io.chunks.SpectrumChunk
        Spectra as read from the files.
    metadata : dict
        From ``load_model(..., return_metadata=True)``: ``wavelength`` (the training grid, Å,
        or pixel indices) and ``normalize`` (``"median"``) when the model came from
        ``skspectra anomalies``; empty otherwise (the flux is used as it is).

    Returns
    -------
    flux : ndarray of shape (n, n_pixels)
    ivar : ndarray of shape (n, n_pixels) or None
        None when the files give no inverse variance.

    Raises
    ------
    ValueError
        If the spectra cannot be put on the grid, have NaN flux at unmasked pixels or no
        usable pixel, naming the first such spectrum.
    """
    from .preprocessing import normalize_spectra, resample_spectra

    grid = metadata.get("wavelength")
    flux, ivar, mask, w = chunk.flux, chunk.ivar, chunk.mask, chunk.wavelength
    has_ivar = ivar is not None
    _check_finite(chunk)
    by_angstrom = grid is not None and metadata.get("wavelength_unit", "Å") == "Å"
    if by_angstrom and w is not None:
        z = chunk.z
        rest = z is not None and bool(np.all(np.isfinite(z)))
        flux, ivar = resample_spectra(
            w, flux, ivar, mask=mask, new_wavelength=grid, z=z if rest else None
        )
    else:
        flux = _stack(flux, grid, chunk)
        ivar = None if ivar is None else np.asarray(_stack(ivar, grid, chunk), dtype=float)
        if mask is not None and ivar is not None:
            ivar = np.where(np.vstack(mask), 0.0, ivar)
    flux = np.asarray(flux, dtype=float)
    if not metadata.get("normalize") and flux.ndim != 2:
        return flux, ivar  # images or other arrays: as they are
    ivar_or_ones = np.ones_like(flux) if ivar is None else ivar
    ivar_or_ones = np.where(np.isfinite(flux), ivar_or_ones, 0.0)
    empty = np.flatnonzero(~np.any(ivar_or_ones > 0, axis=1))
    if empty.size:
        raise InputError(
            f"spectrum {_label(chunk, empty[0])} has no usable pixel ({empty.size} in this "
            "chunk); drop it"
        )
    if metadata.get("normalize") == "median":
        flux, ivar_or_ones, _ = normalize_spectra(
            np.where(ivar_or_ones > 0, flux, np.nan), ivar_or_ones
        )
        flux = np.nan_to_num(flux)
    elif ivar is None and (ivar_or_ones == 0).any():
        flux = np.where(ivar_or_ones > 0, flux, 0.0)
    return flux, (ivar_or_ones if has_ivar or (ivar_or_ones == 0).any() else None)


def _check_finite(chunk):
    """NaN flux is only acceptable where the file masks the pixel (ivar = 0), as in training
    (:func:`skspectra.io.load_spectra`)."""
    from .io.loading import _nan_flux_problem

    ivar = chunk.ivar
    for i, flux in enumerate(chunk.flux):
        problem = _nan_flux_problem(flux, None if ivar is None else ivar[i], skip_hint=False)
        if problem is not None:
            raise InputError(f"spectrum {_label(chunk, i)} {problem}")


def _stack(rows, grid, chunk):
    """Rows without wavelengths: one pixel grid, which must be the model's if it has one."""
    if isinstance(rows, list):
        lengths = {len(r) for r in rows}
        if len(lengths) > 1:
            raise InputError(
                f"spectra in {chunk.file[0]} and the files after it differ in length "
                f"({sorted(lengths)} pixels) and give no wavelengths; add a 'wavelength' array"
            )
        rows = np.vstack(rows)
    if grid is not None and rows.shape[-1] != len(grid):
        raise InputError(
            f"{chunk.file[0]} gives {rows.shape[-1]} pixels and no wavelengths, but the model "
            f"was trained on {len(grid)}; add a 'wavelength' array so they can be resampled"
        )
    return rows


def _label(chunk, i):
    if chunk.ids is not None:
        return str(chunk.ids[i])
    return f"{Path(str(chunk.file[i])).name}#{chunk.row[i]}"


def score(args):
    """Run ``skspectra score``; return the exit status."""
    from .io import load_model
    from .io.chunks import iter_spectrum_chunks
    from .scoring import score_in_chunks

    out = _check_output(args.out)
    t0 = time.perf_counter()
    model, metadata = load_model(args.model, device="cpu", return_metadata=True)
    method = args.method or ("score_samples" if hasattr(model, "score_samples") else "predict")
    if not hasattr(model, method):
        raise InputError(f"the model ({type(model).__name__}) has no method {method}")
    func = getattr(model, method)
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    log(
        f"skspectra: {type(model).__name__} from {args.model}; {method} in chunks of "
        f"{args.chunk_size}"
    )
    parts, n_done, n_files = [], 0, set()
    for chunk in iter_spectrum_chunks(args.paths, args.chunk_size):
        flux, ivar = prepare_chunk(chunk, metadata)
        if ivar is not None and chunk.ivar is None and getattr(model, "noise", None) == "auto":
            model.set_params(noise="estimate")  # ivar is only a mask here: estimate the noise
        kwargs = {"ivar": ivar} if ivar is not None and _accepts_ivar(func) else {}
        try:
            result = score_in_chunks(
                model, flux, method=method, chunk_size=args.chunk_size, **kwargs
            )
        except ValueError as exc:
            raise InputError(f"{_label(chunk, 0)} and the next {len(chunk) - 1}: {exc}") from exc
        ids = chunk.ids if chunk.ids is not None else [_label(chunk, i) for i in range(len(chunk))]
        parts.append((np.asarray(ids, dtype=object), chunk.file, chunk.row, result))
        n_done += len(chunk)
        n_files.update(np.unique(chunk.file).tolist())
        log(f"skspectra: {n_done} spectra scored ({n_done / (time.perf_counter() - t0):.0f}/s)")
    seconds = time.perf_counter() - t0
    table, n_anomalies = _table(parts, model, method)
    _write(table, out)
    rate = n_done / seconds if seconds > 0 else float("inf")
    summary = f"; {n_anomalies} anomalies" if n_anomalies is not None else ""
    print(
        f"skspectra: {n_done} spectra from {len(n_files)} file(s) in {seconds:.1f} s "
        f"({rate:.0f} spectra/s){summary}; table in {out}",
        file=sys.stderr,
    )
    return 0


def _table(parts, model, method):
    """The output as a pyarrow Table: ranked for scores, in input order otherwise."""
    import pyarrow as pa

    ids, files, rows, results = (np.concatenate(p) for p in zip(*parts, strict=True))
    columns = {"id": ids.astype(str), "file": files.astype(str), "row": rows}
    n_anomalies = None
    if method in ("score_samples", "decision_function") and results.ndim == 1:
        order = np.argsort(results, kind="stable")  # the lower, the more anomalous
        threshold = getattr(model, "offset_", None) if method == "score_samples" else 0.0
        columns = {
            "rank": np.arange(1, len(order) + 1),
            **{k: v[order] for k, v in columns.items()},
        }
        columns["score"] = results[order]
        if threshold is not None:
            columns["is_anomaly"] = results[order] < threshold
            n_anomalies = int(np.sum(columns["is_anomaly"]))
    elif results.ndim == 1:
        columns[method] = results
    else:
        names = _output_names(model, method, results.shape[1])
        columns.update({name: results[:, k] for k, name in enumerate(names)})
    table = pa.table(columns)
    return table.set_column(
        table.schema.get_field_index("file"), "file", table["file"].dictionary_encode()
    ), n_anomalies


def _output_names(model, method, n):
    if method == "transform" and hasattr(model, "get_feature_names_out"):
        try:
            return [str(s) for s in model.get_feature_names_out()]
        except (AttributeError, ValueError, TypeError):
            pass
    return [f"{method}_{k}" for k in range(n)]


def _write(table, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        import pyarrow.csv as pcsv

        pcsv.write_csv(table, path)
