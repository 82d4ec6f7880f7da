"""Small helpers shared by the command line and the examples."""

import os
from pathlib import Path

__all__ = ["MAX_DEFAULT_THREADS", "default_n_threads", "unique_path"]

#: Most threads :func:`~skspectra.utils.default_n_threads` proposes, so that the default
#: on a large node does not take every core of what is often a shared machine.
MAX_DEFAULT_THREADS = 8


def default_n_threads():
    """The number of CPU threads to compute with by default: the idle cores this process may use.

    The cores this process may use are ``os.sched_getaffinity(0)`` where the system has it
    (Linux: it follows ``taskset``, cgroup cpusets and batch schedulers' CPU binding), else
    ``os.cpu_count()``. On Linux, the cores that other work keeps busy are left out, from
    their busy time in ``/proc/stat`` over 0.1 s (see :func:`busy_cores`): on two cores with
    one busy, PyTorch's two threads wait on each other at every operation, and training took
    about 5 times longer than with one thread in our measurement (see the scale-out guide).
    At least 1, at most :data:`MAX_DEFAULT_THREADS`. The ``skspectra`` commands use it as
    the default of ``--threads``, and record the number in ``run.json``; pass ``--threads``
    for a run that must not depend on the machine's load.

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
    cpus = allowed_cpus()
    n = len(cpus) if cpus is not None else (os.cpu_count() or 1)
    idle = n - _busy_cores(cpus)
    return max(1, min(n, int(idle + 0.5), MAX_DEFAULT_THREADS))


def allowed_cpus():
    """The CPU numbers this process may run on (``os.sched_getaffinity``), or None where the
    system does not say (macOS, Windows)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def _busy_cores(cpus):
    return busy_cores(cpus)


def busy_cores(cpus, interval=0.1, stat_path="/proc/stat"):
    """How many of ``cpus`` other work keeps busy: the sum of their busy fractions.

    Parameters
    ----------
    cpus : list of int or None
        CPU numbers (``allowed_cpus()``); None gives 0.
    interval : float, default=0.1
        Seconds between the two readings of ``stat_path``.
    stat_path : str, default="/proc/stat"
        Linux's per-CPU time counters.

    Returns
    -------
    busy : float
        Between 0 and ``len(cpus)``: the fraction of ``interval`` each CPU spent on anything
        but idle and I/O wait, summed. 0 where ``stat_path`` cannot be read.
    """
    if not cpus:
        return 0.0
    import time

    def read():
        times = {}
        try:
            with open(stat_path) as f:
                for line in f:
                    name, *fields = line.split()
                    if name.startswith("cpu") and name[3:].isdigit():
                        values = [int(v) for v in fields[:8]]
                        times[int(name[3:])] = (sum(values), values[3] + values[4])
        except (OSError, ValueError, IndexError):
            return {}
        return times

    first = read()
    time.sleep(interval)
    second = read()
    busy = 0.0
    for cpu in cpus:
        if cpu in first and cpu in second:
            total = second[cpu][0] - first[cpu][0]
            idle = second[cpu][1] - first[cpu][1]
            if total > 0:
                busy += min(1.0, max(0.0, (total - idle) / total))
    return busy


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
