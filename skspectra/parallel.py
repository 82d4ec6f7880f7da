"""Survey-scale inference on Dask arrays, and multi-process training with accelerate.

A fitted skspectra estimator is applied block by block to a
:class:`dask.array.Array`, so that scoring 10⁶–10⁸ spectra runs on every core
of a machine, or on a :class:`dask.distributed` cluster, with no more than a
few blocks in memory at once. Dask is what the survey-scale astronomy tools
(LSDB, HATS catalogues) already run on.

The estimator travels to the workers once, as one task of the graph, and not
once per block. Inference in skspectra is float64 by default, so the result
equals calling the method on the whole array in memory to float64 rounding
(relative differences below 1e-12). It is not bit-identical on every CPU: the
blocks group samples into other batches, and BLAS libraries choose their
kernels, hence the order of their sums, by problem size and instruction set.

Training on several GPUs (or CPU processes) goes through Hugging Face
accelerate and skorch's :class:`~skorch.hf.AccelerateMixin`: see
:func:`accelerated`.
"""

import contextlib
import contextvars
import ctypes
import os
import sys

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["accelerated", "score_dask"]

_ACCELERATOR = contextvars.ContextVar("skspectra_accelerator", default=None)

_METHODS = ("score_samples", "decision_function", "predict", "transform", "reconstruct")


#: glibc's mallopt parameters, and the values its dynamic mmap threshold reaches on 64-bit
#: Linux (DEFAULT_MMAP_THRESHOLD_MAX; the trim threshold follows at twice the mmap threshold).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 * 2**20
_MALLOC_ENV = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_")
_allocator_restored = False


def _restore_dynamic_mmap_threshold():
    """Give inference back the allocator it has in an ordinary process, in a Dask worker.

    dask.distributed's nanny starts every worker with ``MALLOC_TRIM_THRESHOLD_=65536``, so that
    freed memory goes back to the operating system at once. In glibc, setting that variable
    (or ``mallopt``) also switches off the *dynamic* mmap threshold: every allocation above
    128 KiB, such as one layer's activations for a batch, then maps fresh pages and unmaps them
    when freed, and the page faults cost more than the convolutions. In one process, scoring
    4,000 Gaia XP-sized spectra ran at half the speed with that variable set.

    This sets the two thresholds to what glibc's dynamic threshold would reach (32 MiB for
    mmap, twice that for trimming), once per process, and only in a process started with one
    of glibc's malloc variables set, as Dask's workers are: an ordinary process keeps
    glibc's defaults. Elsewhere than Linux with glibc it does nothing.
    """
    global _allocator_restored
    if _allocator_restored:
        return
    _allocator_restored = True
    if not sys.platform.startswith("linux") or not any(v in os.environ for v in _MALLOC_ENV):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt  # glibc; musl has no mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, 2 * _MMAP_THRESHOLD)


def _apply(block, estimator, method, ivar_block=None, **kwargs):
    _restore_dynamic_mmap_threshold()
    if ivar_block is not None:
        kwargs["ivar"] = ivar_block
    return np.asarray(getattr(estimator, method)(block, **kwargs))


