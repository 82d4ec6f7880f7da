"""Throughput of ``skspectra.parallel.score_dask`` against in-memory scoring.

A SpectralCAE is fitted on the shipped Gaia XP sample; then 10⁵ spectra (the
sample, tiled with fresh noise) are scored three ways, in one run:

- in memory, one process: ``model.score_samples(X)``, with 1 and with 2 torch threads;
- ``score_dask`` on a ``dask.distributed.LocalCluster`` of 2 worker processes
  (1 thread each), blocks of 10,000 spectra. As in a survey, the workers read
  their blocks from a file on disk (a ``.npy`` opened as a memmap), rather than
  receiving them from the client.

The Dask scores are checked against the in-memory ones (max |difference|).

Run: ``python benchmarks/bench_dask.py [--n 100000] [--workers 2] [--chunk 10000]``
"""

import argparse
import time

import numpy as np
import torch
from _common import RESULTS_DIR, environment, markdown_table, write_json

from skspectra import SpectralCAE
from skspectra.datasets import load_gaia_xp
from skspectra.parallel import score_dask


def survey(n, random_state=0):
    """``n`` spectra: the shipped sample tiled, each copy with new Gaussian noise from its ivar."""
    data = load_gaia_xp()
    rng = np.random.default_rng(random_state)
    idx = rng.integers(0, len(data.flux), n)
    sigma = 1 / np.sqrt(np.maximum(data.ivar[idx], 1e-30))
    flux = data.flux[idx] + rng.normal(size=(n, data.flux.shape[1])) * np.where(
        data.ivar[idx] > 0, sigma, 0
    )
    return data, flux


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=5, help="training epochs (speed only)")
    args = parser.parse_args()

    from dask.distributed import Client, LocalCluster

    torch.set_num_threads(1)
    data, flux = survey(args.n)
    model = SpectralCAE(max_epochs=args.epochs, random_state=0).fit(data.flux, ivar=data.ivar)

    rows, record = [], {"n_spectra": args.n, "n_pixels": flux.shape[1], "chunk": args.chunk}
    reference = None
    for threads in (1, 2):
        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        scores = model.score_samples(flux)
        seconds = time.perf_counter() - t0
        reference = scores if reference is None else reference
        rows.append([f"in memory, 1 process, {threads} torch thread(s)", seconds])
        record[f"in_memory_{threads}_threads_s"] = seconds
    torch.set_num_threads(1)

    with (
        LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(torch.set_num_threads, 1)
        path = RESULTS_DIR / "bench_dask_flux.npy"
        np.save(path, flux)
        lazy = score_dask(model, from_npy(path, args.chunk))
        t0 = time.perf_counter()
        scores = client.compute(lazy).result()
        seconds = time.perf_counter() - t0
    rows.append([f"score_dask, LocalCluster {args.workers} processes x 1 thread", seconds])
    record["dask_s"] = seconds
    path.unlink()
    record["dask_max_abs_difference"] = float(np.max(np.abs(scores - reference)))

    base = rows[0][1]
    table = markdown_table(
        ["path", "seconds", "spectra/s", "speed-up vs 1 thread"],
        [[r[0], f"{r[1]:.1f}", f"{args.n / r[1]:,.0f}", f"{base / r[1]:.2f}x"] for r in rows],
    )
    print(table)
    print(f"\nmax |dask - in memory| = {record['dask_max_abs_difference']:.3g}")
    write_json({"environment": environment(), "results": record}, "dask.json")


if __name__ == "__main__":
    main()
