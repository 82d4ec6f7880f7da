"""Scoring arrays larger than memory, chunk by chunk.

scikit-learn's ``validate_data`` turns its input into one in-memory array: called on a
``np.memmap`` of 10⁶ spectra it reads all of them into RAM (and copies them again to
float64). :func:`score_in_chunks` hands an estimator one slice at a time instead, so that
peak memory is set by ``chunk_size``, not by the size of the survey. Only the output (one
score per spectrum, or one row per spectrum for ``transform``/``predict``) is kept whole.

Every skspectra estimator scores each spectrum on its own, so the chunked result equals one
call on the whole array, to float64 rounding (relative differences below 1e-12) with the
default float64 inference: chunks group spectra into other batches, and on some CPUs BLAS sums
a small batch in another order.
"""

import mmap
from numbers import Integral

import numpy as np

__all__ = ["DEFAULT_CHUNK_SIZE", "iter_chunks", "score_in_chunks"]

#: Spectra per chunk by default: 4,000-pixel float32 spectra make 64 MB per chunk, and the
#: estimator's float64 copies and residuals a few times that.
DEFAULT_CHUNK_SIZE = 4096

_METHODS = ("score_samples", "decision_function", "predict", "transform", "reconstruct")


def iter_chunks(n_samples, chunk_size):
    """Yield ``slice`` objects that cover ``range(n_samples)`` in steps of ``chunk_size``."""
    for start in range(0, n_samples, chunk_size):
        yield slice(start, min(start + chunk_size, n_samples))


class _PageReleaser:
    """Drops the pages of an ``np.memmap`` that are already scored from this process's memory.

    Pages of a memory-mapped file that have been read stay resident, and count in the RSS,
    until the kernel needs the memory back: scanning a 1.4 GB memmap would otherwise show
    1.4 GB of RSS however small the chunks. ``madvise(MADV_DONTNEED)`` unmaps them (the file's
    data stay in the page cache and on disk). Copy-on-write memmaps (``mode="c"``) are left
    alone, since that would discard their changes; other inputs are not memmaps and do nothing.
    """

    def __init__(self, X):
        self.mm = None
        mm = getattr(X, "_mmap", None)
        if (
            isinstance(X, np.memmap)
            and mm is not None
            and getattr(X, "mode", "c") != "c"
            and X.flags.c_contiguous
            and hasattr(mm, "madvise")
            and hasattr(mmap, "MADV_DONTNEED")
        ):
            try:
                view = np.frombuffer(mm, dtype=np.uint8)
                self.base = view.ctypes.data
                del view
                self.mm = mm
            except (TypeError, ValueError, BufferError):
                self.mm = None

    def release(self, X, rows):
        if self.mm is None:
            return
        chunk = X[rows]
        start = chunk.ctypes.data - self.base
        aligned = start - start % mmap.PAGESIZE
        length = min(start + chunk.nbytes, len(self.mm)) - aligned
        if aligned >= 0 and length > 0:
            try:
                self.mm.madvise(mmap.MADV_DONTNEED, aligned, length)
            except (OSError, ValueError):
                self.mm = None


def _check_chunk_size(chunk_size):
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, Integral) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}.")
    return int(chunk_size)


