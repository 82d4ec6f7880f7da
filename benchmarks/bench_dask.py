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

Out of core, once, after the seeds: the out-of-core benchmark's HDF5 survey
(``write_survey``, ``N_OUT_OF_CORE`` float32 spectra, first report seed) is scored with
``score_dask`` on a fresh cluster of the same shape whose workers read their blocks from the
file and are limited to ``WORKER_MEMORY_LIMIT`` each, a hard bound (the nanny restarts a worker
above 95 % of it; spilling and pausing are off). Each worker's peak RSS (VmHWM) is read after
one untimed block per worker and after the whole file, and a restart is detected by a change
of the workers' addresses.

Figures: spectra per second of wall time per path, its ratio to the 1-thread path in the same
seed, and the largest difference between the Dask and in-memory scores; out of core, the file
size, speed and peak RSS per worker. This benchmark sets its own threads per path
(``THREADS = 2``). ``N_SPECTRA`` is 10⁵ per seed, the size the scale-out issue states its
target at (earlier runs used 3 × 10⁴ to save time).
"""

import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks._common import fmt_mean_std
from benchmarks._stats import mean_sd
from benchmarks.bench_out_of_core import DATASET, write_survey
from benchmarks.bench_score import _peak_rss_mb
from skspectra import SpectralCAE
from skspectra.datasets import load_gaia_xp
from skspectra.parallel import score_dask

NAME = "dask"
THREADS = 2
DEV_SEEDS = [0]
REPORT_SEEDS = [1, 2, 3]

N_SPECTRA = {"full": 100_000, "quick": 3_000}
CHUNK = {"full": 5_000, "quick": 1_000}
FIT_EPOCHS = {"full": 5, "quick": 1}
WORKERS = 2
N_OUT_OF_CORE = {"full": 1_000_000, "quick": 20_000}
WORKER_MEMORY_LIMIT = "1GB"  # per worker, enforced by its nanny; the full file is larger
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


def _read_hdf5_rows(path, start, stop):
    import h5py

    with h5py.File(path, "r") as f:
        return f[DATASET][start:stop]


def _lazy_rows(read, path, shape, dtype, chunk):
    """A Dask array of ``shape`` whose blocks of ``chunk`` rows the workers read themselves."""
    import dask
    import dask.array as da

    blocks = [
        da.from_delayed(
            dask.delayed(read)(str(path), start, min(start + chunk, shape[0])),
            shape=(min(start + chunk, shape[0]) - start, shape[1]),
            dtype=dtype,
        )
        for start in range(0, shape[0], chunk)
    ]
    return da.concatenate(blocks)


def from_npy(path, chunk):
    """A Dask array whose blocks are read by the workers from a ``.npy`` file."""
    array = np.load(path, mmap_mode="r")
    return _lazy_rows(_read_rows, path, array.shape, array.dtype, chunk)


def from_hdf5(path, chunk):
    """A Dask array whose blocks are read by the workers from ``path:/flux`` (HDF5)."""
    import h5py

    with h5py.File(path, "r") as f:
        shape, dtype = f[DATASET].shape, f[DATASET].dtype
    return _lazy_rows(_read_hdf5_rows, path, shape, dtype, chunk)


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


def out_of_core(model, mode, tmp):
    """``score_dask`` over an HDF5 file larger than each worker's memory limit.

    A fresh cluster of ``WORKERS`` × 1 thread whose nannies restart a worker above 95 % of
    ``WORKER_MEMORY_LIMIT`` (spilling and pausing off, so that the limit is a hard bound);
    each worker's peak RSS is read after an untimed block per worker and after the whole file.
    """
    import dask
    from dask.distributed import Client, LocalCluster

    path = Path(tmp) / "survey.h5"
    data_mb = write_survey(path, N_OUT_OF_CORE[mode], REPORT_SEEDS[0])
    flux = from_hdf5(path, CHUNK[mode])
    memory = {"target": False, "spill": False, "pause": False, "terminate": 0.95}
    with (
        dask.config.set({f"distributed.worker.memory.{k}": v for k, v in memory.items()}),
        LocalCluster(
            n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None,
            memory_limit=WORKER_MEMORY_LIMIT,
        ) as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        client.run(torch.set_num_threads, 1)
        client.compute(score_dask(model, flux[: WORKERS * CHUNK[mode]])).result()
        warm_mb = client.run(_peak_rss_mb)
        workers = set(client.scheduler_info()["workers"])
        start = time.perf_counter()
        scores = client.compute(score_dask(model, flux)).result()
        seconds = time.perf_counter() - start
        peak_mb = client.run(_peak_rss_mb)
        restarted = workers != set(client.scheduler_info()["workers"])  # new address
    path.unlink()
    return {
        "n_spectra": len(scores),
        "data_mb": data_mb,
        "chunk": CHUNK[mode],
        "worker_memory_limit": WORKER_MEMORY_LIMIT,
        "spectra_per_s": len(scores) / seconds,
        "worker_peak_rss_mb_after_first_block": sorted(warm_mb.values()),
        "worker_peak_rss_mb": sorted(peak_mb.values()),
        "workers_restarted": restarted,
        "finite_fraction": float(np.mean(np.isfinite(scores))),
    }


def run(quick: bool) -> dict:
    from dask.distributed import Client, LocalCluster

    mode = "quick" if quick else "full"
    torch.set_num_threads(1)
    data = load_gaia_xp()
    start = time.perf_counter()
    model = SpectralCAE(max_epochs=FIT_EPOCHS[mode], random_state=0).fit(data.flux, ivar=data.ivar)
    fit_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        with (
            LocalCluster(
                n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            client.run(torch.set_num_threads, 1)
            warm = Path(tmp) / "warm_up.npy"
            np.save(warm, survey(data, WORKERS * CHUNK[mode], DEV_SEEDS[0]))
            client.compute(score_dask(model, from_npy(warm, CHUNK[mode]))).result()
            per_seed = {s: run_seed(model, data, client, s, mode, tmp) for s in REPORT_SEEDS}
        larger_than_memory = out_of_core(model, mode, tmp)
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
            "(one untimed block per worker first). Out of core: score_dask over an HDF5 file "
            f"of {N_OUT_OF_CORE[mode]} float32 spectra on a fresh cluster of {WORKERS} x 1 "
            f"thread, each worker limited to {WORKER_MEMORY_LIMIT} by its nanny."
        ),
        "data": f"load_gaia_xp() tiled to {N_SPECTRA[mode]} spectra × 343 pixels per seed",
        "seeds": REPORT_SEEDS,
        "per_seed": per_seed,
        "summary": summary,
        "timings": {"fit_s": fit_s},
        "n_spectra": N_SPECTRA[mode],
        "out_of_core": larger_than_memory,
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
        },
        **_out_of_core_table(result),
    }


def _out_of_core_table(result):
    ooc = result["result"]["out_of_core"]
    mb = ", ".join(f"{m:.0f}" for m in ooc["worker_peak_rss_mb"])
    warm = ", ".join(f"{m:.0f}" for m in ooc["worker_peak_rss_mb_after_first_block"])
    rows = [
        ["spectra in the HDF5 file (float32)", f"{ooc['n_spectra']:,}"],
        ["file size (MB)", f"{ooc['data_mb']:.0f}"],
        ["memory limit per worker (nanny, hard)", ooc["worker_memory_limit"]],
        ["spectra/s", f"{ooc['spectra_per_s']:.0f}"],
        ["peak RSS per worker after its first block (MB)", warm],
        ["peak RSS per worker after the whole file (MB)", mb],
        ["a worker restarted", "yes" if ooc["workers_restarted"] else "no"],
    ]
    return {
        "out_of_core": {
            "header": ["score_dask over a file larger than a worker's memory", "value"],
            "rows": rows,
            "caption": (
                f"{result.get('mode', '?')} run of {result.get('started', '?')[:10]}: one run, "
                f"{WORKERS} worker processes × 1 thread, blocks of {ooc['chunk']:,} rows that "
                "each worker reads from the file itself."
            ),
        }
    }
