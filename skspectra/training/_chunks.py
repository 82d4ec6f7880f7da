"""Out-of-core training: ``partial_fit`` over chunks of an array larger than memory."""

import mmap
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["fit_in_chunks"]


def _n_rows(a, name):
    shape = getattr(a, "shape", None)
    if shape is None or len(shape) < 2:
        raise ValueError(
            f"{name} must be a 2-D (or image) array with a shape, such as a numpy array, "
            f"np.memmap, h5py Dataset or dask array; got {type(a).__name__}."
        )
    return int(shape[0])


def _read(a, start, stop):
    """Rows ``start:stop`` of ``a`` as an in-memory numpy array (a dask chunk is computed)."""
    return None if a is None else np.array(a[start:stop])


def _drop_mapped_pages(a):
    """Unmap the pages a read of a ``np.memmap`` opened for reading mapped into this process.

    The page cache keeps them, but mapped pages count in the process's resident memory,
    so without this a pass over a memmap grows RSS to the file's size. ``np.memmap`` keeps
    its ``mmap.mmap`` (views included) as ``_mmap``; a copy-on-write (``mode='c'``) map
    holds private changes, which this would drop, so it is left alone.
    """
    handle = getattr(a, "_mmap", None)
    if isinstance(a, np.memmap) and a.mode in ("r", "r+") and hasattr(handle, "madvise"):
        handle.madvise(mmap.MADV_DONTNEED)


def fit_in_chunks(
    estimator, X, y=None, *, ivar=None, chunk_size=10_000, n_epochs=None, random_state=None
):
    """Train ``estimator`` on ``X`` one chunk of rows at a time, for data larger than memory.

    Each epoch visits the chunks in a random order and calls
    ``estimator.partial_fit`` once per chunk; only one chunk (and its copies
    inside the estimator) is in memory at a time. The first chunk visited
    initialises the estimator (standardisation, PCA start), so chunks should
    each be a fair sample of the data: shuffle the rows on disk if they are
    sorted (by survey field, brightness, ...).

    Parameters
    ----------
    estimator : estimator with ``partial_fit``
        A skspectra estimator (or any estimator with ``partial_fit``). Unfitted,
        it is initialised from the first chunk; fitted, training continues.
    X : array-like of shape (n_samples, n_features) or (n_samples, ...)
        Anything sliced by rows into numpy arrays: ``np.ndarray``,
        ``np.memmap``, an ``h5py.Dataset``, a ``zarr`` array or a
        ``dask.array.Array`` (each chunk is computed on its own).
    y : array-like of shape (n_samples, ...), default=None
        Targets, sliced alongside ``X``; None for unsupervised estimators.
    ivar : array-like of the shape of X, default=None
        Inverse variance of ``X``, sliced alongside it and passed to
        ``partial_fit`` as ``ivar``.
    chunk_size : int, default=10_000
        Rows per ``partial_fit`` call. Peak memory grows with it, not with
        ``n_samples``; with ``batch_size`` it also sets how many optimizer
        steps each chunk gives.
    n_epochs : int, default=None
        Passes over ``X``. None: the estimator's ``max_epochs`` when it has
        one (the epochs ``fit`` would train), else 1.
    random_state : int, RandomState instance or None, default=None
        Seeds the order in which chunks are visited.

    Returns
    -------
    estimator : estimator
        The same estimator, trained.

    Raises
    ------
    ValueError
        If ``X`` has no 2-D shape, ``y`` or ``ivar`` has another number of
        rows, ``chunk_size`` or ``n_epochs`` is not a positive int, or
        ``estimator`` has no ``partial_fit``; and whatever ``partial_fit``
        raises for a chunk.

    Notes
    -----
    For a skspectra estimator the learning-rate schedule spans the whole run:
    ``max_epochs`` is set to the number of ``partial_fit`` calls it makes
    (``n_epochs`` × number of chunks) for the run and restored afterwards.
    Each call recalibrates the anomaly threshold (``offset_``) and noise
    scales on its chunk, so they come from the last chunk visited; to put
    the threshold at the ``contamination`` quantile of the whole data set,
    score every chunk and pass the scores to the estimator's
    ``calibrate_offset``.

    Peak resident memory grows with ``chunk_size``, not with ``n_samples``:
    pages of a ``np.memmap`` opened with ``mode='r'`` or ``'r+'`` are unmapped
    after each chunk is read, and other inputs are read chunk by chunk into
    new arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from skspectra import SpectralCAE
    >>> from skspectra.training import fit_in_chunks
    >>> X = np.random.default_rng(0).normal(size=(200, 32))
    >>> cae = SpectralCAE(n_components=2, n_filters=2, depth=1, random_state=0)
    >>> cae = fit_in_chunks(cae, X, chunk_size=50, n_epochs=2, random_state=0)
    >>> cae.transform(X[:3]).shape
    (3, 2)
    """
    if not hasattr(estimator, "partial_fit"):
        raise ValueError(
            f"{type(estimator).__name__} has no partial_fit, so it cannot train chunk by "
            "chunk; load the data and call fit."
        )
    for name, value in (("chunk_size", chunk_size), ("n_epochs", n_epochs)):
        bad = not isinstance(value, Integral) or isinstance(value, bool) or value < 1
        if bad and not (name == "n_epochs" and value is None):
            raise ValueError(f"{name} must be an int >= 1, got {value!r}.")
    n = _n_rows(X, "X")
    for name, other in (("y", y), ("ivar", ivar)):
        if other is not None and len(other) != n:
            raise ValueError(f"{name} has {len(other)} rows but X has {n}; give one per row of X.")
    params = estimator.get_params(deep=False)
    planned = "max_epochs" in params
    if n_epochs is None:
        n_epochs = params["max_epochs"] if planned else 1
    starts = np.arange(0, n, chunk_size)
    rng = check_random_state(random_state)
    if planned:
        estimator.set_params(max_epochs=int(n_epochs * len(starts)))
    try:
        for _ in range(n_epochs):
            for start in rng.permutation(starts):
                stop = min(start + chunk_size, n)
                kwargs = {} if ivar is None else {"ivar": _read(ivar, start, stop)}
                chunk = _read(X, start, stop)
                _drop_mapped_pages(X)
                _drop_mapped_pages(ivar)
                estimator.partial_fit(chunk, _read(y, start, stop), **kwargs)
                del chunk, kwargs
    finally:
        if planned:
            estimator.set_params(max_epochs=params["max_epochs"])
    return estimator
