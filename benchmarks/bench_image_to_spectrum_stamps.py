"""Spectra from images: ImageToSpectrum's CNN on simulated ugriz stamps vs trees on photometry.

Run through the runner: ``python -m benchmarks run image_to_spectrum_stamps [--quick]``.

Protocol
--------
Data: the 3,000 real Gaia XP stars of ``load_gaia_xp()`` (343 pixels, 3360-10200 Å, flux
normalised to median 1, with ivar), each rendered by ``make_image_spectrum_pairs`` as a
**simulated** 5 × 16 × 16 SDSS ugriz stamp: a point source with the star's own band fluxes
(speclite, SDSS 2010 curves), a Moffat PSF of FWHM 1.4", r uniform in 16-20 AB mag, Poisson
noise on a sky of 100 counts per pixel (``benchmarks._stamps.gaia_stamps``). For each seed the
stamps are rendered with ``random_state=seed`` and split ``train_test_split(test_size=0.25,
random_state=seed)``; every model is fitted on the training stars only and scored on the
held-out ones by the median over stars of ``Σ ivar (ŷ − y)² / N`` (N unmasked pixels). Rows:

- ``ImageToSpectrum(random_state=seed)`` on the stamps: its defaults (PCA(40); an
  ImageRegressor CNN, 16 filters, depth 3, dense (256, 256, 256) whose first layer also reads
  each band's mean within 2, 3 and 5 px of the centre (``aperture_radii``, chosen on
  ``DEV_SEEDS`` by ``python -m benchmarks.search.image_to_spectrum_stamps_cnn``), 300 epochs;
  trained through the PCA decoder on the ivar-weighted χ² of the spectrum), with
  ``uncertainty_cv=None`` (the
  out-of-fold ``return_std`` calibration would take three more fits; ``return_std`` is
  checked in ``image_to_spectrum``). Its input (:data:`CNN_INPUT`: counts as rendered,
  asinh-stretched counts, each stamp scaled to [0, 1] by ``ImageNormalizer()``, or each stamp
  divided by its r-band aperture flux) was chosen on ``DEV_SEEDS``;
- the same ``ImageToSpectrum()`` on the aperture features below (an MLP), so that the
  network also gets the trees' inputs;
- ExtraTrees(300) → PCA(30) coefficients and HistGradientBoosting → PCA(30) coefficients
  (``benchmarks.baselines``), and a distance-weighted kNN (k by 5-fold CV from {3, 5, 10, 20,
  40}), all on **aperture features**: circular-aperture fluxes of radius :data:`RADIUS`
  pixels (chosen on ``DEV_SEEDS`` for ExtraTrees, from 2-7 px), as asinh r magnitude and the
  colours u−g, g−r, r−i, i−z (``benchmarks._stamps.aperture_features``);
- the mean training spectrum (ceiling) and the oracle PCA(30) of the true held-out spectrum.

The dev search is ``python -m benchmarks.search.image_to_spectrum_stamps``. In quick mode the
networks train for 2 epochs and HistGradientBoosting for 30 iterations.
"""

import warnings

import numpy as np
from sklearn.model_selection import train_test_split

from benchmarks._common import fmt_mean_std
from benchmarks._stamps import IMAGE_SIZE, aperture_features, cnn_input, gaia_sample, gaia_stamps
from benchmarks._stats import mean_sd
from benchmarks.baselines import extra_trees_pca
from benchmarks.bench_image_to_spectrum import (  # N_PCA: the trees', HGB's and oracle's 30
    N_PCA,
    MeanSpectrum,
    default_image_to_spectrum,
    fit_chi2,
    hist_gradient_boosting,
    knn_search,
    oracle_chi2,
)

NAME = "image_to_spectrum_stamps"
THREADS = 1
DEV_SEEDS = [0]
REPORT_SEEDS = [1, 2, 3]
#: Aperture radius (pixels) of the baselines' features: the best ExtraTrees radius on the dev
#: seed (benchmarks/results/search/image_to_spectrum_stamps.json).
RADIUS = 3.0
#: The CNN's input, chosen on the dev seed from ``benchmarks._stamps.CNN_INPUTS``.
CNN_INPUT = "÷ r aperture flux"
EPOCHS = {"full": None, "quick": 2}
CNN = "ImageToSpectrum() CNN on stamps"
MLP = "ImageToSpectrum() MLP on aperture features"
ET = f"ExtraTrees(300) → PCA({N_PCA})"
HGB = f"HistGradientBoosting → PCA({N_PCA})"
KNN = "kNN on aperture features"
MEAN = "mean spectrum (ceiling)"
ORACLE = f"oracle: PCA({N_PCA}) of the true spectrum"
BASELINES = (ET, HGB, KNN)


def image_to_spectrum(seed, epochs=None):
    """``ImageToSpectrum(random_state=seed, uncertainty_cv=None)``; ``epochs`` caps training."""
    return default_image_to_spectrum(seed, epochs, uncertainty_cv=None)


