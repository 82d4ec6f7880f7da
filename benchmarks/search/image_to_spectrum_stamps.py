"""Choose the stamps benchmark's settings on the dev split: aperture radius and CNN input.

``python -m benchmarks.search.image_to_spectrum_stamps`` works on the ugriz stamps → Gaia XP
task of ``benchmarks/bench_image_to_spectrum_stamps.py``, on its ``DEV_SEEDS`` only (stamps
rendered and split with that seed; never a report seed), one thread. It prints the held-out
median ivar-weighted χ²/N of

- ExtraTrees(300) → PCA(30) on aperture features (asinh r and four colours), for each aperture
  radius of :data:`RADII` (pixels): the baselines' radius is the best of these;
- ``ImageToSpectrum()`` (its defaults, ``uncertainty_cv=None``) on the same features at each
  radius, so that the MLP gets the same choice;
- ``ImageToSpectrum()`` on the stamps, a CNN: on the counts as rendered, on asinh-stretched
  counts (:func:`benchmarks._stamps.stretch`), on each stamp scaled to [0, 1] over all its
  bands by ``ImageNormalizer()`` (:func:`benchmarks._stamps.normalise`), and on each stamp
  divided by its r-band aperture flux in :data:`RADIUS` px (:func:`benchmarks._stamps.relative`).

It writes ``benchmarks/results/search/image_to_spectrum_stamps.json``. ``--quick`` runs two
radii and 2 epochs (to exercise the code).
"""

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from benchmarks._stamps import CNN_INPUTS, aperture_features, cnn_input, gaia_stamps
from benchmarks.baselines import extra_trees_pca
from benchmarks.bench_image_to_spectrum import fit_chi2
from benchmarks.bench_image_to_spectrum_stamps import DEV_SEEDS, N_PCA, RADIUS, image_to_spectrum
from benchmarks.search import write_results

RADII = (2.0, 3.0, 4.0, 5.0, 7.0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)
    torch.set_num_threads(1)
    epochs = 2 if args.quick else None
    radii = RADII[1:3] if args.quick else RADII
    rows = []

    def record(seed, setting, chi2, fit_s):
        rows.append({"seed": seed, "setting": setting, "chi2": chi2, "fit_s": fit_s})
        print(f"seed {seed}: {setting}: χ²/N = {chi2:.3f}, fit {fit_s:.0f} s", flush=True)

    for seed in DEV_SEEDS:
        images, Y, W, sky, _ = gaia_stamps(seed)
        tr, te = train_test_split(np.arange(len(Y)), test_size=0.25, random_state=seed)
        split = (Y[tr], W[tr])
        for radius in radii:
            X = aperture_features(images, radius, sky)
            et = extra_trees_pca(N_PCA, random_state=seed)
            chi2, fit_s = fit_chi2(et, X[tr], *split, X[te], Y[te], W[te])
            record(seed, f"ExtraTrees(300) → PCA({N_PCA}), aperture r={radius:g} px", chi2, fit_s)
            mlp = image_to_spectrum(seed, epochs)
            chi2, fit_s = fit_chi2(mlp, X[tr], *split, X[te], Y[te], W[te])
            record(seed, f"ImageToSpectrum() MLP, aperture r={radius:g} px", chi2, fit_s)
        for label in CNN_INPUTS:
            X = cnn_input(label, images, sky, RADIUS)
            cnn = image_to_spectrum(seed, epochs)
            chi2, fit_s = fit_chi2(cnn, X[tr], *split, X[te], Y[te], W[te])
            record(seed, f"ImageToSpectrum() CNN on stamps, {label}", chi2, fit_s)
    out = {
        "command": "python -m benchmarks.search.image_to_spectrum_stamps",
        "dev_seeds": DEV_SEEDS,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rows": rows,
    }
    write_results("image_to_spectrum_stamps", out, quick=args.quick)


if __name__ == "__main__":
    main()
