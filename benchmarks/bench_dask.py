"""Throughput of ``skspectra.parallel.score_dask`` against in-memory scoring.

Run through the runner: ``python -m benchmarks run dask [--quick]``.

Protocol
--------
A SpectralCAE (default settings, ``FIT_EPOCHS`` epochs, ``random_state=0``; speed only) is
fitted once on the shipped Gaia XP sample. For each seed, ``N_SPECTRA`` spectra (the sample
tiled, each copy with fresh Gaussian noise from its ivar, drawn with that seed) are scored
with ``score_samples`` (float64 inference) three ways:

- in memory, one process, 1 torch thread;
- in memory, one process, 2 torch threads;
- ``score_dask`` on a ``dask.distributed.LocalCluster`` of 2 worker processes × 1 thread,
  blocks of ``CHUNK`` spectra that the workers read from a ``.npy`` file on disk (a memmap),
  as in a survey, rather than receiving them from the client. One cluster serves all seeds;
  before the first timed seed it scores one untimed block per worker (dev seed 0), so that
  the workers' one-time start (importing torch, unpickling the model, the first forward
  pass) is not billed to seed 1, as the in-process model is already warm from its fit.

Figures: spectra per second of wall time per path, its ratio to the 1-thread path in the same
seed, and the largest difference between the Dask and in-memory scores. This benchmark sets
its own threads per path (``THREADS = 2``). Cut to fit the budget: 10⁵ spectra before.
"""

import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks._common import fmt_mean_std
from benchmarks._stats import mean_sd
from skspectra import SpectralCAE
from skspectra.datasets import load_gaia_xp
from skspectra.parallel import score_dask

NAME = "dask"
THREADS = 2
DEV_SEEDS = [0]
REPORT_SEEDS = [1, 2, 3]

N_SPECTRA = {"full": 30_000, "quick": 3_000}
CHUNK = {"full": 5_000, "quick": 1_000}
FIT_EPOCHS = {"full": 5, "quick": 1}
WORKERS = 2
PATHS = (
    "in memory, 1 process, 1 torch thread",
    "in memory, 1 process, 2 torch threads",
    f"score_dask, LocalCluster {WORKERS} processes × 1 thread",
)


def survey(data, n, seed):
    """``n`` spectra: the sample tiled, each copy with new Gaussian noise from its ivar."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(data.flux), n)
    sigma = 1 / np.sqrt(np.maximum(data.ivar[idx], 1e-30))
    noise = rng.normal(size=(n, data.flux.shape[1])) * np.where(data.ivar[idx] > 0, sigma, 0)
    return data.flux[idx] + noise


def _read_rows(path, start, stop):
    return np.asarray(np.load(path, mmap_mode="r")[start:stop])


def from_npy(path, chunk):
    """A Dask array whose blocks are read by the workers from a ``.npy`` file."""
    import dask
    import dask.array as da

    shape = np.load(path, mmap_mode="r").shape
    blocks = [
        da.from_delayed(
            dask.delayed(_read_rows)(str(path), start, min(start + chunk, shape[0])),
            shape=(min(start + chunk, shape[0]) - start, shape[1]),
            dtype=np.float64,
        )
        for start in range(0, shape[0], chunk)
    ]
    return da.concatenate(blocks)


def run_seed(model, data, client, seed, mode, tmp):
    flux = survey(data, N_SPECTRA[mode], seed)
    seconds, reference = {}, None
    for threads, path in zip((1, 2), PATHS[:2], strict=True):
        torch.set_num_threads(threads)
        start = time.perf_counter()
        scores = model.score_samples(flux)
        seconds[path] = time.perf_counter() - start
        reference = scores if reference is None else reference
    torch.set_num_threads(1)
    npy = Path(tmp) / f"flux_{seed}.npy"
    np.save(npy, flux)
    lazy = score_dask(model, from_npy(npy, CHUNK[mode]))
    start = time.perf_counter()
    scores = client.compute(lazy).result()
    seconds[PATHS[2]] = time.perf_counter() - start
    npy.unlink()
    n = len(flux)
    return {
        "spectra_per_s": {p: n / s for p, s in seconds.items()},
        "ratio_to_1_thread": {p: seconds[PATHS[0]] / s for p, s in seconds.items()},
        "max_abs_difference": float(np.max(np.abs(scores - reference))),
    }


def run(quick: bool) -> dict:
    from dask.distributed import Client, LocalCluster

    mode = "quick" if quick else "full"
    torch.set_num_threads(1)
    data = load_gaia_xp()
    start = time.perf_counter()
    model = SpectralCAE(max_epochs=FIT_EPOCHS[mode], random_state=0).fit(data.flux, ivar=data.ivar)
    fit_s = time.perf_counter() - start
    with (
        LocalCluster(
            n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
        tempfile.TemporaryDirectory() as tmp,
    ):
        client.run(torch.set_num_threads, 1)
        warm = Path(tmp) / "warm_up.npy"
        np.save(warm, survey(data, WORKERS * CHUNK[mode], DEV_SEEDS[0]))
        client.compute(score_dask(model, from_npy(warm, CHUNK[mode]))).result()
        per_seed = {seed: run_seed(model, data, client, seed, mode, tmp) for seed in REPORT_SEEDS}
    runs = list(per_seed.values())
    summary = {}
    for p in PATHS:
        summary[f"spectra_per_s/{p}"] = mean_sd([r["spectra_per_s"][p] for r in runs])
        summary[f"ratio_to_1_thread/{p}"] = mean_sd([r["ratio_to_1_thread"][p] for r in runs])
    summary["max_abs_difference"] = max(r["max_abs_difference"] for r in runs)
    return {
        "protocol": (
            f"SpectralCAE (defaults, {FIT_EPOCHS[mode]} epochs) fitted once on the Gaia XP "
            f"sample; per seed, {N_SPECTRA[mode]} noisy copies scored with score_samples in "
            f"memory on 1 and 2 torch threads, and with score_dask on a LocalCluster of "
            f"{WORKERS} processes × 1 thread reading blocks of {CHUNK[mode]} from a .npy "
            "(one untimed block per worker first)."
        ),
        "data": f"load_gaia_xp() tiled to {N_SPECTRA[mode]} spectra × 343 pixels per seed",
        "seeds": REPORT_SEEDS,
        "per_seed": per_seed,
        "summary": summary,
        "timings": {"fit_s": fit_s},
        "n_spectra": N_SPECTRA[mode],
    }


def tables(result: dict) -> dict:
    res = result["result"]
    runs = list(res["per_seed"].values())
    rows = [
        [
            p,
            fmt_mean_std([r["spectra_per_s"][p] for r in runs], 0),
            fmt_mean_std([r["ratio_to_1_thread"][p] for r in runs], 2),
        ]
        for p in PATHS
    ]
    diff = max(r["max_abs_difference"] for r in runs)
    return {
        "throughput": {
            "header": ["path", "spectra/s", "× 1 thread"],
            "rows": rows,
            "caption": (
                f"{result.get('mode', '?')} run of {result.get('started', '?')[:10]}, seeds "
                f"{res['seeds']} (mean ± sd), {res['n_spectra']} spectra each; "
                f"max |Dask − in memory| = {diff:.3g}."
            ),
        }
    }
