"""Chunked scoring: throughput and peak memory of scoring many spectra, chunked vs in memory.

Protocol
--------
A small SpectralCAE (``SMALL``, 2 epochs, float32 inference) is trained once on the shipped
Gaia XP sample (3,000 stars, 343 pixels) and saved with :func:`skspectra.io.save_model`, with
the wavelength grid and the median normalisation that ``skspectra score`` applies. Per seed, a
survey is drawn from those stars (each row a random star times a random flux scale in
[0.5, 2], float32, with its ivar) and written as an ``.npz`` of ``N_CLI`` rows and as two
``.npy`` memmaps (flux, ivar) of ``N_MEMMAP`` rows. Each measurement runs in a fresh process
with one torch thread, which reports its own peak RSS (``VmHWM`` of ``/proc/self/status``):

- ``floor``: import skspectra, load the model, score 10 spectra: the memory every run pays;
- ``in-memory``: ``np.load`` the arrays whole, then ``model.score_samples(flux, ivar=ivar)``;
- ``memmap, no chunks``: ``model.score_samples(memmap, ivar=memmap)`` (sklearn's validation
  copies the whole memmap into memory);
- ``score_in_chunks``: :func:`skspectra.scoring.score_in_chunks` over the memmaps;
- ``skspectra score``: the command line (``skspectra.cli.main``, in that process) on the
  ``.npz`` (streamed, resampled, normalised, ranked, written to CSV).

Timings are of scoring only (not imports or model loading; for the command, the time it
reports). No setting is tuned here, so there are no dev seeds.
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

from benchmarks._common import ROOT, fmt_mean_std, mean_sd

NAME = "score"
THREADS = 1
DEV_SEEDS = []
REPORT_SEEDS = [0, 1, 2]
N_CLI = 50_000
N_MEMMAP = 200_000
CHUNK = 4096
#: Quick mode: one seed, small files (a smoke run, not a result).
QUICK = {"seeds": 1, "n_cli": 5_000, "n_memmap": 20_000}
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


def _survey(gaia, n, seed):
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


def _write_data(folder, gaia, n_cli, n_memmap, seed):
    shape = (max(n_cli, n_memmap), gaia.flux.shape[1])
    flux = np.lib.format.open_memmap(folder / "flux.npy", "w+", np.float32, shape)
    ivar = np.lib.format.open_memmap(folder / "ivar.npy", "w+", np.float32, shape)
    start = 0
    for f, v in _survey(gaia, shape[0], seed):
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


#: The measurements of one seed: (run, number of spectra key, chunk size).
PLAN = (
    ("floor", None, CHUNK),
    ("in-memory", "n_cli", CHUNK),
    ("memmap, no chunks", "n_cli", CHUNK),
    ("score_in_chunks", "n_cli", CHUNK),
    ("score_in_chunks", "n_cli", CHUNK // 4),
    ("score_in_chunks", "n_memmap", CHUNK),
    ("skspectra score", "n_cli", CHUNK),
)


def _label(kind, n, chunk):
    chunked = kind in ("score_in_chunks", "skspectra score")
    return f"{kind}, {n:,} spectra" + (f", chunks of {chunk:,}" if chunked else "")


def run(quick):
    seeds = REPORT_SEEDS[: QUICK["seeds"]] if quick else REPORT_SEEDS
    sizes = {
        "n_cli": QUICK["n_cli"] if quick else N_CLI,
        "n_memmap": QUICK["n_memmap"] if quick else N_MEMMAP,
    }
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    per_seed = []
    with tempfile.TemporaryDirectory(prefix="bench_score_") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        _, gaia = _train(folder, "small")
        train_s = time.perf_counter() - t0
        for seed in seeds:
            _write_data(folder, gaia, sizes["n_cli"], sizes["n_memmap"], seed)
            runs = {}
            for kind, n_key, chunk in PLAN:
                n = 10 if n_key is None else sizes[n_key]
                cmd = [
                    sys.executable,
                    "-m",
                    "benchmarks.bench_score",
                    "--child",
                    kind,
                    str(folder),
                    str(n),
                    str(chunk),
                ]
                report, wall = _measure(cmd, env)
                key = "floor" if n_key is None else _label(kind, n, chunk)
                runs[key] = {
                    "n": n,
                    "seconds": report["seconds"],
                    "wall_s": wall,
                    "peak_rss_mb": report["peak_rss_mb"],
                }
            per_seed.append({"seed": seed, "runs": runs})
    keys = [k for k in per_seed[0]["runs"] if k != "floor"]
    summary = {"floor_mb": mean_sd([s["runs"]["floor"]["peak_rss_mb"] for s in per_seed])}
    for key in keys:
        rs = [s["runs"][key] for s in per_seed]
        floor = [s["runs"]["floor"]["peak_rss_mb"] for s in per_seed]
        base = [s["runs"][_label("in-memory", sizes["n_cli"], CHUNK)] for s in per_seed]
        summary[key] = {
            "spectra_per_s": mean_sd([r["n"] / r["seconds"] for r in rs]),
            "x_in_memory": mean_sd(
                [
                    (r["n"] / r["seconds"]) / (b["n"] / b["seconds"])
                    for r, b in zip(rs, base, strict=True)
                ]
            ),
            "peak_rss_mb": mean_sd([r["peak_rss_mb"] for r in rs]),
            "above_floor_mb": mean_sd(
                [r["peak_rss_mb"] - f for r, f in zip(rs, floor, strict=True)]
            ),
        }
    return {
        "protocol": __doc__.split("Protocol\n--------\n", 1)[1].strip(),
        "data": f"surveys drawn from load_gaia_xp() (343 pixels, float32 with ivar): "
        f"{sizes['n_cli']:,} rows in .npz, {sizes['n_memmap']:,} rows in memmaps",
        "seeds": seeds,
        "sizes": sizes,
        "model": {**SMALL, "max_epochs": 2, "inference_dtype": "float32"},
        "per_seed": per_seed,
        "summary": summary,
        "timings": {"train_s": train_s},
    }


def tables(result):
    s = result["result"]["summary"]
    rows = [
        [
            key,
            fmt_mean_std(e["spectra_per_s"], 0),
            fmt_mean_std(e["x_in_memory"], 2),
            fmt_mean_std(e["peak_rss_mb"], 0),
            fmt_mean_std(e["above_floor_mb"], 0),
        ]
        for key, e in s.items()
        if key != "floor_mb"
    ]
    return {
        "summary": {
            "header": ["run", "spectra/s", "× in-memory", "peak RSS (MB)", "above floor (MB)"],
            "rows": rows,
            "caption": "Scoring with a small SpectralCAE, float32 inference, 1 torch thread; "
            f"the floor (imports + model) is {fmt_mean_std(s['floor_mb'], 0)} MB "
            "(mean ± sd over seeds)",
        }
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=4, required=True, help="kind folder n chunk (internal)")
    args = parser.parse_args(argv)
    kind, folder, n, chunk = args.child
    return _child(kind, folder, int(n), int(chunk))


if __name__ == "__main__":
    sys.exit(main())
