"""
======================================================
A variational autoencoder of real Gaia XP star spectra
======================================================

Train :class:`~skspectra.spectra.SpectralVAE` on the 3,000 Gaia DR3 XP spectra
that ship with skspectra, weighting each pixel by its inverse variance, then

* map the 6-D latent space to 2-D and colour it by the APOGEE Teff of each
  star (``latent_teff.png``),
* draw synthetic spectra with ``sample()``, from a Gaussian mixture of the
  training latents (the default, ``source='aggregate'``) and from the prior
  N(0, I), and set them beside real spectra (``samples.png``),
* show one held-out star against its reconstruction (``reconstruction.png``).

The figures go to a new directory (``skspectra_runs/vae_gaia_xp``, or
``-1``, ``-2``... if that exists; nothing is overwritten), or to ``--out``.
It takes about a minute on two CPU cores.

Run it with ``python examples/plot_vae_gaia_xp.py [--out DIR] [--epochs N]``.
"""

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import torch

from skspectra.datasets import load_gaia_xp
from skspectra.plotting import ReconstructionDisplay
from skspectra.plotting.latent import LatentDisplay
from skspectra.spectra.vae import SpectralVAE
from skspectra.utils import unique_path


def parse_args():
    parser = argparse.ArgumentParser(
        description="A variational autoencoder of real Gaia XP star spectra"
    )
    parser.add_argument("--out", type=Path, default=None, help="output directory (must not exist)")
    parser.add_argument("--epochs", type=int, default=30, help="most epochs (default 30)")
    return parser.parse_args()


def output_directory(out):
    if out is None:
        out = unique_path(Path("skspectra_runs") / "vae_gaia_xp")
    elif out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} exists and is not empty; choose a new --out directory.")
    out.mkdir(parents=True, exist_ok=True)
    return out


def plot_samples(vae, data, test, path):
    """Synthetic spectra from the prior and from the training latents, beside real stars."""
    rng = np.random.default_rng(1)
    panels = [
        (vae.sample(12, random_state=0), "vae.sample(12): the training latents' mixture"),
        (
            vae.sample(12, random_state=0, source="prior"),
            "vae.sample(12, source='prior'): N(0, I)",
        ),
        (data.flux[rng.choice(test, 12, replace=False)], "12 real held-out Gaia XP stars"),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), sharey=True)
    for ax, (spectra, title) in zip(axes, panels, strict=True):
        colours = plt.cm.plasma(np.linspace(0.05, 0.9, len(spectra)))
        # order by blue/red flux ratio so that colours run from hot to cool
        order = np.argsort(-spectra[:, :60].mean(axis=1) / spectra[:, -60:].mean(axis=1))
        for colour, spectrum in zip(colours, spectra[order], strict=True):
            ax.plot(data.wavelength, spectrum, color=colour, lw=1)
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("wavelength [Å]")
        ax.set_yscale("log")  # cool stars are 10-100 times brighter in the red than the blue
    axes[0].set_ylim(0.02, 200)
    axes[0].set_ylabel("flux / median flux")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def nearest_chi2(spectra, reference, ivar):
    """chi2/N of each spectrum against its closest reference spectrum, with per-pixel ivar."""
    return np.array([np.min(np.sum(ivar * (reference - s) ** 2, axis=1)) for s in spectra]) / len(
        ivar
    )


def main():
    args = parse_args()
    out = output_directory(args.out)
    torch.set_num_threads(1)  # small convolutions: one thread avoids contention

    data = load_gaia_xp()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(data.flux))
    train, test = order[:2500], order[2500:]

    # PCA start and early stopping are the defaults; max_epochs caps the run.
    vae = SpectralVAE(
        n_components=6, n_filters=8, batch_size=64, max_epochs=args.epochs, random_state=0
    )
    start = time.perf_counter()
    vae.fit(data.flux[train], ivar=data.ivar[train])
    elapsed = time.perf_counter() - start
    print(f"trained on {len(train)} spectra in {elapsed:.1f} s, {len(vae.history_)} epochs")

    X_test, ivar_test = data.flux[test], data.ivar[test]
    chi2 = np.sum(ivar_test * (X_test - vae.reconstruct(X_test)) ** 2, axis=1) / X_test.shape[1]
    print(f"held-out median chi2/N of the reconstruction: {np.median(chi2):.2f}")
    _, std = vae.encode(X_test)
    print("median posterior std per latent:", np.round(np.median(std, axis=0), 3))

    teff = data.labels["teff"].iloc[test]
    # 87 % of these stars lie between 3,500 and 7,000 K; hotter and cooler ones saturate.
    disp = LatentDisplay.from_estimator(
        vae, X_test, labels=teff, method="pca", s=10, vmin=3500, vmax=7000
    )
    disp.colorbar_.set_label("APOGEE Teff [K] (clipped to 3,500-7,000 K)")
    disp.ax_.set_title("SpectralVAE latent space of held-out Gaia XP stars")
    disp.figure_.tight_layout()
    disp.figure_.savefig(out / "latent_teff.png", dpi=120)

    plot_samples(vae, data, test, out / "samples.png")
    # How far is each synthetic spectrum from the closest real training star?
    reference, ivar = data.flux[train], vae.pixel_ivar_
    for name, spectra in [
        ("real held-out star", X_test[:200]),
        ("sample(), aggregate", vae.sample(200, random_state=1)),
        ("sample(), prior", vae.sample(200, random_state=1, source="prior")),
    ]:
        distance = np.median(nearest_chi2(spectra, reference, ivar))
        print(f"median chi2/N to the nearest training star, {name:>20s}: {distance:8.1f}")

    star = test[np.argsort(chi2)[len(chi2) // 2]]  # a typical star: the median chi2
    teff = data.labels["teff"].iloc[star]
    title = f"Gaia DR3 {data.ids['gaia_source_id'].iloc[star]}, Teff = {teff:.0f} K"
    disp = ReconstructionDisplay.from_estimator(
        vae, data.flux[star], ivar=data.ivar[star], wavelength=data.wavelength, title=title
    )
    disp.figure_.savefig(out / "reconstruction.png", dpi=120)
    print(f"figures written to {out}/")


if __name__ == "__main__":
    main()
