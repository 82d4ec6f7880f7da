"""Throughput and peak memory of scoring many spectra: chunked vs in memory.

```
PYTHONPATH=. python benchmarks/bench_score.py                    # 1e5 by the CLI, 1e6 memmap
PYTHONPATH=. python benchmarks/bench_score.py --quick            # 2e4 / 1e5: a smoke run
PYTHONPATH=. python benchmarks/bench_score.py --model anomalies  # the `skspectra anomalies` model
```

A SpectralCAE is trained on the shipped Gaia XP sample (3,000 stars, 343 pixels) and saved
with :func:`skspectra.io.save_model`, with the wavelength grid and the median normalisation
that ``skspectra score`` applies. A survey is made from those stars (each row a random star
times a random flux scale, float32, with its ivar) and written as an ``.npz`` of ``--n-cli``
rows and as two ``.npy`` memmaps (flux, ivar) of ``--n-memmap`` rows. Then each run happens in
a fresh process, which reports its own peak RSS (``VmHWM`` of ``/proc/self/status``, which
counts every resident page, file-backed ones included; ``ru_maxrss`` of a child would start
from this parent's size at fork):

- ``floor``: import skspectra, load the model, score 10 spectra: the memory every run pays;
- ``in-memory``: ``np.load`` the arrays whole, then ``model.score_samples(flux, ivar=ivar)``;
- ``memmap, no chunks``: ``model.score_samples(memmap, ivar=memmap)``: sklearn's validation
  copies the whole memmap into memory;
- ``score_in_chunks``: :func:`skspectra.scoring.score_in_chunks` over the memmaps;
- ``skspectra score``: the command line (``skspectra.cli.main``, in that process) on the
  ``.npz`` (streamed, resampled, normalised, ranked, written to CSV).

Timings are of scoring only (not imports or model loading; for the CLI the time it reports).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import environment, markdown_table, write_json

ROOT = Path(__file__).resolve().parents[1]
#: Small model: the memory bound does not depend on the network, and it keeps 1e6 spectra in
#: about a minute on a loaded 2-core machine.
SMALL = dict(n_components=8, n_filters=4, depth=2, anomaly_score="residual")


def _train(folder, kind):
    import torch

    from skspectra import SpectralCAE
    from skspectra.datasets import load_gaia_xp
    from skspectra.io import save_model

    torch.set_num_threads(1)
    gaia = load_gaia_xp()
    params = SMALL if kind == "small" else {}
    model = SpectralCAE(
        **params, max_epochs=2, inference_dtype="float32", contamination=0.01, random_state=0
    )
    model.fit(gaia.flux, ivar=gaia.ivar)
    meta = {"wavelength": gaia.wavelength, "wavelength_unit": "Å", "normalize": "median"}
    return save_model(model, folder / "model.zip", metadata=meta), gaia


def _survey(gaia, n, seed=0):
    """Rows of random stars times random scales, float32, in blocks (no n x 343 float64)."""
    rng = np.random.default_rng(seed)
    for start in range(0, n, 50_000):
        m = min(50_000, n - start)
        idx = rng.integers(0, len(gaia.flux), m)
        scale = rng.uniform(0.5, 2.0, (m, 1))
        yield (
            (gaia.flux[idx] * scale).astype(np.float32),
            (gaia.ivar[idx] / scale**2).astype(np.float32),
        )


def _write_data(folder, gaia, n_cli, n_memmap):
    shape = (max(n_cli, n_memmap), gaia.flux.shape[1])
    flux = np.lib.format.open_memmap(folder / "flux.npy", "w+", np.float32, shape)
    ivar = np.lib.format.open_memmap(folder / "ivar.npy", "w+", np.float32, shape)
    start = 0
    for f, v in _survey(gaia, shape[0]):
        flux[start : start + len(f)], ivar[start : start + len(f)] = f, v
        start += len(f)
    flux.flush(), ivar.flush()
    np.savez(
        folder / "survey.npz", flux=flux[:n_cli], ivar=ivar[:n_cli], wavelength=gaia.wavelength
    )
    del flux, ivar


# -- children -----------------------------------------------------------------------------------
def _peak_rss_mb():
    """This process's peak resident memory (VmHWM, Linux), in MB."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(kind, folder, n, chunk_size):
    """Run one measurement in this (fresh) process; print its timing and peak RSS as JSON."""
    import torch

    from skspectra.io import load_model
    from skspectra.scoring import score_in_chunks

    torch.set_num_threads(1)
    folder = Path(folder)
    if kind == "skspectra score":  # the command line, run in this process
        import contextlib
        import io

        from skspectra.cli import main

        args = ["score", "--model", str(folder / "model.zip"), str(folder / "survey.npz")]
        args += ["--out", str(folder / "scores.csv"), "--chunk-size", str(chunk_size)]
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            status = main([*args, "--threads", "1", "--quiet"])
        if status != 0:
            raise SystemExit(err.getvalue())
        seconds = float(re.search(r" in ([0-9.]+) s \(", err.getvalue()).group(1))
        print(json.dumps({"seconds": seconds, "peak_rss_mb": _peak_rss_mb()}))
        return 0
    model = load_model(folder / "model.zip")
    flux_mm = np.load(folder / "flux.npy", mmap_mode="r")[:n]
    ivar_mm = np.load(folder / "ivar.npy", mmap_mode="r")[:n]
    model.score_samples(np.asarray(flux_mm[:10]), ivar=np.asarray(ivar_mm[:10]))
    t0 = time.perf_counter()
    if kind == "floor":
        scores = np.zeros(n)
    elif kind == "in-memory":
        flux, ivar = np.array(flux_mm), np.array(ivar_mm)
        t0 = time.perf_counter()
        scores = model.score_samples(flux, ivar=ivar)
    elif kind == "memmap, no chunks":
        scores = model.score_samples(flux_mm, ivar=ivar_mm)
    elif kind == "score_in_chunks":
        scores = score_in_chunks(model, flux_mm, ivar=ivar_mm, chunk_size=chunk_size)
    seconds = time.perf_counter() - t0
    out = {"seconds": seconds, "peak_rss_mb": _peak_rss_mb(), "checksum": float(scores[:9].sum())}
    print(json.dumps(out))
    return 0


