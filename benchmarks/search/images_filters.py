"""``ImageAutoencoder``'s default width: how many filters its first level has.

``python -m benchmarks.search.images_filters`` fits ``ImageAutoencoder(n_components=8,
n_filters=f, random_state=seed)`` (its defaults otherwise: skips off, 150 epochs) for ``f`` in
:data:`N_FILTERS` on the 80/20 split of the ``load_hubble_deep_field(size=32)`` stamps that
``benchmarks/bench_images.py`` makes for each dev seed, and records: the held-out and training
MSE per pixel, each over that of the benchmark's PCA-8 (``ImagePCAResidual(8)``) fitted on the
same training stamps (issue 19's compression target is a held-out ratio ≤ 0.7); the ROC-AUC of
the clean held-out stamps against copies with one injected defect each (``bench_images``'
cosmic rays, satellite trails and blends; target ≥ 0.9); and the seconds to fit on one torch
thread. Two fits run at a time. It writes ``benchmarks/results/search/images_filters.json``;
``--quick`` trains 2 epochs (to exercise the code).

The benchmark's report seeds (``benchmarks/bench_images.py``, 0-2) are not used here.
"""

import argparse
import time

import numpy as np
from joblib import Parallel, delayed

from benchmarks.search import write_results

DEV_SEEDS = [10, 11, 12]
N_FILTERS = [8, 16, 32]
N_COMPONENTS = 8


def _mse(reconstruction, images):
    return float(np.mean((reconstruction - images) ** 2))


def fit_and_score(model, seed):
    """Fit the image autoencoder ``model`` on ``bench_images``' training stamps for ``seed``.

    Returns ``fit_s`` (seconds, one torch thread), ``auc`` (``bench_images._aucs`` of the
    held-out stamps against their injected copies), and ``test_mse`` / ``train_mse`` with
    their ratios to PCA-8's fitted on the same training stamps (``*_mse_over_pca``).
    """
    import torch

    from benchmarks.baselines import ImagePCAResidual
    from benchmarks.bench_images import _aucs, split_and_inject
    from skspectra.datasets import load_hubble_deep_field

    torch.set_num_threads(1)
    train, test, injected = split_and_inject(load_hubble_deep_field(size=32).images, seed)
    pca = ImagePCAResidual(N_COMPONENTS).fit(train)

    start = time.perf_counter()
    model.fit(train)
    row = {"fit_s": time.perf_counter() - start, "auc": _aucs(model, test, injected)}
    for name, images in (("test", test), ("train", train)):
        row[f"{name}_mse"] = _mse(model.reconstruct(images), images)
        pca_mse = _mse(pca._reconstruct(images, None), images)
        row[f"{name}_mse_over_pca"] = row[f"{name}_mse"] / pca_mse
    return row


def describe(row):
    """One line of :func:`fit_and_score`'s figures."""
    return (
        f"held-out MSE {row['test_mse_over_pca']:.3f}× PCA-8's (training "
        f"{row['train_mse_over_pca']:.3f}×), anomaly AUC {row['auc']['all']:.3f}, "
        f"{row['fit_s']:.0f} s"
    )


def _one(n_filters, seed, max_epochs):
    from skspectra.images import ImageAutoencoder

    model = ImageAutoencoder(
        n_components=N_COMPONENTS, n_filters=n_filters, random_state=seed, **max_epochs
    )
    row = {"seed": seed, "n_filters": n_filters, **fit_and_score(model, seed)}
    print(f"seed {seed}, n_filters {n_filters}: {describe(row)}", flush=True)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    epochs = {"max_epochs": 2} if args.quick else {}
    rows = Parallel(n_jobs=2)(
        delayed(_one)(f, seed, epochs) for f in N_FILTERS for seed in DEV_SEEDS
    )
    out = {
        "command": "python -m benchmarks.search.images_filters",
        "dev_seeds": DEV_SEEDS,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rows": sorted(rows, key=lambda r: (r["n_filters"], r["seed"])),
    }
    write_results("images_filters", out, quick=args.quick)


if __name__ == "__main__":
    main()