def models(seed, quick):
    epochs = EPOCHS["quick" if quick else "full"]
    return {
        CNN: image_to_spectrum(seed, epochs),
        MLP: image_to_spectrum(seed, epochs),
        ET: extra_trees_pca(N_PCA, random_state=seed),
        HGB: hist_gradient_boosting(seed, quick),
        KNN: knn_search(),
        MEAN: MeanSpectrum(),
    }


def run_seed(seed, quick):
    images, Y, ivar, sky, _ = gaia_stamps(seed)
    features = aperture_features(images, RADIUS, sky)
    idx_tr, idx_te = train_test_split(np.arange(len(Y)), test_size=0.25, random_state=seed)
    Y_tr, W_tr, Y_te, W_te = Y[idx_tr], ivar[idx_tr], Y[idx_te], ivar[idx_te]
    out = {"chi2": {}, "fit_s": {}}
    for name, model in models(seed, quick).items():
        X = cnn_input(CNN_INPUT, images, sky, RADIUS) if name == CNN else features
        out["chi2"][name], out["fit_s"][name] = fit_chi2(
            model, X[idx_tr], Y_tr, W_tr, X[idx_te], Y_te, W_te
        )
        if name == KNN:
            out["knn_k"] = int(model.best_params_["kneighborsregressor__n_neighbors"])
    out["chi2"][ORACLE] = oracle_chi2(Y_tr, Y_te, W_te, seed)
    return out


def run(quick: bool) -> dict:
    warnings.filterwarnings("ignore", category=UserWarning)
    per_seed = {seed: run_seed(seed, quick) for seed in REPORT_SEEDS}
    runs = list(per_seed.values())
    summary = {f"chi2/{m}": mean_sd([r["chi2"][m] for r in runs]) for m in runs[0]["chi2"]}
    summary.update({f"fit_s/{m}": mean_sd([r["fit_s"][m] for r in runs]) for m in runs[0]["fit_s"]})
    summary[f"{CNN}/× {ET}"] = mean_sd([r["chi2"][CNN] / r["chi2"][ET] for r in runs])
    _, ok = gaia_sample()  # the star counts, without rendering the stamps again
    n_stars, n_dropped = int(ok.sum()), int((~ok).sum())
    n_train = int(round(0.75 * n_stars))
    epochs = EPOCHS["quick" if quick else "full"]
    return {
        "protocol": (
            "Per seed: Gaia XP stars rendered as simulated ugriz stamps "
            f"(make_image_spectrum_pairs, {IMAGE_SIZE}x{IMAGE_SIZE} px, r 16-20, "
            "random_state=seed), one 75/25 split; "
            "held-out median ivar-weighted χ²/N of the 343-pixel spectrum; "
            f"ImageToSpectrum(random_state=seed, uncertainty_cv=None) on the stamps ({CNN_INPUT}) "
            "and on aperture features; ExtraTrees(300) and HistGradientBoosting → PCA(30) "
            "coefficients and kNN (k by 5-fold CV) on aperture features (asinh r and four "
            f"colours, radius {RADIUS:g} px); mean spectrum; oracle PCA(30) of the true spectrum."
        ),
        "data": (
            f"load_gaia_xp(): {n_stars} stars ({n_dropped} fully masked dropped), simulated "
            f"5x{IMAGE_SIZE}x{IMAGE_SIZE} ugriz stamps; about {n_train} training / "
            f"{n_stars - n_train} held-out stars per split"
        ),
        "seeds": REPORT_SEEDS,
        "per_seed": per_seed,
        "summary": summary,
        "epochs": "defaults" if epochs is None else f"regressor max_epochs={epochs}",
    }


def tables(result: dict) -> dict:
    res = result["result"]
    runs = list(res["per_seed"].values())
    caption = (
        f"{result.get('mode', '?')} run of {result.get('started', '?')[:10]}, seeds "
        f"{res['seeds']} (mean ± sd); {res['data']}; networks: {res['epochs']}."
    )
    best = min(BASELINES, key=lambda m: np.mean([r["chi2"][m] for r in runs]))
    rows = []
    for m in runs[0]["chi2"]:
        ratio = [r["chi2"][m] / r["chi2"][best] for r in runs]
        fit = [r["fit_s"][m] for r in runs] if m in runs[0]["fit_s"] else []
        rows.append(
            [m, fmt_mean_std([r["chi2"][m] for r in runs], 2), fmt_mean_std(ratio, 2)]
            + [fmt_mean_std(fit, 1)]
        )
    return {
        "stamps": {
            "header": ["model", "median χ²/N", f"× best baseline ({best})", "fit (s)"],
            "rows": rows,
            "caption": f"Simulated ugriz stamps → Gaia XP spectrum, held-out stars; CNN input: "
            f"{CNN_INPUT}; aperture radius {RADIUS:g} px. " + caption,
        },
    }
