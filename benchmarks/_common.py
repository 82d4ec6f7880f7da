"""Small helpers shared by the ``bench_*.py`` scripts: timing, markdown tables, JSON output.

Benchmarks are scripts, never imported by the tests. Import this module from a benchmark as
``from _common import ...`` (Python puts the script's own folder first on ``sys.path``).
"""

import json
import platform
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

__all__ = [
    "RESULTS_DIR",
    "Timer",
    "environment",
    "fmt_mean_std",
    "markdown_table",
    "timed",
    "write_json",
]

#: Where benchmarks write their JSON (git-ignored).
RESULTS_DIR = Path(__file__).resolve().parent / "results"


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


def fmt_mean_std(values, digits=3):
    """``"0.953 ± 0.012"`` for a list of numbers (just the value for one; ``"–"`` for none)."""
    values = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    if values.size == 0:
        return "–"
    if values.size == 1:
        return f"{values[0]:.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=0):.{digits}f}"


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


def environment():
    """Versions and machine facts worth keeping next to timings."""
    import importlib.metadata as md

    info = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }
    for pkg in ("numpy", "scikit-learn", "torch", "skorch", "skspectra"):
        try:
            info[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            info[pkg] = None
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    return info


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def write_json(payload, name):
    """Write ``payload`` to ``benchmarks/results/<name>`` (NaN → null); return the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / name
    path.write_text(json.dumps(_jsonable(payload), indent=2) + "\n")
    return path