def _measure(cmd, env):
    """Run ``cmd``; return its JSON report and the wall seconds."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-cli", type=int, default=100_000)
    parser.add_argument("--n-memmap", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=4096)
    parser.add_argument("--model", choices=("small", "anomalies"), default="small")
    parser.add_argument("--quick", action="store_true", help="2e4 via the CLI, 1e5 memmap")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, folder, n, chunk = args.child
        return _child(kind, folder, int(n), int(chunk))
    if args.quick:
        args.n_cli, args.n_memmap = 20_000, 100_000

    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench_score_") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        _, gaia = _train(folder, args.model)
        print(f"trained the {args.model} model in {time.perf_counter() - t0:.0f} s", flush=True)
        t0 = time.perf_counter()
        _write_data(folder, gaia, args.n_cli, args.n_memmap)
        size_gb = 2 * args.n_memmap * gaia.flux.shape[1] * 4 / 1e9
        print(
            f"wrote the survey ({size_gb:.2f} GB of memmaps) in {time.perf_counter() - t0:.0f} s",
            flush=True,
        )
        c = args.chunk_size
        plan = [
            ("floor", 10, c),
            ("in-memory", args.n_cli, c),
            ("memmap, no chunks", args.n_cli, c),
            ("score_in_chunks", args.n_cli, c),
            ("score_in_chunks", args.n_cli, c // 4),
            ("score_in_chunks", args.n_memmap, c),
            ("skspectra score", args.n_cli, c),
        ]
        for kind, n, chunk in plan:
            cmd = [sys.executable, __file__, "--child", kind, str(folder), str(n), str(chunk)]
            report, wall = _measure(cmd, env)
            seconds, rss = report["seconds"], report["peak_rss_mb"]
            run = {
                "run": kind,
                "n": n,
                "chunk_size": chunk if kind in ("score_in_chunks", "skspectra score") else None,
                "seconds": seconds,
                "wall_s": wall,
                "peak_rss_mb": rss,
            }
            runs.append(run)
            print(f"  {kind:<20} n={n:>8}  {seconds:7.1f} s  peak RSS {rss:7.0f} MB", flush=True)
    floor = runs[0]["peak_rss_mb"]
    base = next(r for r in runs if r["run"] == "in-memory")
    rows = []
    for r in runs[1:]:
        rate = r["n"] / r["seconds"]
        rows.append(
            [
                r["run"],
                f"{r['n']:,}",
                r["chunk_size"] or "–",
                f"{r['seconds']:.1f}",
                f"{rate:,.0f}",
                f"{rate / (base['n'] / base['seconds']):.2f}",
                f"{r['peak_rss_mb']:,.0f}",
                f"{r['peak_rss_mb'] - floor:,.0f}",
            ]
        )
    print()
    print(
        f"Model: {args.model} SpectralCAE, float32 inference, 343 pixels; torch threads = 1. "
        f"Floor (imports + model): {floor:,.0f} MB. Machine shared by several jobs (loaded): "
        "compare ratios, not absolute rates."
    )
    print(
        markdown_table(
            [
                "run",
                "spectra",
                "chunk",
                "scoring s",
                "spectra/s",
                "× in-memory",
                "peak RSS MB",
                "above floor MB",
            ],
            rows,
        )
    )
    path = write_json(
        {"environment": environment(), "args": vars(args), "floor_mb": floor, "runs": runs},
        f"score_{args.model}.json",
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
