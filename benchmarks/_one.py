"""Run one benchmark in this process and write its results file.

The runner (``python -m benchmarks run``) starts ``python -m benchmarks._one NAME OUT
[--quick]`` with ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` and ``OPENBLAS_NUM_THREADS`` set to
the benchmark's ``THREADS``; here torch and threadpoolctl are held to the same count.
"""

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from benchmarks import check_interface, load
from benchmarks._common import git_tree, machine, versions

__all__ = ["jsonable", "main"]


def jsonable(obj):
    """``obj`` with numpy types turned into Python ones and non-finite floats into None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("out", type=Path)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--command", default=None, help="the runner's command line, recorded")
    args = parser.parse_args(argv)

    module = load(args.name)
    check_interface(module)
    threads = int(module.THREADS)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(threads)
    tree, dirty = git_tree()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    facts = machine()
    t0 = time.perf_counter()
    result = module.run(quick=args.quick)
    wall = time.perf_counter() - t0
    payload = {
        "name": args.name,
        "mode": "quick" if args.quick else "full",
        "command": args.command or " ".join(["python -m benchmarks._one", *sys.argv[1:]]),
        "started": started,
        "wall_s": wall,
        "threads": threads,
        "machine": facts,
        "versions": versions(getattr(module, "PEER_PACKAGES", ())),
        "skspectra_tree": tree,
        "skspectra_dirty": dirty,
        "result": result,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(jsonable(payload), indent=1, allow_nan=False) + "\n")
    print(f"benchmarks: {args.name} ({payload['mode']}) took {wall:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
