"""Residual detail for generated spectra: which model of what k latents miss, on dev seeds.

``python -m benchmarks.search.vae_sample_detail`` asks why ``SpectralVAE(6).sample()`` is told
from real stars (C2ST 0.925 on the report seeds, and 0.891 for the reconstructions of the
held-out stars themselves, with no sampling), and whether a model of the reconstruction
residuals closes the gap. On ``bench_generative``'s split of ``load_gaia_xp()`` for the dev
seeds :data:`DEV_SEEDS`, with its settings (ivar, ``n_filters=8``, batches of 64, the default
``max_epochs`` and early stopping), it fits ``SpectralVAE(6)`` and, as the baseline,
``PCA(6)`` + ``GaussianMixture(10)``. Each generator then gets every residual model of
:data:`DETAILS` alike, fitted to *its own* residuals on the training stars:

- ``none``: the noise-free samples (what ``sample()`` returns today);
- ``gauss-m``: a zero-mean Gaussian of rank ``m``, the PCA(m) of the residuals with
  independent normal coefficients of their variances;
- ``joint-m``: a ``GaussianMixture(10)`` on the latents (or PCA scores) and the residual's
  PCA(m) coefficients together, standardised, so that the detail depends on the star drawn;
  the latents come from that mixture too.

It writes the C2ST ROC-AUC (``bench_generative.c2st_auc``) of each combination against the
held-out stars, and the fraction of negative pixels, to
``benchmarks/results/search/vae_sample_detail.json``; ``--quick`` trains 2 epochs.
"""

import argparse
import time

import numpy as np
from joblib import Parallel, delayed

from benchmarks.search import write_results

DEV_SEEDS = [0, 4, 5]
K = 6
N_MIX = 10
DETAILS = ["none", "gauss-20", "gauss-34", "joint-20", "joint-34"]


def _standardised_mixture(features, seed):
    """A GaussianMixture(N_MIX) on standardised ``features``, with its loc and scale."""
    from sklearn.mixture import GaussianMixture

    loc, scale = features.mean(axis=0), features.std(axis=0) + 1e-12
    gmm = GaussianMixture(N_MIX, covariance_type="full", random_state=seed)
    return gmm.fit((features - loc) / scale), loc, scale


def _draws(latents, residuals, decode, n, detail, seed):
    """``n`` spectra: decoded latents plus residual detail of kind ``detail``."""
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(seed)
    if detail == "none":
        gmm, loc, scale = _standardised_mixture(latents, seed)
        return decode(gmm.sample(n)[0] * scale + loc)
    kind, m = detail.split("-")
    pca = PCA(int(m), random_state=seed).fit(residuals)
    coeffs = pca.transform(residuals)
    if kind == "gauss":
        gmm, loc, scale = _standardised_mixture(latents, seed)
        z = gmm.sample(n)[0] * scale + loc
        c = rng.standard_normal((n, int(m))) * np.sqrt(pca.explained_variance_)
    else:
        gmm, loc, scale = _standardised_mixture(np.hstack([latents, coeffs]), seed)
        both = gmm.sample(n)[0] * scale + loc
        z, c = both[:, :K], both[:, K:]
    return decode(z) + pca.inverse_transform(c)


def _one(seed, epochs):
    import torch
    from sklearn.decomposition import PCA
    from sklearn.model_selection import train_test_split

    from benchmarks.bench_generative import c2st_auc
    from skspectra import SpectralVAE
    from skspectra.datasets import load_gaia_xp

    torch.set_num_threads(1)
    data = load_gaia_xp()
    X, W = data.flux, data.ivar
    idx_tr, idx_te = train_test_split(np.arange(len(X)), test_size=0.25, random_state=seed)
    X_tr, W_tr, X_te = X[idx_tr], W[idx_tr], X[idx_te]
    start = time.perf_counter()
    vae = SpectralVAE(
        n_components=K, n_filters=8, batch_size=64, max_epochs=epochs, random_state=seed
    ).fit(X_tr, ivar=W_tr)
    fit_s = time.perf_counter() - start
    pca = PCA(K, random_state=seed).fit(X_tr)
    generators = {
        "SpectralVAE": (
            vae.transform(X_tr, ivar=W_tr),
            X_tr - vae.reconstruct(X_tr, ivar=W_tr),
            vae.inverse_transform,
        ),
        f"PCA({K}) + GMM({N_MIX})": (
            pca.transform(X_tr),
            X_tr - pca.inverse_transform(pca.transform(X_tr)),
            pca.inverse_transform,
        ),
    }
    out = {"fit_s": fit_s, "epochs": len(vae.history_), "c2st_auc": {}, "negative_flux": {}}
    for name, (latents, residuals, decode) in generators.items():
        for detail in DETAILS:
            fake = _draws(latents, residuals, decode, len(X_te), detail, seed)
            key = f"{name}, {detail}"
            out["c2st_auc"][key] = c2st_auc(X_te, fake, seed)
            out["negative_flux"][key] = float(np.mean(fake < 0))
    out["negative_flux"]["held-out stars"] = float(np.mean(X_te < 0))
    return seed, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 epochs (a smoke run)")
    args = parser.parse_args(argv)
    epochs = 2 if args.quick else 200
    start = time.perf_counter()
    runs = dict(Parallel(n_jobs=2)(delayed(_one)(seed, epochs) for seed in DEV_SEEDS))
    keys = runs[DEV_SEEDS[0]]["c2st_auc"]
    mean = {k: float(np.mean([runs[s]["c2st_auc"][k] for s in DEV_SEEDS])) for k in keys}
    for key, value in mean.items():
        print(f"{key:40s} C2ST {value:.3f}")
    write_results(
        "vae_sample_detail",
        {
            "dev_seeds": DEV_SEEDS,
            "per_seed": runs,
            "mean_c2st_auc": mean,
            "wall_s": time.perf_counter() - start,
        },
        quick=args.quick,
    )


if __name__ == "__main__":
    main()
