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

__all__ = ["available", "check_interface", "load"]

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


def check_interface(module):
    """Check that a benchmark module follows the runner's interface.

    Raises
    ------
    ValueError
        If ``NAME``, ``THREADS``, ``DEV_SEEDS``, ``REPORT_SEEDS``, ``run`` or ``tables`` is
        missing, ``THREADS`` is not 1 or 2, there are fewer than 3 report seeds, or a seed is
        both a dev and a report seed (defaults must not be chosen on the reported runs).
    """
    name = getattr(module, "__name__", repr(module))
    missing = [
        a
        for a in ("NAME", "THREADS", "DEV_SEEDS", "REPORT_SEEDS", "run", "tables")
        if not hasattr(module, a)
    ]
    if missing:
        raise ValueError(f"{name} lacks {', '.join(missing)}: see benchmarks/README.md.")
    if module.THREADS not in (1, 2):
        raise ValueError(f"{name}: THREADS must be 1 or 2, got {module.THREADS!r}.")
    if len(set(module.REPORT_SEEDS)) < 3:
        raise ValueError(f"{name}: publish at least 3 REPORT_SEEDS, got {module.REPORT_SEEDS}.")
    shared = sorted(set(module.DEV_SEEDS) & set(module.REPORT_SEEDS))
    if shared:
        raise ValueError(
            f"{name}: seeds {shared} are both DEV_SEEDS and REPORT_SEEDS; make them disjoint."
        )
