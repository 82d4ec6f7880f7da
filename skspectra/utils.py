"""Small helpers shared by the command line and the examples."""

import os
from pathlib import Path

__all__ = ["MAX_DEFAULT_THREADS", "default_n_threads", "unique_path"]

#: Most threads :func:`~skspectra.utils.default_n_threads` proposes, so that the default
#: on a large node does not take every core of what is often a shared machine.
MAX_DEFAULT_THREADS = 8


def default_n_threads():
    """The number of CPU threads to compute with by default: the cores this process may use.

    That is ``len(os.sched_getaffinity(0))`` where the system has it (Linux: it follows
    ``taskset``, cgroup cpusets and batch schedulers' CPU binding), else ``os.cpu_count()``,
    at most :data:`MAX_DEFAULT_THREADS`. The ``skspectra`` commands use it as the default of
    ``--threads``; in Python, set threads yourself (see Notes).

    Returns
    -------
    n_threads : int
        At least 1, at most ``MAX_DEFAULT_THREADS``.

    Notes
    -----
    Library users choose threads with ``torch.set_num_threads(n)`` (the networks) and
    ``threadpoolctl.threadpool_limits(n)`` (NumPy/SciPy BLAS and OpenMP), for example::

        import torch
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(default_n_threads())
        with threadpool_limits(default_n_threads()):
            model.fit(X)

    Examples
    --------
    >>> 1 <= default_n_threads() <= MAX_DEFAULT_THREADS
    True
    """
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS and Windows have no sched_getaffinity
        n = os.cpu_count() or 1
    return max(1, min(n, MAX_DEFAULT_THREADS))


def unique_path(path):
    """Return ``path`` if nothing exists there, else the first free ``stem-N`` variant.

    Nothing the user made is ever overwritten: ``run`` becomes ``run-1``,
    ``run-2``...; ``model.joblib`` becomes ``model-1.joblib``.

    Parameters
    ----------
    path : str or pathlib.Path
        The wished-for file or directory name.

    Returns
    -------
    path : pathlib.Path
        A path where nothing exists yet.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "run").mkdir()
    >>> unique_path(d / "run").name
    'run-1'
    """
    path = Path(path)
    if not path.exists():
        return path
    suffix = "".join(path.suffixes) if path.suffix else ""
    stem = path.name[: len(path.name) - len(suffix)] if suffix else path.name
    n = 1
    while True:
        candidate = path.with_name(f"{stem}-{n}{suffix}")
        if not candidate.exists():
            return candidate
        n += 1
