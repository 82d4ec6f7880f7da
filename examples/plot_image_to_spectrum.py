"""
====================================================
Gaia XP spectra predicted from six magnitudes
====================================================

Fit :class:`~skspectra.images.ImageToSpectrum` with its defaults on 2,250
real Gaia XP stars: PCA learns a 40-D latent space of the spectra, and an
:class:`~skspectra.images.ImageRegressor` (an MLP on these tabular features)
learns to predict it from the G magnitude and the colours BP−G, G−RP, RP−J,
J−H, H−K, trained through the PCA decoder on the ivar-weighted χ² of the
spectrum. Then predict the spectra of held-out stars from their photometry
alone, with a ±1σ and ±2σ band: latents drawn around the prediction with the
out-of-fold residual covariance, decoded by PCA
(``predict(X, return_std=True)``).

The MLP trains for ``--epochs`` epochs (100 here, to keep the example near a
minute on one CPU core; the default, 300, gives a lower χ²: see the
benchmark table in the image-to-spectrum guide). The figure goes to
``skspectra_runs/image_to_spectrum.png`` (or ``-1``, ``-2``... if it exists;
nothing is overwritten), or to ``--out``.

Run it with ``python examples/plot_image_to_spectrum.py [--out FILE] [--epochs N]``.
"""

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.model_selection import train_test_split

from skspectra.datasets import load_gaia_xp
from skspectra.images import ImageRegressor, ImageToSpectrum
from skspectra.utils import unique_path


def parse_args():
    parser = argparse.ArgumentParser(description="Gaia XP spectra predicted from six magnitudes")
    parser.add_argument("--out", type=Path, default=None, help="output PNG (must not exist)")
    parser.add_argument("--epochs", type=int, default=100, help="MLP epochs (default 100)")
    return parser.parse_args()


def photometry_features(photometry):
    """G and the adjacent colours BP−G, G−RP, RP−J, J−H, H−K (Vega magnitudes)."""
    G, BP, RP, J, H, K = photometry[["G", "BP", "RP", "J", "H", "K"]].to_numpy().T
    return np.column_stack([G, BP - G, G - RP, RP - J, J - H, H - K])


def main():
    args = parse_args()
    torch.set_num_threads(1)
    out = unique_path(args.out or Path("skspectra_runs") / "image_to_spectrum.png")
    out.parent.mkdir(parents=True, exist_ok=True)

    data = load_gaia_xp()
    X = photometry_features(data.photometry)
    train, test = train_test_split(np.arange(len(X)), test_size=0.25, random_state=0)

    regressor = ImageRegressor(hidden_layer_sizes=(256, 256, 256), max_epochs=args.epochs)
    model = ImageToSpectrum(regressor=regressor, random_state=0)
    start = time.perf_counter()
    model.fit(X[train], data.flux[train], ivar=data.ivar[train])
    print(f"fit in {time.perf_counter() - start:.0f} s")
    chi2 = model.chi2_score(X[test], data.flux[test], data.ivar[test])
    print(f"held-out median χ²/N = {chi2:.1f} ({len(test)} stars)")

    # six held-out stars spread in Teff, from the coolest to the hottest
    teff = data.labels["teff"].to_numpy()[test]
    order = np.argsort(teff)
    shown = test[order[np.linspace(0, len(order) - 1, 6).round().astype(int)]]
    pred, std = model.predict(X[shown], return_std=True)

    wave = data.wavelength / 10  # nm
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), sharex=True, constrained_layout=True)
    for ax, i, p, s in zip(axes.flat, shown, pred, std, strict=True):
        obs, ivar = data.flux[i], data.ivar[i]
        sigma = np.where(ivar > 0, 1 / np.sqrt(np.where(ivar > 0, ivar, 1)), np.nan)
        star_chi2 = np.sum(ivar * (p - obs) ** 2) / np.count_nonzero(ivar)
        ax.fill_between(wave, p - 2 * s, p + 2 * s, color="C1", alpha=0.2, lw=0, label="±2σ")
        ax.fill_between(wave, p - s, p + s, color="C1", alpha=0.4, lw=0, label="±1σ")
        ax.plot(wave, p, color="C1", lw=1.2, label="predicted from photometry")
        ax.errorbar(wave, obs, sigma, color="k", lw=0.8, label="observed (Gaia XP)")
        labels = data.labels.iloc[i]
        ax.set_title(
            f"Teff {labels.teff:.0f} K, logg {labels.logg:.1f}, χ²/N {star_chi2:.1f}",
            fontsize=10,
        )
    for ax in axes[1]:
        ax.set_xlabel("wavelength (nm)")
    for ax in axes[:, 0]:
        ax.set_ylabel("flux / median")
    axes[0, 0].legend(fontsize=8, loc="best")
    fig.suptitle(
        "Held-out Gaia XP stars: spectra predicted from G, BP, RP, J, H, K "
        f"(ImageToSpectrum, median χ²/N = {chi2:.1f})"
    )
    fig.savefig(out, dpi=110)
    print(f"saved {out}")


if __name__ == "__main__":
    main()
