"""Latent spaces side by side on real stars: SpectralVAE, SpectralCAE and PCA.

Run::

    python benchmarks/bench_latent.py                    # Gaia XP sample (3,000 stars) + MILES
    python benchmarks/bench_latent.py --data gaia-full   # all of fetch_gaia_xp() (slow)
    python benchmarks/bench_latent.py --quick            # smoke run: few epochs, k = 6 only
    python benchmarks/bench_latent.py --data miles --ks 2 4 6 10 --max-train 500

Protocol
--------
Each data set is split once, 75/25, with ``train_test_split(random_state=0)`` (``--max-train``
keeps the first N of the shuffled training part). Every model is fitted on the training part
only, with the inverse variance where the data have one. The CAE keeps its recipe of the last
round: ``n_filters=8``, batches of 32, Adam at 2e-3 with cosine decay, ``--epochs`` epochs (20).
The VAE uses its class defaults (PCA-initialised linear path, early stopping on the validation
objective with patience 10 and at most ``--epochs`` epochs) with ``n_filters=8`` and batches of
64; on MILES (4,300 pixels) ``n_filters=4`` and patience 5, so that the whole run fits in 15
minutes on two cores.

1. **Reconstruction** of the held-out spectra: median over spectra of the reduced χ²,
   ``Σ ivar (x − x̂)² / N``, for SpectralVAE (decoding the posterior mean), SpectralCAE and PCA
   (plain, unweighted ``sklearn.decomposition.PCA``) at k = 2, 4, 6, 10.
2. **What the latents know**: latents (k = 6) of every labelled star, from the models fitted
   on the training part, then 5-fold cross-validated ``KNeighborsRegressor(10, weights=
   "distance")`` on the standardised latents, for Teff, logg and [Fe/H]. RMSE in K, dex, dex.
   The encoders saw 75 % of these spectra (never their labels). Reference: a supervised
   ``RandomForestRegressor`` on the full flux, same folds (``max_features`` 0.3, or
   sqrt(n_pixels) on spectra longer than 1,000 pixels).
3. **Anomalies**: each kind of ``ANOMALY_KINDS`` injected into 10 % of the held-out spectra
   (``inject_anomalies(..., fraction=0.1, random_state=0)``, ivar kept); ROC-AUC of the
   VAE's ELBO and the CAE's reduced χ² (both ``score_samples(X, ivar)``) and of
   ``IsolationForest`` fitted on the training flux.
4. **Cost**: fit time (s) and transform throughput (held-out spectra/s, float64 inference).

MILES ships no uncertainties: its spectra get an assumed S/N of 100 per pixel,
``ivar = (100 / median flux)**2``, so χ²/N = 1 is a 1 % fit. The VAE and PCA are fitted at every
k on both data sets; the CAE on MILES at k = 6 only (4,300 pixels make each fit minutes long).

Prints markdown tables and writes ``benchmarks/results/bench_latent_<data>[_quick].json``.
"""

import argparse
import time
import warnings

import numpy as np
import torch
from _common import environment, markdown_table, write_json
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest, RandomForestRegressor
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, cross_val_predict, train_test_split
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import LRScheduler

from skspectra.datasets import ANOMALY_KINDS, fetch_gaia_xp, inject_anomalies, load_gaia_xp
from skspectra.spectra import SpectralCAE, SpectralVAE

KS = (2, 4, 6, 10)
LABELS = {"teff": "K", "logg": "dex", "fe_h": "dex"}
#: Assumed S/N per pixel of the MILES spectra, which come without uncertainties.
MILES_SNR = 100.0
SEED = 0
#: Relative difference below which the VAE and PCA tie: the VAE's PCA start is stored in
#: float32 weights, which moves χ² and probe RMSE by ~1e-8.
TIE = 1e-6


def neural_kwargs(epochs):
    """One training recipe for both networks: Adam, batches of 32, cosine learning-rate decay."""
    return dict(
        n_filters=8,
        batch_size=32,
        lr=2e-3,
        max_epochs=epochs,
        callbacks=[("lr", LRScheduler(policy="CosineAnnealingLR", T_max=epochs))],
        random_state=SEED,
    )


def load(name):
    """``(flux, ivar, labels DataFrame)`` of a data set."""
    if name == "gaia-sample":
        data = load_gaia_xp()
        return data.flux, data.ivar, data.labels[list(LABELS)]
    if name == "gaia-full":
        data = fetch_gaia_xp()
        keep = ~data.ids.duplicated("gaia_source_id").to_numpy()
        return data.flux[keep], data.ivar[keep], data.labels[list(LABELS)][keep]
    if name == "miles":
        from skspectra.datasets import fetch_miles

        data = fetch_miles()
        level = np.median(np.abs(data.flux), axis=1, keepdims=True)
        ivar = np.broadcast_to((MILES_SNR / level) ** 2, data.flux.shape).copy()
        return data.flux, ivar, data.labels
    raise ValueError(name)


