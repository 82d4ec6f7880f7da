"""Choose ImageToSpectrum's defaults on the dev split: spectrum model, loss and regressor size.

``python -m benchmarks.search.image_to_spectrum`` fits each setting of :data:`GRID` on the
photometry → Gaia XP task of ``benchmarks/bench_image_to_spectrum.py``, on its ``DEV_SEEDS``
split only (never a report seed), with ``uncertainty_cv=None``, one thread, and prints the
held-out median ivar-weighted χ²/N beside ExtraTrees(300) → PCA(30) on the same split. It
writes ``benchmarks/results/search/image_to_spectrum.json``. ``--quick`` runs two settings
for a few epochs (to exercise the code).
"""

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from benchmarks.baselines import extra_trees_pca
from benchmarks.bench_image_to_spectrum import DEV_SEEDS, chi2_per_star, photometry_features
from benchmarks.search import write_results
from skspectra.datasets import load_gaia_xp
from skspectra.images import ImageRegressor, ImageToSpectrum
from skspectra.spectra import SpectralVAE

WIDE = (256, 256, 256)
#: (label, spectrum model, loss, ImageRegressor parameters)
GRID = [
    (
        "VAE(6), latent MSE",
        lambda: SpectralVAE(n_components=6, max_epochs=20),
        "latent",
        {"hidden_layer_sizes": WIDE, "max_epochs": 300},
    ),
    (
        "VAE(6), χ²",
        lambda: SpectralVAE(n_components=6, max_epochs=20),
        "chi2",
        {"hidden_layer_sizes": WIDE, "max_epochs": 300},
    ),
    (
        "PCA(30), latent MSE",
        lambda: PCA(30),
        "latent",
        {"hidden_layer_sizes": WIDE, "max_epochs": 300},
    ),
    ("PCA(30), χ²", lambda: PCA(30), "chi2", {"hidden_layer_sizes": WIDE, "max_epochs": 300}),
    ("PCA(40), χ², (128, 128) x 300 epochs", lambda: PCA(40), "chi2", {"max_epochs": 300}),
    (
        "PCA(40), χ², WIDE x 150 epochs",
        lambda: PCA(40),
        "chi2",
        {"hidden_layer_sizes": WIDE, "max_epochs": 150},
    ),
    (
        "PCA(40), χ², WIDE x 300 epochs",
        lambda: PCA(40),
        "chi2",
        {"hidden_layer_sizes": WIDE, "max_epochs": 300},
    ),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)
    torch.set_num_threads(1)
    gaia = load_gaia_xp()
    X = photometry_features(gaia.photometry)
    ok = np.all(np.isfinite(X), axis=1) & np.any(gaia.ivar > 0, axis=1)
    X, Y, W = X[ok], gaia.flux[ok], gaia.ivar[ok]
    grid = GRID[2:4] if args.quick else GRID
    rows = []
    for seed in DEV_SEEDS:
        tr, te = train_test_split(np.arange(len(X)), test_size=0.25, random_state=seed)
        et = extra_trees_pca(30, random_state=seed).fit(X[tr], Y[tr])
        et_chi2 = float(np.median(chi2_per_star(et.predict(X[te]), Y[te], W[te])))
        rows.append({"seed": seed, "setting": "ExtraTrees(300) → PCA(30)", "chi2": et_chi2})
        print(f"seed {seed}: ExtraTrees(300) → PCA(30) χ²/N = {et_chi2:.3f}", flush=True)
        for label, spectrum_model, loss, params in grid:
            if args.quick:
                params = {**params, "max_epochs": 2}
            model = ImageToSpectrum(
                spectrum_model(),
                ImageRegressor(**params),
                loss=loss,
                uncertainty_cv=None,
                random_state=seed,
            )
            start = time.perf_counter()
            model.fit(X[tr], Y[tr], ivar=W[tr])
            fit_s = time.perf_counter() - start
            chi2 = float(np.median(chi2_per_star(model.predict(X[te]), Y[te], W[te])))
            rows.append(
                {
                    "seed": seed,
                    "setting": label,
                    "chi2": chi2,
                    "fit_s": fit_s,
                    "ratio_to_extra_trees": chi2 / et_chi2,
                }
            )
            print(
                f"seed {seed}: {label}: χ²/N = {chi2:.3f} ({chi2 / et_chi2:.2f}x ExtraTrees), "
                f"fit {fit_s:.0f} s",
                flush=True,
            )
    out = {
        "command": "python -m benchmarks.search.image_to_spectrum",
        "dev_seeds": DEV_SEEDS,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rows": rows,
    }
    write_results("image_to_spectrum", out, quick=args.quick)


if __name__ == "__main__":
    main()
