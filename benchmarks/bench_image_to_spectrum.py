"""Spectra from photometry (or images): ImageToSpectrum against baselines on real Gaia XP stars.

Run::

    python benchmarks/bench_image_to_spectrum.py            # both cases, ~10 min on 1 thread
    python benchmarks/bench_image_to_spectrum.py --quick    # smoke run: few epochs
    python benchmarks/bench_image_to_spectrum.py --no-images

Protocol
--------
**Real case: photometry → Gaia XP spectrum.** ``load_gaia_xp()`` (3,000 real stars, 343 pixels,
3360-10200 Å, flux normalised to median 1, with ivar). Features: the G magnitude and the five
adjacent colours BP−G, G−RP, RP−J, J−H, H−K (Gaia EDR3 + 2MASS, Vega). Rows with any missing
magnitude are dropped (the count is printed). One fixed split, ``train_test_split(test_size=0.25,
random_state=0)``; every model is fitted on the training stars only (spectrum models with ivar
where they take it) and scored on the held-out stars:

- **median χ²/N**: median over stars of ``Σ ivar (ŷ − y)² / N`` (N unmasked pixels);
- **deviation**: the seed's metric, mean over stars and unmasked pixels of ``|ŷ − y| / σ``;
- **latent RMSE (σ)**: RMSE of the predicted latents against ``spectrum_model.transform`` of the
  true spectra, both in units of the training latents' standard deviation (Wu & Peek 2020 quote
  0.688 σ on galaxies); only for models with a latent space;
- fit time (s) and predictions per second (held-out stars), on one thread.

Rows: ImageToSpectrum(SpectralVAE) with the default regressor (ImageRegressor, an MLP on these
tabular features); kNN on the standardised features (the mean spectrum of the k nearest training
stars); RandomForest → PCA coefficients; sklearn's MLPRegressor → PCA coefficients; the
ImageRegressor MLP → PCA coefficients (the same regressor as the VAE row, to separate the latent
space from the regressor); the mean training spectrum (ceiling); each spectrum model's own
reconstruction of the true held-out spectra (floor: the best a perfect latent regressor could do).

**Image case (semi-synthetic).** ``make_image_spectrum_pairs`` renders multi-band images of the
same real spectra (speclite band fluxes, GalSim PSF and noise; see its docstring). ImageToSpectrum
with the CNN (ImageRegressor on the images) against a RandomForest on aperture photometry of the
same images, both decoding through the same kind of latent space. Same split.

Prints markdown tables and writes ``benchmarks/results/bench_image_to_spectrum[_quick].json``.
"""

import argparse
import time

import numpy as np
import torch
from _common import environment, markdown_table, write_json
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skspectra.datasets import load_gaia_xp, make_image_spectrum_pairs
from skspectra.images import ImageRegressor, ImageToSpectrum, aperture_photometry
from skspectra.spectra import SpectralVAE

SEED = 0
BANDS = ["G", "BP", "RP", "J", "H", "K"]


def photometry_features(photometry):
    """G and the adjacent colours BP−G, G−RP, RP−J, J−H, H−K: ``(n, 6)``, and the names."""
    m = photometry[BANDS].to_numpy(dtype=np.float64)
    G, BP, RP, J, H, K = m.T
    X = np.column_stack([G, BP - G, G - RP, RP - J, J - H, H - K])
    return X, ["G", "BP-G", "G-RP", "RP-J", "J-H", "H-K"]


def chi2_per_star(Y_pred, Y, ivar):
    return np.sum(ivar * (Y_pred - Y) ** 2, axis=1) / np.count_nonzero(ivar > 0, axis=1)


def deviation(Y_pred, Y, ivar):
    """Mean |ŷ − y| / σ over unmasked pixels of all stars (the seed's "spectral errors")."""
    good = ivar > 0
    return float(np.mean((np.abs(Y_pred - Y) * np.sqrt(ivar))[good]))


def vae(n_components, epochs):
    """The spectrum model of the ImageToSpectrum rows (recipe of bench_latent, tuned here)."""
    return SpectralVAE(
        n_components=n_components,
        n_filters=8,
        batch_size=32,
        lr=2e-3,
        max_epochs=epochs,
        kl_warmup_epochs=5,
        validation_fraction=None,
        callbacks=[("lr", _cosine(epochs))],
        random_state=SEED,
    )


def _cosine(epochs):
    from skorch.callbacks import LRScheduler

    return LRScheduler(policy="CosineAnnealingLR", T_max=epochs)


