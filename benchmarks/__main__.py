"""``python -m benchmarks {list, run, report}``: see ``benchmarks/README.md``."""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import available, load
from benchmarks._common import RESULTS_DIR, ROOT


def _list(args):
    for name in available():
        try:
            module = load(name)
        except Exception as err:  # a benchmark that does not import yet: say so, list the rest
            print(f"{name:<20} (does not import: {type(err).__name__}: {err})")
            continue
        if not all(hasattr(module, a) for a in ("THREADS", "run", "tables")):
            print(f"{name:<20} (not on the runner's interface: no THREADS, run or tables)")
            continue
        doc = (module.__doc__ or "").strip().splitlines()
        print(f"{name:<20} {module.THREADS} thread(s)  {doc[0] if doc else ''}")
    return 0


def _run(args):
    names = args.names or available()
    for name in names:
        load(name)  # fails early, with the list of names, on a typo
    out_dir = RESULTS_DIR / "quick" if args.quick else RESULTS_DIR
    command = " ".join(["python -m benchmarks run", *(["--quick"] if args.quick else [])])
    failed = []
    for name in names:
        threads = str(load(name).THREADS)
        env = {
            **os.environ,
            "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        cmd = [sys.executable, "-m", "benchmarks._one", name, str(out_dir / f"{name}.json")]
        cmd += ["--command", f"{command} {name}"] + (["--quick"] if args.quick else [])
        print(f"benchmarks: running {name} ({threads} thread(s))...", flush=True)
        t0 = time.perf_counter()
        status = subprocess.run(cmd, cwd=ROOT, env=env).returncode
        if status != 0:
            failed.append(name)
            print(
                f"benchmarks: {name} FAILED (exit {status}) after {time.perf_counter() - t0:.0f} s"
            )
    if failed:
        print(f"benchmarks: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _report(args):
    from benchmarks._report import check, update

    results_dir = args.results or RESULTS_DIR
    root = args.root or ROOT
    if args.check:
        problems = check(root, results_dir, strict=args.strict)
        for p in problems:
            print(f"benchmarks report --check: {p}", file=sys.stderr)
        if problems:
            return 1
        print("benchmarks report --check: every table matches its results file")
        return 0
    problems = update(root, results_dir)
    for p in problems:
        print(f"benchmarks report: {p}", file=sys.stderr)
    return 1 if problems else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the benchmarks")
    run = sub.add_parser("run", help="run benchmarks, each in its own process")
    run.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    run.add_argument(
        "--quick", action="store_true", help="smoke runs into benchmarks/results/quick/"
    )
    report = sub.add_parser("report", help="write the tables into README.md and docs/")
    report.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if anything is out of date"
    )
    report.add_argument(
        "--strict",
        action="store_true",
        help="with --check: every results file measured on the current skspectra/ tree "
        "(by default one from an older tree passes if no file its benchmark can reach changed)",
    )
    report.add_argument(
        "--results",
        type=Path,
        default=None,
        help="results folder (default: benchmarks/results)",
    )
    report.add_argument(
        "--root",
        type=Path,
        default=None,
        help="where README.md, benchmarks/README.md and docs/ are (default: this checkout)",
    )
    args = parser.parse_args(argv)
    return {"list": _list, "run": _run, "report": _report}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
