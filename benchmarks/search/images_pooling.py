"""ImageAutoencoder's anomaly scores: how the anomaly map is pooled, and over how many pixels.

``python -m benchmarks.search.images_pooling`` splits ``load_hubble_deep_field(size=32)`` 80/20
as ``benchmarks/bench_images.py`` does, for each of :data:`DEV_SEEDS`, and fits three models on
the training stamps: PCA-8 (``benchmarks.baselines.ImagePCAResidual``) and the
``ImageAutoencoder`` of the ``skspectra images`` command (8 latents, 30 epochs), with skip
connections on and off. Each fitted model is then rescored under every rule of :data:`RULES`
(``pooling`` and ``n_top_pixels``; only the scores' calibration on the training stamps is
redone, not the fit), and the ROC-AUC of clean held-out stamps against copies with one
injected defect of each kind (``bench_images.inject``) is recorded per kind and for all kinds
together. The skips-on model and PCA are also fitted on every stamp, as the command does, and
the rank of the bright star with diffraction spikes is recorded under each rule (1 = most
anomalous; the top 1 % of 607 stamps is rank ≤ 6). Two fits run at a time, one torch
thread each. It writes ``benchmarks/results/search/images_pooling.json``; ``--quick``
runs 2 epochs (to exercise the code).

The benchmark's report seeds (0-2) are not used here.
"""

import argparse
import time

from joblib import Parallel, delayed

from benchmarks.search import write_results

DEV_SEEDS = [10, 11, 12]
RULES = [("top_pixels", 16)] + [("detectors", k) for k in (16, 8, 4, 2)]
MODELS = ("PCA-8", "skips on", "skips off")
EPOCHS = 30


def _model(name, seed, epochs):
    from benchmarks.baselines import ImagePCAResidual
    from skspectra.images import ImageAutoencoder

    if name == "PCA-8":
        return ImagePCAResidual(8)
    skips = name == "skips on"
    return ImageAutoencoder(8, skip_connections=skips, max_epochs=epochs, random_state=seed)


def _rescored(model, X):
    """``model`` recalibrated under each rule on ``X``, its training images, one at a time."""
    images, weight, _ = model._validate_images(X, None, reset=False)
    for pooling, k in RULES:
        model.set_params(pooling=pooling, n_top_pixels=k)
        model._fit_scores(images, weight, False)
        yield f"{pooling} {k}"


def _one(name, seed, epochs):
    import torch

    from benchmarks.bench_images import _aucs, _rank, split_and_inject
    from skspectra.datasets import load_hubble_deep_field

    torch.set_num_threads(1)
    hdf = load_hubble_deep_field(size=32)
    X = hdf.images
    Xtr, Xte, injected = split_and_inject(X, seed)
    model = _model(name, seed, epochs).fit(Xtr)
    rows = {rule: {"auc": _aucs(model, Xte, injected)} for rule in _rescored(model, Xtr)}
    if name != "skips off":
        full = _model(name, seed, epochs).fit(X)
        for rule in _rescored(full, X):
            rows[rule]["bright_star_rank"] = _rank(full.score_samples(X), hdf.bright_star_index)
    for rule, row in rows.items():
        print(f"seed {seed}, {name}, {rule}: {row}", flush=True)
    return {"seed": seed, "model": name, "rules": rows}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    epochs = 2 if args.quick else EPOCHS
    rows = Parallel(n_jobs=2)(
        delayed(_one)(name, seed, epochs) for name in MODELS for seed in DEV_SEEDS
    )
    out = {
        "command": "python -m benchmarks.search.images_pooling",
        "dev_seeds": DEV_SEEDS,
        "epochs": epochs,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rows": rows,
    }
    write_results("images_pooling", out, quick=args.quick)


if __name__ == "__main__":
    main()