def evaluate(name, model, X_tr, Y_tr, ivar_tr, X_te, Y_te, ivar_te, *, fit_ivar=True):
    """Fit, time, score one model; a dict row (``model`` is an ImageToSpectrum or a regressor)."""
    t0 = time.perf_counter()
    if isinstance(model, ImageToSpectrum):
        model.fit(X_tr, Y_tr, ivar=ivar_tr if fit_ivar else None)
    else:
        model.fit(X_tr, Y_tr)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    Y_pred = model.predict(X_te)
    pred_s = time.perf_counter() - t0
    chi2 = chi2_per_star(Y_pred, Y_te, ivar_te)
    row = {
        "model": name,
        "median_chi2": float(np.median(chi2)),
        "deviation": deviation(Y_pred, Y_te, ivar_te),
        "latent_rmse": None,
        "floor_chi2": None,
        "fit_s": fit_s,
        "pred_per_s": len(X_te) / pred_s,
    }
    if isinstance(model, ImageToSpectrum):
        sm = model.spectrum_model_
        Z_true = (sm.transform(Y_te) - model.latent_mean_) / model.latent_scale_
        Z_pred = (model.predict_latent(X_te) - model.latent_mean_) / model.latent_scale_
        row["latent_rmse"] = float(np.sqrt(np.mean((Z_pred - Z_true) ** 2)))
        recon = sm.inverse_transform(sm.transform(Y_te))
        row["floor_chi2"] = float(np.median(chi2_per_star(recon, Y_te, ivar_te)))
        row["floor_deviation"] = deviation(recon, Y_te, ivar_te)
    print(
        f"  {name}: chi2 {row['median_chi2']:.2f}, dev {row['deviation']:.2f}, "
        f"latent {row['latent_rmse']}, floor {row['floor_chi2']}, fit {fit_s:.1f}s",
        flush=True,
    )
    return row


class MeanSpectrum:
    """Predicts the mean training spectrum for every star (the ceiling)."""

    def fit(self, X, Y):
        self.mean_ = np.mean(Y, axis=0)
        return self

    def predict(self, X):
        return np.tile(self.mean_, (len(X), 1))


def photometry_case(args):
    data = load_gaia_xp()
    X, names = photometry_features(data.photometry)
    ok = np.all(np.isfinite(X), axis=1) & np.any(data.ivar > 0, axis=1)
    n_dropped = int(np.sum(~ok))
    X, Y, ivar = X[ok], data.flux[ok], data.ivar[ok]
    idx_tr, idx_te = train_test_split(np.arange(len(X)), test_size=0.25, random_state=SEED)
    split = (X[idx_tr], Y[idx_tr], ivar[idx_tr], X[idx_te], Y[idx_te], ivar[idx_te])
    print(
        f"photometry case: {len(X)} stars ({n_dropped} dropped), {len(idx_tr)} train, "
        f"{len(idx_te)} test; features {names}",
        flush=True,
    )

    k, epochs, reg_epochs = args.n_components, args.vae_epochs, args.reg_epochs
    hidden = tuple(args.hidden)
    mlp = dict(hidden_layer_sizes=hidden, max_epochs=reg_epochs, random_state=SEED)
    rows = []
    rows.append(
        evaluate(
            f"ImageToSpectrum(SpectralVAE({k}), ImageRegressor MLP {hidden})",
            ImageToSpectrum(
                vae(k, epochs), ImageRegressor(**mlp), uncertainty_cv=None, random_state=SEED
            ),
            *split,
        )
    )
    rows.append(
        evaluate(
            f"kNN on colours (k={args.knn})",
            make_pipeline(StandardScaler(), KNeighborsRegressor(args.knn, weights="distance")),
            *split,
        )
    )
    for kp in args.pca:
        rows.append(
            evaluate(
                f"RandomForest → PCA({kp})",
                ImageToSpectrum(
                    PCA(kp),
                    RandomForestRegressor(200, min_samples_leaf=2, random_state=SEED),
                    uncertainty_cv=None,
                    random_state=SEED,
                ),
                *split,
            )
        )
        rows.append(
            evaluate(
                f"sklearn MLPRegressor → PCA({kp})",
                ImageToSpectrum(
                    PCA(kp),
                    make_pipeline(
                        StandardScaler(),
                        MLPRegressor(
                            hidden_layer_sizes=hidden,
                            max_iter=reg_epochs,
                            early_stopping=True,
                            random_state=SEED,
                        ),
                    ),
                    uncertainty_cv=None,
                    random_state=SEED,
                ),
                *split,
            )
        )
        rows.append(
            evaluate(
                f"ImageRegressor MLP {hidden} → PCA({kp})",
                ImageToSpectrum(
                    PCA(kp), ImageRegressor(**mlp), uncertainty_cv=None, random_state=SEED
                ),
                *split,
            )
        )
    rows.append(evaluate("mean spectrum (ceiling)", MeanSpectrum(), *split))
    return {
        "n_stars": len(X),
        "n_dropped": n_dropped,
        "n_train": len(idx_tr),
        "n_test": len(idx_te),
        "features": names,
        "rows": rows,
    }


def asinh_magnitudes(flux, softening):
    """Asinh magnitudes (Lupton et al. 1999) of aperture fluxes in counts: finite for flux <= 0."""
    return -2.5 / np.log(10) * (np.arcsinh(flux / (2 * softening)) + np.log(softening))


