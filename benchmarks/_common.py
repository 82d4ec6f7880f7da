"""Helpers shared by the benchmarks: timing, mean ± sd, markdown tables, machine and versions.

Inside the ``benchmarks`` package import them as ``from benchmarks._common import ...``.
"""

import os
import platform
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

__all__ = [
    "RESULTS_DIR",
    "ROOT",
    "Timer",
    "fmt_mean_std",
    "git_tree",
    "machine",
    "markdown_table",
    "mean_sd",
    "timed",
    "versions",
]

#: The repository root (the folder that holds ``benchmarks/`` and ``skspectra/``).
ROOT = Path(__file__).resolve().parents[1]
#: Where full runs write ``NAME.json`` (committed); quick runs write into ``quick/`` (ignored).
RESULTS_DIR = ROOT / "benchmarks" / "results"

#: Packages whose versions every results file records (others are added by the benchmarks).
VERSIONED = ("numpy", "scipy", "scikit-learn", "torch", "skorch", "skspectra", "threadpoolctl")


class Timer:
    """Wall-clock stopwatch: ``with Timer() as t: ...`` then ``t.seconds``."""

    def __enter__(self):
        self._start = time.perf_counter()
        self.seconds = float("nan")
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        return False


@contextmanager
def timed(record, key):
    """Add the seconds spent in the ``with`` block to ``record[key]``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        record[key] = record.get(key, 0.0) + time.perf_counter() - start


def _finite(values):
    return np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float).reshape(
        -1
    )


def mean_sd(values):
    """``{"mean": m, "sd": s, "n": k}`` of the finite values (population sd; None if empty).

    This is the form every published figure takes in a result's ``"summary"``.
    """
    v = _finite(values)
    if v.size == 0:
        return {"mean": None, "sd": None, "n": 0}
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=0)), "n": int(v.size)}


def fmt_mean_std(values, digits=3):
    """Format a figure as ``"0.953 ± 0.012"``.

    Parameters
    ----------
    values : list of float, dict or float
        Per-seed values, a ``{"mean", "sd", "n"}`` dict from :func:`mean_sd`, or one number.
    digits : int, default=3
        Decimals.

    Returns
    -------
    text : str
        ``"m ± s"`` for two or more values, the value alone for one, ``"–"`` for none.
    """
    if isinstance(values, dict):
        if values.get("mean") is None:
            return "–"
        if values.get("n", 1) < 2:
            return f"{values['mean']:.{digits}f}"
        return f"{values['mean']:.{digits}f} ± {values['sd']:.{digits}f}"
    if values is None or np.isscalar(values):
        values = [values]
    return fmt_mean_std(mean_sd(values), digits)


def markdown_table(header, rows, align=None):
    """A GitHub markdown table as a string.

    Parameters
    ----------
    header : list of str
        Column titles.
    rows : list of list
        Cells; converted with ``str``.
    align : str, default=None
        One character per column, ``"l"`` or ``"r"``; default: first column left, others right.
    """
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---" if a == "l" else "---:" for a in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine():
    """The machine a benchmark ran on: CPU model, cores, CPU affinity, load average, platform."""
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    load = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    return {
        "cpu_model": _cpu_model(),
        "n_cores": os.cpu_count(),
        "affinity": affinity,
        "load_avg_start": load,
        "platform": platform.platform(),
    }


def versions(extra=()):
    """Python's and the packages' versions (None for a package that is not installed)."""
    import importlib.metadata as md

    out = {"python": sys.version.split()[0]}
    for pkg in (*VERSIONED, *extra):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


def _git(*args, root=ROOT):
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {root}: {proc.stderr.strip()}")
    return proc.stdout


def git_tree(root=ROOT):
    """``(tree, dirty)``: ``git rev-parse HEAD:skspectra`` and whether ``skspectra/`` has changes.

    Raises
    ------
    RuntimeError
        If ``root`` is not a git checkout with a ``skspectra/`` folder in HEAD.
    """
    tree = _git("rev-parse", "HEAD:skspectra", root=root).strip()
    dirty = bool(_git("status", "--porcelain", "--", "skspectra", root=root).strip())
    return tree, dirty