def reduced_chi2(X, X_hat, ivar):
    return np.sum(ivar * (X - X_hat) ** 2, axis=1) / np.count_nonzero(ivar > 0, axis=1)


def vae_kwargs(epochs, n_pixels):
    """The VAE's class defaults, capped at ``epochs``; a thinner net and shorter patience on
    long spectra (MILES) to keep the run short."""
    long = n_pixels > 1000
    return dict(
        n_filters=4 if long else 8,
        batch_size=64,
        max_epochs=epochs,
        n_iter_no_change=5 if long else 10,
        random_state=SEED,
    )


def fit_models(k, X_tr, W_tr, epochs, models_to_fit):
    """Fitted PCA, and the networks named in ``models_to_fit``, at latent size ``k``; fit
    times in s."""
    models, fit_s = {}, {}
    start = time.perf_counter()
    models["PCA"] = PCA(k, random_state=SEED).fit(X_tr)
    fit_s["PCA"] = time.perf_counter() - start
    for name in models_to_fit:
        if name == "SpectralCAE":
            model = SpectralCAE(n_components=k, **neural_kwargs(epochs))
        else:
            model = SpectralVAE(n_components=k, **vae_kwargs(epochs, X_tr.shape[1]))
        start = time.perf_counter()
        models[name] = model.fit(X_tr, ivar=W_tr)
        fit_s[name] = time.perf_counter() - start
    return models, fit_s


def reconstruct(name, model, X, W):
    if name == "PCA":
        return model.inverse_transform(model.transform(X))
    return model.reconstruct(X, ivar=W)


def throughput(model, X):
    start = time.perf_counter()
    model.transform(X)
    return X.shape[0] / (time.perf_counter() - start)


def latent_regression(models, X, labels):
    """5-fold CV RMSE of kNN on each model's latents, and of a random forest on the flux."""
    folds = KFold(5, shuffle=True, random_state=SEED)
    results = {}
    latents = {name: model.transform(X) for name, model in models.items()}
    for label in LABELS:
        y = labels[label].to_numpy()
        good = np.isfinite(y)
        row = {}
        for name, Z in latents.items():
            knn = make_pipeline(StandardScaler(), KNeighborsRegressor(10, weights="distance"))
            pred = cross_val_predict(knn, Z[good], y[good], cv=folds)
            row[name] = float(np.sqrt(np.mean((pred - y[good]) ** 2)))
        # on 4,300-pixel spectra (MILES), 30 % of the pixels per split made this reference
        # most of the run's non-neural time (about 14 of 26 minutes, by difference, not timed)
        max_features = "sqrt" if X.shape[1] > 1000 else 0.3
        forest = RandomForestRegressor(
            n_estimators=100, max_features=max_features, n_jobs=2, random_state=SEED
        )
        pred = cross_val_predict(forest, X[good], y[good], cv=folds)
        row["RandomForest (flux, supervised)"] = float(np.sqrt(np.mean((pred - y[good]) ** 2)))
        row["n_stars"] = int(good.sum())
        results[label] = row
    return results


def anomaly_aucs(models, X_tr, X_te, W_te):
    forest = IsolationForest(random_state=SEED).fit(X_tr)
    results = {}
    for kind in ANOMALY_KINDS:
        X_new, is_anomaly = inject_anomalies(X_te, kind=kind, fraction=0.1, random_state=SEED)
        row = {}
        for name in ("SpectralVAE", "SpectralCAE"):
            if name in models:
                row[name] = roc_auc_score(~is_anomaly, models[name].score_samples(X_new, W_te))
        row["IsolationForest"] = roc_auc_score(~is_anomaly, forest.score_samples(X_new))
        results[kind] = row
    return results