def image_case(args):
    """CNN on simulated images of the same stars against a RandomForest on their photometry."""
    data = load_gaia_xp()
    t0 = time.perf_counter()
    sim = make_image_spectrum_pairs(
        data.flux,
        data.wavelength,
        image_size=args.image_size,
        magnitude_range=tuple(args.magnitude_range),
        random_state=SEED,
    )
    sim_s = time.perf_counter() - t0
    images = sim.images
    radius = 2.5 * float(np.max(sim.psf_fwhm)) / sim.pixel_scale
    radius = min(radius, (args.image_size - 1) / 2)
    flux = aperture_photometry(images, radius)
    sky_sigma = np.sqrt(sim.sky_level * np.pi * radius**2)  # noise of an empty aperture, counts
    mags = asinh_magnitudes(flux, sky_sigma)
    phot = np.column_stack([mags[:, 2], -np.diff(mags, axis=1)])  # r and adjacent colours
    Y, ivar = data.flux, data.ivar
    idx_tr, idx_te = train_test_split(np.arange(len(Y)), test_size=0.25, random_state=SEED)
    print(
        f"image case: {images.shape} images of bands {sim.bands} simulated in {sim_s:.0f} s; "
        f"aperture radius {radius:.1f} px",
        flush=True,
    )

    def split(X):
        return (X[idx_tr], Y[idx_tr], ivar[idx_tr], X[idx_te], Y[idx_te], ivar[idx_te])

    k, epochs = args.n_components, args.vae_epochs
    cnn = ImageRegressor(
        hidden_layer_sizes=(128,),
        n_filters=args.cnn_filters,
        depth=2,
        max_epochs=args.cnn_epochs,
        random_state=SEED,
    )
    rf = RandomForestRegressor(200, min_samples_leaf=2, random_state=SEED)
    rows = [
        evaluate(
            f"ImageToSpectrum(SpectralVAE({k}), ImageRegressor CNN) on images",
            ImageToSpectrum(vae(k, epochs), cnn, uncertainty_cv=None, random_state=SEED),
            *split(images),
        ),
        evaluate(
            f"ImageToSpectrum(SpectralVAE({k}), RandomForest) on aperture photometry",
            ImageToSpectrum(vae(k, epochs), rf, uncertainty_cv=None, random_state=SEED),
            *split(phot),
        ),
    ]
    for kp in args.pca:
        rows.append(
            evaluate(
                f"RandomForest → PCA({kp}) on aperture photometry",
                ImageToSpectrum(PCA(kp), rf, uncertainty_cv=None, random_state=SEED),
                *split(phot),
            )
        )
    rows.append(evaluate("mean spectrum (ceiling)", MeanSpectrum(), *split(phot)))
    return {
        "images_shape": list(images.shape),
        "bands": list(sim.bands),
        "simulate_s": sim_s,
        "aperture_radius_px": radius,
        "rows": rows,
    }


def fmt(v, digits=2):
    return "–" if v is None else f"{v:.{digits}f}"


def table(rows):
    header = [
        "model",
        "median χ²/N",
        "deviation (σ)",
        "latent RMSE (σ)",
        "floor χ²/N (own recon.)",
        "fit (s)",
        "pred/s",
    ]
    body = [
        [
            r["model"],
            fmt(r["median_chi2"]),
            fmt(r["deviation"]),
            fmt(r["latent_rmse"], 3),
            fmt(r["floor_chi2"]),
            fmt(r["fit_s"], 1),
            f"{r['pred_per_s']:.0f}",
        ]
        for r in rows
    ]
    return markdown_table(header, body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-images", action="store_true")
    parser.add_argument("--n-components", type=int, default=6)
    parser.add_argument("--vae-epochs", type=int, default=60)
    parser.add_argument("--reg-epochs", type=int, default=200)
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 128])
    parser.add_argument("--knn", type=int, default=10)
    parser.add_argument("--pca", type=int, nargs="+", default=[6])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--image-size", type=int, default=16)
    parser.add_argument("--magnitude-range", type=float, nargs=2, default=[15.0, 18.0])
    parser.add_argument("--cnn-filters", type=int, default=8)
    parser.add_argument("--cnn-epochs", type=int, default=60)
    parser.add_argument("--no-photometry", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.quick:
        args.vae_epochs, args.reg_epochs, args.cnn_epochs = 3, 5, 2
    t0 = time.perf_counter()
    result = {"args": vars(args), "environment": environment()}
    if not args.no_photometry:
        result["photometry"] = photometry_case(args)
    if not args.no_images:
        result["images"] = image_case(args)
    if "photometry" in result:
        print("\n### Photometry → Gaia XP spectrum (held-out stars)\n")
        print(table(result["photometry"]["rows"]))
    if "images" in result:
        print("\n### Semi-synthetic images → Gaia XP spectrum (held-out stars)\n")
        print(table(result["images"]["rows"]))
    result["total_s"] = time.perf_counter() - t0
    print(f"\ntotal {result['total_s']:.0f} s")
    path = write_json(result, f"bench_image_to_spectrum{'_quick' if args.quick else ''}.json")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
