"""The ``skspectra images`` default: skip connections on or off, and how many epochs.

``python -m benchmarks.search.images_command`` fits ``find_image_anomalies`` (the command's
model) on every ``load_hubble_deep_field(size=32)`` stamp, with skip connections on and off and
30 or 60 epochs, for each of :data:`DEV_SEEDS` (``random_state``), and prints the rank of the
bright star with diffraction spikes (1 = most anomalous; the top 1 % of 607 stamps is rank ≤ 6)
and the seconds spent; the results also list the first 20 stamps ranked above the star. Two
fits run at a time, one torch thread each. It writes
``benchmarks/results/search/images_command.json``; ``--quick`` runs 2 epochs (to exercise the
code).

The benchmark's report seeds (``benchmarks/bench_images.py``, 0-2) are not used here.
"""

import argparse
import time

import numpy as np
from joblib import Parallel, delayed

from benchmarks.search import write_results

DEV_SEEDS = [10, 11, 12]
SETTINGS = [(skips, epochs) for skips in (False, True) for epochs in (30, 60)]


def _one(skips, epochs, seed):
    import torch

    from skspectra.datasets import load_hubble_deep_field
    from skspectra.image_report import find_image_anomalies

    torch.set_num_threads(1)
    hdf = load_hubble_deep_field(size=32)
    _, scores, timings = find_image_anomalies(
        hdf.images, skip_connections=skips, max_epochs=epochs, random_state=seed, verbose=0
    )
    above = np.flatnonzero(scores < scores[hdf.bright_star_index])
    above = above[np.argsort(scores[above])].tolist()
    seconds = timings["fit_s"] + timings["score_s"]
    print(
        f"seed {seed}: skips {skips}, {epochs} epochs: rank {len(above) + 1}, {seconds:.0f} s",
        flush=True,
    )
    return {
        "seed": seed,
        "skip_connections": skips,
        "epochs": epochs,
        "rank": len(above) + 1,
        "ranked_above": above[:20],
        "s": seconds,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rows = Parallel(n_jobs=2)(
        delayed(_one)(skips, 2 if args.quick else epochs, seed)
        for skips, epochs in SETTINGS
        for seed in DEV_SEEDS
    )
    out = {
        "command": "python -m benchmarks.search.images_command",
        "dev_seeds": DEV_SEEDS,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rows": rows,
    }
    write_results("images_command", out, quick=args.quick)


if __name__ == "__main__":
    main()