def run_dataset(name, *, epochs, ks, cae_ks, max_train=None):
    X, W, labels = load(name)
    idx_tr, idx_te = train_test_split(np.arange(len(X)), test_size=0.25, random_state=SEED)
    if max_train is not None and len(idx_tr) > max_train:
        idx_tr = idx_tr[:max_train]  # already shuffled by train_test_split
    X_tr, X_te, W_tr, W_te = X[idx_tr], X[idx_te], W[idx_tr], W[idx_te]
    print(f"\n## {name}: {len(X_tr)} training / {len(X_te)} held-out spectra, {X.shape[1]} pixels")
    result = {"n_train": len(X_tr), "n_test": len(X_te), "n_pixels": X.shape[1]}
    chi2, fit_times, speed, at6 = {}, {}, {}, None
    for k in ks:
        nets = ("SpectralCAE", "SpectralVAE") if k in cae_ks else ("SpectralVAE",)
        models, fit_s = fit_models(k, X_tr, W_tr, epochs, nets)
        for model_name, model in models.items():
            value = np.median(reduced_chi2(X_te, reconstruct(model_name, model, X_te, W_te), W_te))
            chi2.setdefault(model_name, {})[k] = float(value)
            fit_times.setdefault(model_name, {})[k] = fit_s[model_name]
            epochs_run = len(model.history_) if hasattr(model, "history_") else 0
            print(
                f"  k={k:2d} {model_name:12s} chi2/N={value:9.3f}  fit {fit_s[model_name]:6.1f} s"
                f"  epochs {epochs_run}",
                flush=True,
            )
        if k == 6:
            at6 = models
            speed = {n: throughput(m, X_te) for n, m in models.items()}
    result.update(chi2=chi2, fit_seconds=fit_times, transform_spectra_per_s=speed)

    header = ["model"] + [f"k={k}" for k in ks]
    rows = [[m] + [f"{chi2[m][k]:.3f}" if k in chi2[m] else "–" for k in ks] for m in chi2]
    print("\n### Held-out reconstruction, median χ²/N\n")
    print(markdown_table(header, rows))
    if "SpectralVAE" in chi2:
        # 1e-6 relative: the PCA start lives in float32 weights (moves χ² by ~1e-8)
        verdicts = {
            k: chi2["SpectralVAE"][k] <= (1 + TIE) * chi2["PCA"][k] for k in chi2["SpectralVAE"]
        }
        result["vae_le_pca"] = verdicts
        misses = [k for k, ok in verdicts.items() if not ok]
        print(
            "\nVAE χ²/N ≤ PCA's at every k"
            if not misses
            else f"\nMISS: VAE χ²/N above PCA's at k = {misses}"
        )

    if at6 is not None:
        reg = latent_regression(at6, X, labels)
        result["latent_regression_rmse"] = reg
        names = [n for n in reg["teff"] if n != "n_stars"]
        rows = [[n] + [f"{reg[lab][n]:.4g}" for lab in LABELS] for n in names]
        print("\n### 5-fold CV RMSE from the k = 6 latents (kNN), and a supervised reference\n")
        print(markdown_table(["model", "Teff [K]", "logg [dex]", "[Fe/H] [dex]"], rows))
        if "SpectralVAE" in reg["teff"]:
            worse = [lab for lab in LABELS if reg[lab]["SpectralVAE"] > (1 + TIE) * reg[lab]["PCA"]]
            print(
                "\nVAE probe RMSE ≤ PCA's for every label"
                if not worse
                else f"\nMISS: VAE probe RMSE above PCA's for {worse}"
            )

        aucs = anomaly_aucs(at6, X_tr, X_te, W_te)
        result["anomaly_roc_auc"] = aucs
        names = list(next(iter(aucs.values())))
        rows = [[kind] + [f"{aucs[kind][n]:.3f}" for n in names] for kind in aucs]
        print("\n### Injected anomalies (10 % of held-out spectra), ROC-AUC\n")
        print(markdown_table(["kind"] + names, rows))

        rows = [[n, f"{fit_times[n][6]:.1f}", f"{speed[n]:.0f}"] for n in speed]
        print("\n### Cost at k = 6\n")
        print(markdown_table(["model", "fit [s]", "transform [spectra/s]"], rows))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        "--data",
        nargs="+",
        default=["gaia-sample", "miles"],
        choices=["gaia-sample", "gaia-full", "miles"],
    )
    parser.add_argument(
        "--epochs", type=int, default=20, help="CAE epochs, VAE's epoch cap (default 20)"
    )
    parser.add_argument("--quick", action="store_true", help="5 epochs, k = 6 only")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument(
        "--ks", type=int, nargs="+", default=list(KS), help="latent sizes (default 2 4 6 10)"
    )
    parser.add_argument(
        "--max-train", type=int, default=None, help="fit on at most this many training spectra"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)
    epochs = 5 if args.quick else args.epochs

    results = {"environment": environment(), "epochs": epochs, "datasets": {}}
    start = time.perf_counter()
    for name in args.data:
        ks = (6,) if args.quick else tuple(args.ks)
        cae_ks = tuple(k for k in ks if k == 6 or not (args.quick or name == "miles"))
        try:
            results["datasets"][name] = run_dataset(
                name, epochs=epochs, ks=ks, cae_ks=cae_ks, max_train=args.max_train
            )
        except (ImportError, ModuleNotFoundError) as err:
            print(f"\n## {name}: skipped ({err})")
    results["wall_seconds"] = time.perf_counter() - start
    print(f"\ntotal wall time {results['wall_seconds']:.0f} s")
    stem = "bench_latent_" + "_".join(args.data) + ("_quick" if args.quick else "")
    path = write_json(results, stem + ".json")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