def score_dask(estimator, X, *, ivar=None, method="score_samples", chunk_size=None, **kwargs):
    """Apply a fitted estimator's inference method to a Dask array, block by block.

    Parameters
    ----------
    estimator : fitted skspectra estimator
        For example a fitted :class:`~skspectra.SpectralCAE`.
    X : dask.array.Array or array-like of shape (n_samples, n_pixels) or (n_samples, ...)
        Flux (or images). The sample axis may be chunked freely; the other axes
        are brought into one chunk, since a spectrum is scored whole. A NumPy
        array or memmap is wrapped with :func:`dask.array.from_array`.
    ivar : dask.array.Array or array-like of the same shape as ``X``, optional
        Inverse variance (0 = masked), for the methods that take it. It is
        rechunked to match ``X``.
    method : {"score_samples", "decision_function", "predict", "transform", \
"reconstruct"}, default="score_samples"
        The estimator's method to apply.
    chunk_size : int, optional
        Samples per block. By default, ``X``'s chunks are kept (and an array
        that is not yet a Dask array is cut into blocks of 10,000 samples).
    **kwargs
        Passed on to the method, e.g. ``return_std=False``.

    Returns
    -------
    result : dask.array.Array of shape (n_samples,) or (n_samples, ...)
        Lazy: call ``.compute()``, or write it with ``dask.array.to_zarr`` /
        ``to_hdf5``. Its blocks follow ``X``'s sample chunks.

    Raises
    ------
    ValueError
        If ``method`` is not one of the above or the estimator lacks it,
        if ``ivar``'s shape differs from ``X``'s, or if ``X`` has no samples.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.

    Examples
    --------
    >>> import dask.array as da
    >>> from dask.distributed import Client, LocalCluster
    >>> cluster = LocalCluster(n_workers=4, threads_per_worker=1)  # doctest: +SKIP
    >>> client = Client(cluster)                                    # doctest: +SKIP
    >>> flux = da.from_zarr("survey_flux.zarr")                     # doctest: +SKIP
    >>> scores = score_dask(model, flux).compute()                  # doctest: +SKIP
    """
    import dask
    import dask.array as da

    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if not hasattr(estimator, method):
        raise ValueError(
            f"{type(estimator).__name__} has no {method!r} method; "
            f"choose one of: {[m for m in _METHODS if hasattr(estimator, m)]}"
        )
    check_is_fitted(estimator)
    X = _as_dask(X, chunk_size)
    if X.ndim < 2 or X.shape[0] == 0:
        raise ValueError(
            f"X must have shape (n_samples, n_pixels) with n_samples >= 1, got {X.shape}"
        )
    X = X.rechunk({0: chunk_size or X.chunks[0], **{i: -1 for i in range(1, X.ndim)}})
    args = []
    if ivar is not None:
        ivar = _as_dask(ivar, None)
        if ivar.shape != X.shape:
            raise ValueError(f"ivar has shape {ivar.shape} but X has shape {X.shape}")
        args = [ivar.rechunk(X.chunks)]

    # The output's trailing shape and dtype, from the first sample.
    first = _apply(X[:1].compute(), estimator, method, *(a[:1].compute() for a in args), **kwargs)
    trailing = first.shape[1:]
    model = dask.delayed(estimator, pure=True, traverse=False)
    kept = list(range(1, 1 + len(trailing)))
    dropped = [i for i in range(1, X.ndim) if i not in kept]
    new = [i for i in kept if i >= X.ndim]
    chunks = (X.chunks[0],) + tuple((n,) for n in trailing)
    return da.map_blocks(
        _apply,
        X,
        model,
        method,
        *args,
        dtype=first.dtype,
        chunks=chunks,
        drop_axis=dropped or None,
        new_axis=new or None,
        meta=np.empty((0,) + trailing, dtype=first.dtype),
        **kwargs,
    )


def _as_dask(X, chunk_size):
    import dask.array as da

    if isinstance(X, da.Array):
        return X
    X = X if hasattr(X, "shape") and hasattr(X, "dtype") else np.asarray(X)
    return da.from_array(X, chunks=(chunk_size or 10_000,) + (-1,) * (X.ndim - 1))


