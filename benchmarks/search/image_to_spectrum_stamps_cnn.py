"""Can a tuned CNN close the stamps gap? ``ImageToSpectrum``'s CNN with other regressor settings.

``python -m benchmarks.search.image_to_spectrum_stamps_cnn`` fits ``ImageToSpectrum()`` on the
stamps of ``benchmarks/bench_image_to_spectrum_stamps.py``'s ``DEV_SEEDS`` only, on its
dev-chosen input (:data:`~benchmarks.bench_image_to_spectrum_stamps.CNN_INPUT`), with the
default regressor (``DEFAULT_REGRESSOR``) with each change of :data:`VARIANTS` to it: the
apertures whose photometry its dense layers read (none, as before 2026-12-06, or radii in
pixels; the default is the best of them). Two
variants run at a time, one torch thread each. It prints the held-out median ivar-weighted
χ²/N and writes ``benchmarks/results/search/image_to_spectrum_stamps_cnn.json``; ``--quick``
runs 2 epochs (to exercise the code).

An earlier run of this search (the results file as of commit ``72052b3``), on the regressor
without apertures, tried more regularisation and other sizes; none beat its defaults (χ²/N
9.26): dropout 0.2 gave 40.5, alpha 1e-2 13.0, dense (128, 128) 11.0, depth 2 with 32
filters 9.10 at 1.8× the fit time (390 s against 221 s).

The report seeds never enter: a variant that won here would become a new benchmark row (and
be measured on the report seeds) only after this search.
"""

import argparse
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import train_test_split

from benchmarks._stamps import cnn_input, gaia_stamps
from benchmarks.bench_image_to_spectrum import fit_chi2
from benchmarks.bench_image_to_spectrum_stamps import CNN_INPUT, DEV_SEEDS, RADIUS
from benchmarks.search import write_results
from skspectra.images import ImageRegressor, ImageToSpectrum
from skspectra.images.image_to_spectrum import DEFAULT_REGRESSOR

#: Changes to ``DEFAULT_REGRESSOR`` (16 filters, depth 3, dense (256, 256, 256), alpha 1e-4,
#: no dropout, 300 epochs): the apertures whose photometry the dense layers read.
VARIANTS = {
    "no apertures (the default before 2026-12-06)": {"aperture_radii": ()},
    "aperture 3 px (the baselines' radius)": {"aperture_radii": (3.0,)},
    "aperture 5 px": {"aperture_radii": (5.0,)},
    "apertures 2, 3, 5 px": {"aperture_radii": (2.0, 3.0, 5.0)},
}


def _one(name, change, seed, epochs):
    import torch

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)
    images, Y, W, sky, _ = gaia_stamps(seed)
    X = cnn_input(CNN_INPUT, images, sky, RADIUS)
    tr, te = train_test_split(np.arange(len(Y)), test_size=0.25, random_state=seed)
    params = {**DEFAULT_REGRESSOR, **change}
    if epochs is not None:
        params["max_epochs"] = epochs
    model = ImageToSpectrum(
        regressor=ImageRegressor(**params), uncertainty_cv=None, random_state=seed
    )
    chi2, fit_s = fit_chi2(model, X[tr], Y[tr], W[tr], X[te], Y[te], W[te])
    print(f"seed {seed}: CNN, {name}: χ²/N = {chi2:.3f}, fit {fit_s:.0f} s", flush=True)
    return {"seed": seed, "setting": name, "change": repr(change), "chi2": chi2, "fit_s": fit_s}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    epochs = 2 if args.quick else None
    rows = Parallel(n_jobs=2)(
        delayed(_one)(name, change, seed, epochs)
        for seed in DEV_SEEDS
        for name, change in VARIANTS.items()
    )
    out = {
        "command": "python -m benchmarks.search.image_to_spectrum_stamps_cnn",
        "dev_seeds": DEV_SEEDS,
        "cnn_input": CNN_INPUT,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rows": rows,
    }
    write_results("image_to_spectrum_stamps_cnn", out, quick=args.quick)


if __name__ == "__main__":
    main()