def score_in_chunks(
    estimator,
    X,
    *,
    method="score_samples",
    chunk_size=DEFAULT_CHUNK_SIZE,
    ivar=None,
    out=None,
    progress=None,
):
    """Apply ``estimator.<method>`` to ``X`` one chunk of rows at a time.

    Parameters
    ----------
    estimator : fitted estimator
        Any fitted estimator or :class:`~sklearn.pipeline.Pipeline` with ``method``.
    X : array-like of shape (n_samples, ...)
        Flux ``(n_samples, n_wavelengths)`` or images ``(n_samples, ...)``. Anything that
        slices along its first axis into numpy arrays: an ``ndarray``, a ``np.memmap``, an
        ``h5py.Dataset``. Only one chunk of it is in memory at a time.
    method : str, default="score_samples"
        The estimator method to call, e.g. ``"score_samples"``, ``"decision_function"``,
        ``"predict"`` or ``"transform"``.
    chunk_size : int, default=4096
        Rows per call. Peak memory grows linearly with it.
    ivar : array-like of shape (n_samples, n_wavelengths), default=None
        Inverse variance of ``X`` in flux⁻² (0 = masked), sliced like ``X`` and passed to the
        method as ``ivar=``. Its chunks must have the shape of ``X``'s.
    out : ndarray, default=None
        Where to write the result, e.g. a ``np.memmap`` opened with ``mode="w+"`` when even
        the output does not fit in memory. Its shape must be that of the result.
    progress : callable, default=None
        Called as ``progress(n_done, n_samples)`` after each chunk.

    Returns
    -------
    result : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        What ``getattr(estimator, method)(X)`` returns, row for row (``out`` when given).

    Raises
    ------
    ValueError
        If ``chunk_size`` is not a positive integer, ``X`` has no rows, ``ivar`` has another
        number of rows than ``X``, or the estimator has no method ``method``. The
        estimator's own errors (wrong number of pixels, NaN flux...) are raised as they are,
        with the chunk's first row number added.

    Notes
    -----
    sklearn's validation copies its whole input into memory, so calling
    ``estimator.score_samples(memmap)`` on 10⁶ spectra of 343 pixels needs about 2.7 GB for the
    float64 copy alone, and an estimator's intermediate arrays several times that; through
    this function the peak is set by ``chunk_size`` (``benchmarks/bench_score.py`` measures
    both). For an ``np.memmap``, the pages of rows already scored are released with
    ``madvise(MADV_DONTNEED)``, so that the mapped file does not pile up in the process's
    resident memory either.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> X = np.random.default_rng(0).normal(size=(1000, 20))
    >>> pca = PCA(n_components=3).fit(X)
    >>> Z = score_in_chunks(pca, X, method="transform", chunk_size=256)
    >>> bool(np.allclose(Z, pca.transform(X)))
    True
    """
    chunk_size = _check_chunk_size(chunk_size)
    func = getattr(estimator, method, None)
    if func is None or not callable(func):
        raise ValueError(
            f"{type(estimator).__name__} has no method {method!r}; choose one of the methods "
            f"it has, e.g. {', '.join(m for m in _METHODS if hasattr(estimator, m)) or 'predict'}."
        )
    n_samples = len(X) if not hasattr(X, "shape") else int(X.shape[0])
    if n_samples == 0:
        raise ValueError("X has no rows (0 spectra); nothing to score.")
    if ivar is not None and (len(ivar) if not hasattr(ivar, "shape") else ivar.shape[0]) != (
        n_samples
    ):
        raise ValueError(
            f"ivar has {ivar.shape[0]} rows but X has {n_samples}; give one ivar row per spectrum."
        )
    result = out
    pages = [(_PageReleaser(a), a) for a in (X, ivar) if a is not None]
    for rows in iter_chunks(n_samples, chunk_size):
        xb = np.asarray(X[rows])
        kwargs = {} if ivar is None else {"ivar": np.asarray(ivar[rows])}
        try:
            part = np.asarray(func(xb, **kwargs))
        except ValueError as exc:
            if n_samples <= chunk_size:
                raise
            raise ValueError(f"rows {rows.start}-{rows.stop - 1}: {exc}") from exc
        if result is None:
            result = np.empty((n_samples, *part.shape[1:]), dtype=part.dtype)
        elif rows.start == 0 and result.shape != (n_samples, *part.shape[1:]):
            raise ValueError(
                f"out has shape {result.shape} but the result has shape "
                f"{(n_samples, *part.shape[1:])}."
            )
        result[rows] = part
        for releaser, array in pages:
            releaser.release(array, rows)
        if progress is not None:
            progress(rows.stop, n_samples)
    return result
