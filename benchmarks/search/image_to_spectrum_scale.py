"""Choose the training budget of ImageToSpectrum's default regressor at 20,000 stars (dev split).

``python -m benchmarks.search.image_to_spectrum_scale`` runs the task of
``benchmarks/bench_image_to_spectrum_scale.py`` on its ``DEV_SEEDS`` split only (never a report
seed), on two threads: ExtraTrees(300) → PCA(30), then ``ImageToSpectrum(random_state=seed)``
with its default regressor trained for each number of epochs in :data:`EPOCHS` (34 is what
``default_epochs(20_000)`` gives: the same number of gradient steps as 300 epochs of 2,250
stars). It prints and writes the held-out median ivar-weighted χ²/N, the fit time (with
``uncertainty_cv=3`` and the ``return_std`` calibration, as a user's ``fit``) and the 1σ / 2σ
coverage to ``benchmarks/results/search/image_to_spectrum_scale.json``. ``--quick`` runs a
small split for 2 epochs (to exercise the code).
"""

import argparse
import time
import warnings

import numpy as np
import torch

from benchmarks.baselines import extra_trees_pca
from benchmarks.bench_image_to_spectrum import chi2_per_star
from benchmarks.bench_image_to_spectrum_scale import (
    DEV_SEEDS,
    THREADS,
    coverage,
    load_stars,
    split,
)
from benchmarks.search import write_results
from skspectra.images import ImageRegressor, ImageToSpectrum
from skspectra.images.image_to_spectrum import DEFAULT_REGRESSOR

#: Epochs of the default regressor tried at 20,000 stars.
EPOCHS = (34, 68)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    warnings.filterwarnings("ignore", category=UserWarning)
    torch.set_num_threads(THREADS)
    X, Y, W = load_stars()
    rows = []
    for seed in DEV_SEEDS:
        tr, te = split(len(X), seed, mode)
        et = extra_trees_pca(30, random_state=seed)
        et.regressor.set_params(n_jobs=THREADS)
        start = time.perf_counter()
        et.fit(X[tr], Y[tr])
        et_s = time.perf_counter() - start
        et_chi2 = float(np.median(chi2_per_star(et.predict(X[te]), Y[te], W[te])))
        rows.append({"seed": seed, "setting": "ExtraTrees(300) → PCA(30)", "chi2": et_chi2})
        rows[-1]["fit_s"] = et_s
        print(f"seed {seed}: ExtraTrees(300) → PCA(30) χ²/N = {et_chi2:.3f}, fit {et_s:.0f} s")
        for epochs in (2,) if args.quick else EPOCHS:
            regressor = ImageRegressor(**{**DEFAULT_REGRESSOR, "max_epochs": epochs})
            model = ImageToSpectrum(regressor=regressor, random_state=seed)
            start = time.perf_counter()
            model.fit(X[tr], Y[tr], ivar=W[tr])
            fit_s = time.perf_counter() - start
            pred, std = model.predict(X[te], return_std=True)
            chi2 = float(np.median(chi2_per_star(pred, Y[te], W[te])))
            one, two = coverage(pred, std, Y[te], W[te])
            rows.append(
                {
                    "seed": seed,
                    "setting": f"ImageToSpectrum(), {epochs} epochs",
                    "chi2": chi2,
                    "fit_s": fit_s,
                    "ratio_to_extra_trees": chi2 / et_chi2,
                    "coverage_1sigma": one,
                    "coverage_2sigma": two,
                }
            )
            print(
                f"seed {seed}: {epochs} epochs: χ²/N = {chi2:.3f} ({chi2 / et_chi2:.2f}x "
                f"ExtraTrees), fit {fit_s:.0f} s, coverage {one:.3f} / {two:.3f}",
                flush=True,
            )
    out = {
        "command": "python -m benchmarks.search.image_to_spectrum_scale",
        "dev_seeds": DEV_SEEDS,
        "threads": THREADS,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rows": rows,
    }
    write_results("image_to_spectrum_scale", out, quick=args.quick)


if __name__ == "__main__":
    main()
