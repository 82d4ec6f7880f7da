"""``ImageAutoencoder``: do test-time flips and rotations, or two-seed ensembles, reach 0.7× PCA-8?

Issue 19 asks for a held-out MSE of at most 0.7× PCA-8's with skips off; the default reaches
0.76× on the dev seeds and 0.78× on the report seeds, and no change of network or training in
``images_architecture`` helped, the limit being generalisation from 486 training stamps.
Averaging predictions reduces the variance part of that error without new training data.
``python -m benchmarks.search.images_tta`` fits, on the split of ``benchmarks/bench_images.py``
for each dev seed (10-12, as ``images_architecture``), two default autoencoders
(``ImageAutoencoder(n_components=8)``, ``random_state`` = the seed and the seed + 100) and
scores held-out reconstructions, as MSE over PCA-8's (``ImagePCAResidual(8)`` on the same
training stamps):

- ``plain``: each model's ``reconstruct`` (the first model's is the default's figure);
- ``tta``: the mean of the reconstructions of the 8 flips and 90° rotations of each stamp,
  each turned back (the model is trained on those transforms, ``augment=True``);
- ``ensemble of 2``: the mean of the two models' plain reconstructions;
- ``ensemble of 2, tta``: the mean of both models' ``tta`` reconstructions.

It writes ``benchmarks/results/search/images_tta.json``; ``--quick`` trains 2 epochs. Fits run
one at a time, on one torch thread.

``--scores`` asks what the averaging does to anomaly scores: it fits, per dev seed, the
default and :class:`DihedralImageAutoencoder` (the same network and training, the same
``random_state``, so the same weights; every reconstruction, those that set
``residual_scale_`` and those scored included, is the mean over the 8 transforms), and records
``images_filters.fit_and_score`` for each: held-out and training MSE over PCA-8's and the
ROC-AUC of ``bench_images``' injected defects. Two fits run at a time; it writes
``benchmarks/results/search/images_tta_scores.json``.
"""

import argparse
import time

import numpy as np

from benchmarks.search import write_results
from skspectra.images import ImageAutoencoder

DEV_SEEDS = [10, 11, 12]
SECOND_SEED_OFFSET = 100


def dihedral_mean(reconstruct, images):
    """Mean over the 8 flips and 90° rotations ``g`` of ``g⁻¹(reconstruct(g(images)))``."""
    outs = []
    for turns in range(4):
        for flip in (False, True):
            g = np.rot90(images, turns, axes=(-2, -1))
            g = g[..., ::-1] if flip else g
            r = reconstruct(np.ascontiguousarray(g))
            r = r[..., ::-1] if flip else r
            outs.append(np.rot90(r, -turns, axes=(-2, -1)))
    return np.mean(outs, axis=0)


class DihedralImageAutoencoder(ImageAutoencoder):
    """``ImageAutoencoder`` whose reconstructions average the 8 flips and rotations."""

    def _reconstruct(self, images, weight):
        flat = super()._reconstruct

        def both(stacked):
            n = len(stacked) // 2
            return flat(stacked[:n], stacked[n:])

        return dihedral_mean(both, np.concatenate([images, weight]))[: len(images)]


def _scores(model_name, seed, epochs):
    from benchmarks.search.images_filters import describe, fit_and_score

    model = ImageAutoencoder if model_name == "default" else DihedralImageAutoencoder
    row = fit_and_score(model(n_components=8, random_state=seed, **epochs), seed)
    print(f"seed {seed}, {model_name}: {describe(row)}", flush=True)
    return {"seed": seed, "model": model_name, **row}


def _one(seed, epochs):
    import torch

    from benchmarks.baselines import ImagePCAResidual
    from benchmarks.bench_images import split_and_inject
    from skspectra.datasets import load_hubble_deep_field

    torch.set_num_threads(1)
    train, test, _ = split_and_inject(load_hubble_deep_field(size=32).images, seed)
    pca_mse = np.mean((ImagePCAResidual(8).fit(train)._reconstruct(test, None) - test) ** 2)
    plain, tta, fit_s = [], [], []
    for random_state in (seed, seed + SECOND_SEED_OFFSET):
        start = time.perf_counter()
        model = ImageAutoencoder(n_components=8, random_state=random_state, **epochs).fit(train)
        fit_s.append(time.perf_counter() - start)
        plain.append(model.reconstruct(test))
        tta.append(dihedral_mean(model.reconstruct, test))
    ratio = {
        "plain": [float(np.mean((r - test) ** 2) / pca_mse) for r in plain],
        "tta": [float(np.mean((r - test) ** 2) / pca_mse) for r in tta],
        "ensemble of 2": float(np.mean((np.mean(plain, 0) - test) ** 2) / pca_mse),
        "ensemble of 2, tta": float(np.mean((np.mean(tta, 0) - test) ** 2) / pca_mse),
    }
    print(f"seed {seed}: {ratio}", flush=True)
    return {"seed": seed, "mse_over_pca": ratio, "fit_s": fit_s}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--scores", action="store_true", help="anomaly scores with averaging")
    args = parser.parse_args(argv)
    epochs = {"max_epochs": 2} if args.quick else {}
    if args.scores:
        from joblib import Parallel, delayed

        rows = Parallel(n_jobs=2)(
            delayed(_scores)(name, seed, epochs)
            for name in ("default", "dihedral")
            for seed in DEV_SEEDS
        )
        out = {
            "command": "python -m benchmarks.search.images_tta --scores",
            "dev_seeds": DEV_SEEDS,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "rows": rows,
        }
        write_results("images_tta_scores", out, quick=args.quick)
        return
    rows = [_one(seed, epochs) for seed in DEV_SEEDS]
    mean = {
        "plain, first model": np.mean([r["mse_over_pca"]["plain"][0] for r in rows]),
        "plain, both models": np.mean([r["mse_over_pca"]["plain"] for r in rows]),
        "tta, first model": np.mean([r["mse_over_pca"]["tta"][0] for r in rows]),
        "tta, both models": np.mean([r["mse_over_pca"]["tta"] for r in rows]),
        "ensemble of 2": np.mean([r["mse_over_pca"]["ensemble of 2"] for r in rows]),
        "ensemble of 2, tta": np.mean([r["mse_over_pca"]["ensemble of 2, tta"] for r in rows]),
    }
    out = {
        "command": "python -m benchmarks.search.images_tta",
        "dev_seeds": DEV_SEEDS,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "mean_mse_over_pca": {k: float(v) for k, v in mean.items()},
        "rows": rows,
    }
    write_results("images_tta", out, quick=args.quick)


if __name__ == "__main__":
    main()
