"""
==============================================
Each estimator beside a RandomForest baseline
==============================================

Every skspectra estimator is set beside a random-forest model of scikit-learn on
the same real data, the same split and the same metric:
:class:`~sklearn.ensemble.IsolationForest` for the anomaly detectors,
:class:`~sklearn.ensemble.RandomForestRegressor` for the regressors. It is the
check to make before trusting a deep model: does it beat a forest?

- SpectralCAE and SpectralVAE: Gaia XP spectra, 5 % with injected anomalies (mixed
  kinds); find the injected anomalies, scored by ROC-AUC.
- GaussianLineFitter (its generic, multi-output mode): Gaia XP spectra; APOGEE Teff and
  log g, scored by mean R².
- ImageAutoencoder: Hubble Deep Field stamps; the rank of the one bright star (1 = found).
- ImageRegressor: 5-band images of Gaia XP stars; APOGEE Teff and log g, mean R².
- ImageToSpectrum: the same images; the star's XP spectrum, median χ²/N.

The images of Gaia XP stars are simulated from their real spectra
(:func:`~skspectra.datasets.make_image_spectrum_pairs`: SDSS ugriz band fluxes
with speclite, point sources drawn with GalSim); no package ships real
image-spectrum pairs. Settings are small (few epochs, small networks, small
forests) so that the whole example runs in about a minute on two CPU cores:
the numbers compare the models at that budget, not at their best.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest, RandomForestRegressor
from sklearn.metrics import r2_score, roc_auc_score

from skspectra import (
    GaussianLineFitter,
    ImageAutoencoder,
    ImageRegressor,
    ImageToSpectrum,
    SpectralCAE,
    SpectralVAE,
)
from skspectra.datasets import (
    inject_anomalies,
    load_gaia_xp,
    load_hubble_deep_field,
    make_image_spectrum_pairs,
)

torch.set_num_threads(1)
SEED = 0
rows = []


def forest(n_estimators=100):
    """The regression baseline: features sampled per split (sqrt), so that it stays fast."""
    return RandomForestRegressor(
        n_estimators, max_features="sqrt", min_samples_leaf=2, n_jobs=2, random_state=SEED
    )


def timed(fit):
    start = time.perf_counter()
    model = fit()
    return model, time.perf_counter() - start


def record(task, metric, ours, baseline, higher_is_better=True, labels=None):
    """One row of the table; ``labels`` are the short names of the two models in the figure."""
    (ours_model, ours_score, ours_s), (base_name, base_score, base_s) = ours, baseline
    rows.append(
        {
            "task": task,
            "skspectra": ours_model,
            "score": ours_score,
            "fit s": ours_s,
            "baseline": base_name,
            "baseline score": base_score,
            "baseline fit s": base_s,
            "metric": metric + (" ↑" if higher_is_better else " ↓"),
            "labels": labels or (ours_model, base_name.replace("Regressor", "")),
        }
    )


# %%
# Anomalies in Gaia XP spectra
# ----------------------------
# 600 real spectra, 30 of them with an injected anomaly of a random kind
# (emission or absorption line, dropout, cosmic ray, slope, step, ripple,
# stitched spectra). Each detector is fitted on the contaminated set and ranks
# it (transductive). IsolationForest sees the raw flux.

gaia = load_gaia_xp()
X_anom, is_anomaly = inject_anomalies(
    gaia.flux[:600], kind="mixed", fraction=0.05, wavelength=gaia.wavelength, random_state=SEED
)
iso, iso_s = timed(lambda: IsolationForest(n_estimators=200, random_state=SEED).fit(X_anom))
iso_auc = roc_auc_score(is_anomaly, -iso.score_samples(X_anom))
for Model in (SpectralCAE, SpectralVAE):
    model, fit_s = timed(
        lambda Model=Model: Model(
            n_components=8, n_filters=4, depth=2, max_epochs=8, random_state=SEED
        ).fit(X_anom)
    )
    auc = roc_auc_score(is_anomaly, -model.score_samples(X_anom))
    record(
        "spectral anomalies",
        "ROC-AUC",
        (Model.__name__, auc, fit_s),
        ("IsolationForest", iso_auc, iso_s),
    )

# %%
# Stellar labels from Gaia XP spectra
# -----------------------------------
# :class:`~skspectra.lines.GaussianLineFitter` is a multi-scale convolutional
# network; given targets that are not line tables it regresses them directly.
# Here: APOGEE's effective temperature and surface gravity, 1,200 stars to
# train on and 600 to test.

labels = gaia.labels[["teff", "logg"]].to_numpy()
good = np.flatnonzero(np.all(np.isfinite(labels), axis=1))
train, test = good[:1200], good[1200:1800]
glf, glf_s = timed(
    lambda: GaussianLineFitter(
        kernel_sizes=(3, 9),
        n_blocks=3,
        n_filters=4,
        hidden_size=64,
        max_epochs=15,
        random_state=SEED,
    ).fit(gaia.flux[train], labels[train])
)
rf, rf_s = timed(lambda: forest().fit(gaia.flux[train], labels[train]))
record(
    "Teff, log g from spectra",
    "mean R²",
    ("GaussianLineFitter", r2_score(labels[test], glf.predict(gaia.flux[test])), glf_s),
    ("RandomForestRegressor", r2_score(labels[test], rf.predict(gaia.flux[test])), rf_s),
)

# %%
# The bright star among Hubble Deep Field galaxies
# ------------------------------------------------
# About 600 colour stamps of 32 × 32 pixels, nearly all galaxies; one is centred
# on a bright star with diffraction spikes. Rank 1 means the detector put it
# first among the anomalies. The autoencoder scores each stamp by its mean
# squared residual over all pixels (``pooling="top_pixels", n_top_pixels=None``):
# the spikes spread over many pixels, while the 16 worst pixels alone are
# dominated by the cores of bright galaxies. In one run on this machine that
# moved the star from rank 85 to 11.


def rank_of(scores, index):
    """1 + the number of stamps scored as more anomalous (lower) than ``index``."""
    return int(1 + np.sum(scores < scores[index]))


hdf = load_hubble_deep_field(size=32)
star = hdf.bright_star_index
flat = hdf.images.reshape(len(hdf.images), -1)
ae, ae_s = timed(
    lambda: ImageAutoencoder(
        n_components=8,
        n_filters=4,
        depth=2,
        pooling="top_pixels",
        n_top_pixels=None,
        max_epochs=5,
        random_state=SEED,
    ).fit(hdf.images)
)
iso_img, iso_img_s = timed(lambda: IsolationForest(n_estimators=200, random_state=SEED).fit(flat))
record(
    f"bright star in {len(flat)} HDF stamps",
    "rank",
    ("ImageAutoencoder", rank_of(ae.score_samples(hdf.images), star), ae_s),
    ("IsolationForest", rank_of(iso_img.score_samples(flat), star), iso_img_s),
    higher_is_better=False,
)

# %%
# Labels and spectra from images of Gaia XP stars
# -----------------------------------------------
# 900 stars drawn as SDSS ugriz point sources of r = 16-20 on 16 × 16 pixels.
# The forest sees the flattened pixels. For the spectra, the mission card's
# baseline is ``ImageToSpectrum(PCA(8), RandomForestRegressor())``; the deep
# version pairs a SpectralCAE with the CNN of ImageRegressor.

pairs = good[:900]
sim = make_image_spectrum_pairs(gaia.flux[pairs], gaia.wavelength, image_size=16, random_state=SEED)
images, flat_images = sim.images, sim.images.reshape(len(pairs), -1)
itr, ite = np.arange(600), np.arange(600, 900)
y_img = labels[pairs]
cnn, cnn_s = timed(
    lambda: ImageRegressor(n_filters=8, depth=2, max_epochs=20, random_state=SEED).fit(
        images[itr], y_img[itr]
    )
)
rf_img, rf_img_s = timed(lambda: forest().fit(flat_images[itr], y_img[itr]))
record(
    "Teff, log g from images",
    "mean R²",
    ("ImageRegressor", r2_score(y_img[ite], cnn.predict(images[ite])), cnn_s),
    ("RandomForestRegressor", r2_score(y_img[ite], rf_img.predict(flat_images[ite])), rf_img_s),
)

spectra, ivar = gaia.flux[pairs], gaia.ivar[pairs]
deep, deep_s = timed(
    lambda: ImageToSpectrum(
        SpectralCAE(n_components=8, n_filters=4, depth=2, max_epochs=8),
        ImageRegressor(n_filters=8, depth=2, max_epochs=20),
        uncertainty_cv=None,
        random_state=SEED,
    ).fit(images[itr], spectra[itr])
)
base, base_s = timed(
    lambda: ImageToSpectrum(PCA(8), forest(), uncertainty_cv=None, random_state=SEED).fit(
        flat_images[itr], spectra[itr]
    )
)
record(
    "XP spectrum from images",
    "median χ²/N",
    ("ImageToSpectrum(SpectralCAE, ImageRegressor)",
     deep.chi2_score(images[ite], spectra[ite], ivar[ite]), deep_s),
    ("ImageToSpectrum(PCA, RandomForestRegressor)",
     base.chi2_score(flat_images[ite], spectra[ite], ivar[ite]), base_s),
    higher_is_better=False,
    labels=("SpectralCAE +\nImageRegressor", "PCA +\nRandomForest"),
)  # fmt: skip

# %%
# The table
# ---------
# ↑: higher is better; ↓: lower is better. Fit times are wall-clock seconds of
# this run (the forests use two processes, the networks one thread).

table = pd.DataFrame(rows).set_index("task")
with pd.option_context("display.width", 200, "display.max_columns", 10, "display.precision", 3):
    print(table.drop(columns=["baseline", "labels"]).to_string())
table.drop(columns="labels")

# %%
# The figure: one panel per comparison.

fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), layout="constrained")
for ax, row in zip(axes.flat, rows, strict=True):
    values = [row["score"], row["baseline score"]]
    bars = ax.bar(row["labels"], values, color=["C0", "C2"])
    ax.bar_label(bars, fmt="%.3g")
    ax.set(title=row["task"], ylabel=row["metric"])
    ax.tick_params(axis="x", labelsize=8)
    if row["metric"].startswith(("ROC", "mean R²")):
        ax.set_ylim(min(0, *values), 1.05)
    else:
        ax.set_ylim(0, 1.15 * max(values))
plt.show()
