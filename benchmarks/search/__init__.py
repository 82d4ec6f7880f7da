"""Searches that choose defaults and baseline settings on the DEV seeds only.

Each module runs as ``python -m benchmarks.search.<name> [--quick]`` from the repository root
and writes ``benchmarks/results/search/<name>.json``. The figures published in the docs come
from other seeds (each benchmark's ``REPORT_SEEDS``).
"""

import json

from benchmarks._common import RESULTS_DIR

__all__ = ["results_path", "write_results"]


def results_path(name, quick=False):
    """``results/search/<name>.json`` (``results/quick/search/`` if quick)."""
    return RESULTS_DIR / ("quick" if quick else "") / "search" / f"{name}.json"


def write_results(name, out, quick=False):
    """Write ``out`` to :func:`results_path`."""
    path = results_path(name, quick)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")
    return path
