"""Out-of-core training and scoring: peak memory and throughput over an HDF5 file of spectra.

Run through the runner: ``python -m benchmarks run out_of_core [--quick]``.

Protocol
--------
A survey of ``N_SPECTRA`` spectra of the Gaia XP shape (343 pixels, float32) is written once
to an HDF5 dataset (h5py, contiguous, no compression) in a temporary directory: each row is a
star of the shipped sample (``load_gaia_xp()``, 3,000 stars) drawn at random, times a flux
scale drawn in [0.5, 2], plus Gaussian noise of the star's own ivar (zero where it is masked).
The rows are i.i.d., so any run of chunks is a fair sample; the file holds flux only and the
model estimates the noise from its residuals (``noise="estimate"``). The data are drawn with
the first report seed. Each measurement runs in a fresh process with ``THREADS`` torch (and
BLAS) threads, which reports its own peak RSS (``VmHWM`` of ``/proc/self/status``, the
high-water mark so far) after each step:

- ``floor``: import skspectra and h5py, open the file, build the model: what every run pays;
- ``in memory`` (one process, first seed): read the whole dataset into a numpy array (what
  ``fit`` or ``score_samples`` would need before they start; no model is run);
- per seed, one process: ``fit_in_chunks``, :func:`skspectra.training.fit_in_chunks` of a
  small SpectralCAE (``SMALL`` of the chunked-scoring benchmark, float32 inference,
  ``random_state`` = seed) over the first ``TRAIN_CHUNKS`` chunks of ``CHUNK`` rows of the
  file, one pass, chunks in a seeded random order (a pass over all ``N_SPECTRA`` does not fit
  the time budget: the spectra seen are ``TRAIN_CHUNKS`` × ``CHUNK``); then
  ``score_in_chunks``, :func:`skspectra.scoring.score_in_chunks` of that model over all
  ``N_SPECTRA`` rows of the file, ``CHUNK`` at a time.

Figures: spectra per second of each step (time of the step only), the peak RSS after it and
its excess over the floor, beside the size of the dataset, so that the bound is visible: the
chunked steps stay a chunk's worth above the floor while the in-memory read grows by the data
size. Also the fraction of the spectra flagged with the threshold ``fit_in_chunks`` leaves
(``offset_`` of the last training chunk, contamination 0.01). No setting is tuned here, so
there are no dev seeds.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._common import ROOT, fmt_mean_std, mean_sd
from benchmarks.bench_score import SMALL, _peak_rss_mb

NAME = "out_of_core"
THREADS = 1
DEV_SEEDS = []
REPORT_SEEDS = [0, 1, 2]

N_SPECTRA = {"full": 1_000_000, "quick": 30_000}
CHUNK = {"full": 4_096, "quick": 5_000}
TRAIN_CHUNKS = {"full": 5, "quick": 2}
N_PIXELS = 343
DATASET = "flux"


def write_survey(path, n, seed, block=50_000):
    """Write ``n`` noisy copies of Gaia XP stars (float32) to ``path:/flux``; return its MB."""
    import h5py

    from skspectra.datasets import load_gaia_xp

    gaia = load_gaia_xp()
    rng = np.random.default_rng(seed)
    sigma = np.where(gaia.ivar > 0, 1 / np.sqrt(np.maximum(gaia.ivar, 1e-30)), 0.0)
    with h5py.File(path, "w") as f:
        flux = f.create_dataset(DATASET, shape=(n, N_PIXELS), dtype=np.float32)
        for start in range(0, n, block):
            m = min(block, n - start)
            idx = rng.integers(0, len(gaia.flux), m)
            scale = rng.uniform(0.5, 2.0, (m, 1))
            noisy = gaia.flux[idx] + rng.normal(size=(m, N_PIXELS)) * sigma[idx]
            flux[start : start + m] = (noisy * scale).astype(np.float32)
    return n * N_PIXELS * 4 / 1e6


class _FirstRows:
    """The first ``n`` rows of an array, sliced on demand (``fit_in_chunks`` over part of a
    file: h5py slices are read, not views)."""

    def __init__(self, array, n):
        self.array, self.shape = array, (n, *array.shape[1:])

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, key):
        start, stop, _ = key.indices(self.shape[0])
        return self.array[start:stop]


def _child(step, path, seed, chunk, n_train, threads):
    """One measurement in this (fresh) process; print its figures as JSON."""
    import h5py
    import torch

    from skspectra import SpectralCAE
    from skspectra.scoring import score_in_chunks
    from skspectra.training import fit_in_chunks

    torch.set_num_threads(threads)
    out = {}
    with h5py.File(path, "r") as f:
        flux = f[DATASET]
        model = SpectralCAE(
            **SMALL, noise="estimate", inference_dtype="float32", contamination=0.01,
            random_state=seed,
        )  # fmt: skip
        out["floor"] = {"peak_rss_mb": _peak_rss_mb()}
        if step == "in memory":
            t0 = time.perf_counter()
            whole = flux[:]
            out["in memory"] = {"n": len(whole), "seconds": time.perf_counter() - t0}
            out["in memory"]["peak_rss_mb"] = _peak_rss_mb()
            del whole
        else:
            t0 = time.perf_counter()
            fit_in_chunks(
                model, _FirstRows(flux, n_train), chunk_size=chunk, n_epochs=1,
                random_state=seed,
            )  # fmt: skip
            out["fit_in_chunks"] = {"n": n_train, "seconds": time.perf_counter() - t0}
            out["fit_in_chunks"]["peak_rss_mb"] = _peak_rss_mb()
            t0 = time.perf_counter()
            scores = score_in_chunks(model, flux, chunk_size=chunk)
            out["score_in_chunks"] = {"n": len(scores), "seconds": time.perf_counter() - t0}
            out["score_in_chunks"]["peak_rss_mb"] = _peak_rss_mb()
            out["flagged_fraction"] = float(np.mean(scores < model.offset_))
    print(json.dumps(out))
    return 0


def _measure(step, path, seed, chunk, n_train, threads):
    args = [step, path, seed, chunk, n_train, threads]
    cmd = [sys.executable, "-m", "benchmarks.bench_out_of_core", *map(str, args)]
    threads = str(threads)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(quick: bool) -> dict:
    mode = "quick" if quick else "full"
    return measure(N_SPECTRA[mode], CHUNK[mode], TRAIN_CHUNKS[mode], THREADS)


def measure(n, chunk, train_chunks, threads):
    """:func:`run` for ``n`` spectra, chunks of ``chunk``, training on ``train_chunks``."""
    n_train = train_chunks * chunk
    with tempfile.TemporaryDirectory(prefix="bench_out_of_core_") as tmp:
        path = Path(tmp) / "survey.h5"
        t0 = time.perf_counter()
        data_mb = write_survey(path, n, REPORT_SEEDS[0])
        write_s = time.perf_counter() - t0
        in_memory = _measure("in memory", path, REPORT_SEEDS[0], chunk, n_train, threads)
        per_seed = {
            seed: _measure("out of core", path, seed, chunk, n_train, threads)
            for seed in REPORT_SEEDS
        }
    summary = {
        "data_mb": data_mb,
        "peak_rss_mb/floor": mean_sd([r["floor"]["peak_rss_mb"] for r in per_seed.values()]),
        "peak_rss_mb/in memory": in_memory["in memory"]["peak_rss_mb"],
        "floor_mb/in memory": in_memory["floor"]["peak_rss_mb"],
    }
    for step in ("fit_in_chunks", "score_in_chunks"):
        rs = [r[step] for r in per_seed.values()]
        summary[f"peak_rss_mb/{step}"] = mean_sd([r["peak_rss_mb"] for r in rs])
        summary[f"spectra_per_s/{step}"] = mean_sd([r["n"] / r["seconds"] for r in rs])
    summary["flagged_fraction"] = mean_sd([r["flagged_fraction"] for r in per_seed.values()])
    return {
        "protocol": __doc__.split("Protocol\n--------\n", 1)[1].strip(),
        "data": f"{n:,} spectra × {N_PIXELS} pixels, float32, HDF5 ({data_mb:.0f} MB), drawn "
        f"from load_gaia_xp() with noise; training on the first {train_chunks} chunks "
        f"of {chunk:,} ({n_train:,} spectra seen)",
        "seeds": REPORT_SEEDS,
        "sizes": {"n_spectra": n, "chunk": chunk, "n_train": n_train, "threads": threads},
        "model": {**SMALL, "noise": "estimate", "inference_dtype": "float32"},
        "per_seed": {str(k): v for k, v in per_seed.items()},
        "in_memory": in_memory,
        "summary": summary,
        "timings": {"write_s": write_s},
    }


def tables(result: dict) -> dict:
    res = result["result"]
    s, sizes = res["summary"], res["sizes"]
    floor = s["peak_rss_mb/floor"]["mean"]
    rows = [
        [
            "floor: imports, open the file, build the model",
            "–",
            fmt_mean_std(s["peak_rss_mb/floor"], 0),
            "–",
        ],
        [
            f"read all {sizes['n_spectra']:,} spectra into memory (one run)",
            "–",
            f"{s['peak_rss_mb/in memory']:.0f}",
            f"{s['peak_rss_mb/in memory'] - s['floor_mb/in memory']:.0f}",
        ],
    ]
    what = {
        "fit_in_chunks": f"fit_in_chunks, {sizes['n_train']:,} spectra, chunks of "
        f"{sizes['chunk']:,}",
        "score_in_chunks": f"then score_in_chunks, all {sizes['n_spectra']:,}, chunks of "
        f"{sizes['chunk']:,}",
    }
    for step, label in what.items():
        rss = s[f"peak_rss_mb/{step}"]
        rows.append(
            [label, fmt_mean_std(s[f"spectra_per_s/{step}"], 0), fmt_mean_std(rss, 0),
             f"{rss['mean'] - floor:.0f}"]
        )  # fmt: skip
    return {
        "summary": {
            "header": ["step", "spectra/s", "peak RSS (MB)", "above floor (MB)"],
            "rows": rows,
            "caption": f"Out of core: an HDF5 file of {sizes['n_spectra']:,} spectra × "
            f"{N_PIXELS} pixels, float32, {s['data_mb']:.0f} MB of data; small SpectralCAE, "
            f"float32 inference, {sizes['threads']} torch thread(s), a fresh process per seed "
            "(mean ± sd over seeds); peak RSS is the process's high-water mark after the "
            "step; flagged as anomalies with the last training chunk's threshold "
            "(contamination 0.01): "
            f"{fmt_mean_std(s['flagged_fraction'], 4)} of the spectra",
        }
    }


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    step, path, seed, chunk, n_train, threads = argv
    return _child(step, path, int(seed), int(chunk), int(n_train), int(threads))


if __name__ == "__main__":
    sys.exit(main())