@contextlib.contextmanager
def accelerated(accelerator):
    """Train skspectra estimators with a Hugging Face ``accelerate.Accelerator``.

    Inside the ``with`` block, every ``fit`` trains through skorch's
    :class:`~skorch.hf.AccelerateMixin`: the accelerator places the network,
    shards the batches across processes (DistributedDataParallel, NCCL on
    GPUs, gloo on CPUs) and applies its mixed precision. Launch the script
    with ``accelerate launch`` (or ``torchrun``); every process runs it, and
    all of them end with the same weights. After ``fit`` the estimator is an
    ordinary one: it pickles, saves and predicts without the accelerator.

    The estimators' own parameters are unchanged, so ``clone`` and
    ``GridSearchCV`` see the same model with or without it.

    Parameters
    ----------
    accelerator : accelerate.Accelerator
        For example ``Accelerator(mixed_precision="bf16")`` on GPUs, or
        ``Accelerator(cpu=True)`` for processes on CPU cores.

    Raises
    ------
    TypeError
        If ``accelerator`` is not an ``accelerate.Accelerator``.

    Examples
    --------
    Save as ``train.py`` and run ``accelerate launch --multi_gpu --num_processes 4 train.py``
    (``--num_processes 2`` with ``Accelerator(cpu=True)`` runs on CPU cores with gloo):

    >>> from accelerate import Accelerator                       # doctest: +SKIP
    >>> from skspectra import SpectralCAE
    >>> from skspectra.parallel import accelerated
    >>> accelerator = Accelerator()                              # doctest: +SKIP
    >>> with accelerated(accelerator):                           # doctest: +SKIP
    ...     model = SpectralCAE(random_state=0).fit(flux, ivar=ivar)
    >>> if accelerator.is_main_process:                          # doctest: +SKIP
    ...     skspectra.io.save_model(model, "cae-model")
    """
    try:
        from accelerate import Accelerator
    except ImportError as exc:  # pragma: no cover - accelerate is in the dev extra
        raise ImportError(
            "accelerated() needs Hugging Face accelerate: pip install accelerate"
        ) from exc
    if not isinstance(accelerator, Accelerator):
        raise TypeError(
            f"accelerator must be an accelerate.Accelerator, got {type(accelerator).__name__}"
        )
    token = _ACCELERATOR.set(accelerator)
    try:
        yield accelerator
    finally:
        _ACCELERATOR.reset(token)


def _training_net(net_class, device):
    """The skorch net class to train with, and its device keyword arguments.

    ``net_class`` (a :class:`skorch.NeuralNet` subclass) on ``device``, or,
    inside :func:`accelerated`, a subclass with skorch's ``AccelerateMixin``
    that leaves device placement and mixed precision to the accelerator.
    """
    accelerator = _ACCELERATOR.get()
    if accelerator is None:
        return net_class, {"device": device}
    from skorch.hf import AccelerateMixin

    class AcceleratedNet(AccelerateMixin, net_class):
        def _initialize_accelerator(self):
            # accelerate wraps every module in DistributedDataParallel, which refuses
            # modules without trainable parameters, such as our losses: leave those out.
            criteria = self._criteria
            self._criteria = [
                name
                for name in criteria
                if any(p.requires_grad for p in getattr(self, name + "_").parameters())
            ]
            try:
                return super()._initialize_accelerator()
            finally:
                self._criteria = criteria

    return AcceleratedNet, {"accelerator": accelerator, "device": None}


def _release(net):
    """After training: the same net as an instance of the class it was built on, without
    the accelerator (which does not pickle), on the device the accelerator trained on."""
    accelerator = getattr(net, "accelerator", None)
    if accelerator is None:
        return net
    from accelerate.optimizer import AcceleratedOptimizer
    from accelerate.scheduler import AcceleratedScheduler

    accelerator.wait_for_everyone()
    for name in net._optimizers:
        optimizer = getattr(net, name + "_")
        if isinstance(optimizer, AcceleratedOptimizer):
            setattr(net, name + "_", optimizer.optimizer)
    for _, callback in net.callbacks_:
        for attr in ("policy_", "lr_scheduler_"):
            schedule = getattr(callback, attr, None)
            if isinstance(schedule, AcceleratedScheduler) or isinstance(
                getattr(schedule, "optimizer", None), AcceleratedOptimizer
            ):
                # it holds the accelerated optimizer; skorch makes a new one if training resumes
                setattr(callback, attr, None)
        if getattr(callback, "sink", None) == accelerator.print:
            callback.sink = print
    if "callbacks__print_log__sink" in vars(net):
        net.callbacks__print_log__sink = print
    for attr in ("accelerator", "unwrap_after_train", "_wrapped_with_accelerator"):
        vars(net).pop(attr, None)
    net.__class__ = type(net).__bases__[1]  # AcceleratedNet(AccelerateMixin, net_class)
    net.device = str(accelerator.device)
    return net
