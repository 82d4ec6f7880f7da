"""Searches that choose defaults and baseline settings on the DEV seeds only.

Each module runs as ``python -m benchmarks.search.<name> [--quick]`` from the repository root
and writes ``benchmarks/results/search/<name>.json``. The figures published in the docs come
from other seeds (each benchmark's ``REPORT_SEEDS``).
"""

import json

from benchmarks._common import RESULTS_DIR

__all__ = ["write_results"]


def write_results(name, out, quick=False):
    """Write ``out`` to ``results/search/<name>.json`` (``results/quick/search/`` if quick)."""
    folder = RESULTS_DIR / ("quick" if quick else "") / "search"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")
    return path
