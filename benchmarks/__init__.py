"""skspectra's benchmarks: one runner, results files, and tables generated from them.

Run from the repository root::

    python -m benchmarks list                  # the benchmarks
    python -m benchmarks run [NAME ...]        # full runs -> benchmarks/results/NAME.json
    python -m benchmarks run --quick [NAME ...]  # smoke runs -> benchmarks/results/quick/
    python -m benchmarks report [--check]      # write (or check) the tables in the docs

Each benchmark is a module ``benchmarks/bench_<name>.py`` with ``NAME``, ``THREADS``,
``DEV_SEEDS``, ``REPORT_SEEDS``, ``run(quick) -> dict`` and ``tables(result) -> dict``; see
``benchmarks/README.md``.
"""

from pathlib import Path

__all__ = ["available", "load"]

_HERE = Path(__file__).resolve().parent


def available():
    """Names of the benchmarks, from the ``bench_<name>.py`` files, sorted."""
    return sorted(p.stem.removeprefix("bench_") for p in _HERE.glob("bench_*.py"))


def load(name):
    """Import ``benchmarks.bench_<name>``.

    Raises
    ------
    ValueError
        If there is no such benchmark.
    """
    import importlib

    if name not in available():
        raise ValueError(
            f"unknown benchmark {name!r}; choose from {', '.join(available())} "
            "(python -m benchmarks list)."
        )
    return importlib.import_module(f"benchmarks.bench_{name}")
