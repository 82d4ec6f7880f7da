"""Searches that choose defaults and baseline settings on the DEV seeds only.

Each module runs as ``python -m benchmarks.search.<name> [--quick]`` from the repository root
and writes ``benchmarks/results/search/<name>.json``. The figures published in the docs come
from other seeds (each benchmark's ``REPORT_SEEDS``).
"""
