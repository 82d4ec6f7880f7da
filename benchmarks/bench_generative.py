"""SpectralVAE as a generative model: realistic samples (C2ST) and spectra from stellar labels.

Run through the runner: ``python -m benchmarks run generative [--quick]``.

Protocol
--------
**Samples** (issue 20, item 1). Data: ``load_gaia_xp()`` (3,000 stars, 343 pixels, with ivar).
Per seed, one split ``train_test_split(test_size=0.25, random_state=seed)``. Fitted on the
training stars only, with ``random_state=seed``:

- ``SpectralVAE(n_components=6)`` with ivar, ``n_filters=8``, batches of 64 (bench_latent's
  settings), its defaults otherwise (at most 200 epochs, with early stopping; until 2026-12-07
  capped at 20); ``sample(n)`` with its
  default ``source='aggregate'`` and with ``source='prior'``, its only alternative (so no
  choice is made on the dev seed);
- ``PCA(6)`` + ``GaussianMixture(10, random_state=seed)`` on the PCA scores, sampled and
  decoded by PCA.

``n`` = the number of held-out stars. Figures per generator:

1. **C2ST**: the mean 5-fold (stratified, shuffled) ROC-AUC of
   ``HistGradientBoostingClassifier(random_state=seed)`` on the real held-out spectra (label 0)
   against the generated ones (label 1); 0.5 = indistinguishable. The samples are noise-free,
   the held-out spectra are not, for both generators alike. A reference row runs the same test
   on the VAE's reconstructions of the held-out stars themselves (``reconstruct(X, ivar)``, the
   decoded posterior means): what the decoder alone gives away, with no sampling. Four more
   reference rows ask what the classifier sees: the held-out stars with Gaussian noise of their
   own ivar added once more (does it react to noise?), and the PCA(k) reconstructions of the
   held-out stars for ``k`` in ``PCA_LADDER`` (how many components a reconstruction needs
   before the classifier can no longer tell it from the star).
2. **Negative flux**: the fraction of generated pixels below 0.
3. **Reddest decile**: the *red share* of a spectrum is its flux summed over λ ≥ 7000 Å divided
   by its flux summed over all pixels (the spectra carry no BP−RP); the fraction of the
   generated spectra whose red share exceeds the 90th percentile of the training stars'
   (0.10 for a generator that represents the reddest decile; the held-out stars give the
   sampling reference).

**Spectra from labels** (item 2). Features: (Teff, logg, [Fe/H]) of the stars that have all
three. Per data set and seed, one 75/25 split; the median over held-out stars of the
ivar-weighted ``Σ ivar (ŷ − y)² / N`` (N unmasked pixels, ``chi2_per_star`` of
bench_image_to_spectrum). Models:

- The Cannon's quadratic-in-labels model, :class:`benchmarks.baselines.CannonQuadratic`
  (per-pixel ivar-weighted ridge on ``PolynomialFeatures(2)`` of the standardised labels;
  the ridge alpha, from :data:`benchmarks.baselines.CANNON_ALPHAS`, and whether to fit a
  per-pixel intrinsic scatter, chosen by 5-fold CV on the training stars);
- ``SpectralVAE(6, conditional=True)`` with ivar, at the C2ST's settings (``n_filters=8``,
  batches of 64), its defaults otherwise: the VAE trained on the
  spectra, then its label head (ImageToSpectrum's default MLP, trained through the frozen
  decoder on the spectrum's χ²); ``predict_spectra(labels)``;
- ``ImageToSpectrum(random_state=seed, uncertainty_cv=None)``, its defaults (PCA(40) and an
  MLP trained through the PCA decoder on the spectrum's ivar-weighted χ²), fitted on (labels,
  spectra, ivar); ``uncertainty_cv=None`` skips the out-of-fold fits that only ``return_std``
  uses, so the point predictions are those of the default. With ``SpectralVAE(6)`` as its
  spectrum model (trained through the VAE's decoder) it reached a higher χ² on the
  photometry task's dev split (``benchmarks/results/search/image_to_spectrum.json``) and takes
  minutes per fit, so it is not run here;
- ExtraTrees(300) → PCA(30) coefficients (``benchmarks.baselines.extra_trees_pca``).

Data sets: Gaia XP with APOGEE DR17 labels; MILES (``fetch_miles()``, 4,300 pixels of 0.9 Å)
rebinned by ``resample_spectra`` to ``MILES_BIN``-pixel blocks (430 pixels of 9 Å) to fit the
time budget. MILES has no inverse variance: each star's noise is its DER_SNR estimate
(Stoehr et al. 2008; ``specutils.analysis.snr_derived``) on the native pixels, constant along
the spectrum, propagated through the rebinning.
"""

import time
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split

from benchmarks._common import fmt_mean_std
from benchmarks._stats import mean_sd
from benchmarks.baselines import CANNON_ALPHAS, CannonQuadratic, extra_trees_pca
from benchmarks.bench_image_to_spectrum import chi2_per_star
from benchmarks.bench_latent import network_epochs
from skspectra.datasets import fetch_miles, load_gaia_xp
from skspectra.images import ImageToSpectrum
from skspectra.preprocessing import resample_spectra
from skspectra.spectra import SpectralVAE

NAME = "generative"
THREADS = 1
#: Packages besides the core ones whose versions the results file records.
PEER_PACKAGES = ("astropy", "specutils", "sdss-mangadap")
#: A split kept for choices; none is made here (sample() has one alternative, reported).
DEV_SEEDS = [0]
REPORT_SEEDS = [1, 2, 3]

K = 6
N_GMM = 10
#: Training stars per split in quick mode (None: all).
MAX_TRAIN = {"full": None, "quick": 500}
#: Seeds run in quick mode.
QUICK_SEEDS = REPORT_SEEDS[:1]
#: MILES pixels averaged into one (flux-conserving), 4,300 → 430.
MILES_BIN = 10
#: Red share: flux at λ ≥ RED_FROM_A over all flux; the reddest decile is above the training
#: stars' RED_QUANTILE.
RED_FROM_A = 7000.0
RED_QUANTILE = 0.9
LABELS = ["teff", "logg", "fe_h"]
VAE = "SpectralVAE, sample()"
VAE_PRIOR = "SpectralVAE, sample(source='prior')"
PCA_GMM = f"PCA({K}) + GaussianMixture({N_GMM})"
RECON = "SpectralVAE, reconstruct(held-out stars): no sampling"
REAL = "held-out stars (reference)"
GENERATORS = (VAE, VAE_PRIOR, PCA_GMM, RECON)
#: Components of the PCA reconstructions in the C2ST's reference rows.
PCA_LADDER = (6, 20, 40)
NOISIER = "held-out stars + noise of their ivar: no model"
REFERENCES = (NOISIER, *(f"PCA({k}), reconstruct(held-out stars)" for k in PCA_LADDER))
CANNON = "The Cannon (quadratic in labels)"
I2S = "ImageToSpectrum()"
ET = "ExtraTrees(300) → PCA(30)"
VAE_COND = f"SpectralVAE({K}, conditional=True)"
FORWARD = (CANNON, VAE_COND, I2S, ET)


def c2st_auc(real, fake, seed, max_iter=100):
    """Mean 5-fold ROC-AUC of a gradient-boosting classifier, real (0) against generated (1)."""
    X = np.vstack([real, fake])
    y = np.r_[np.zeros(len(real)), np.ones(len(fake))]
    clf = HistGradientBoostingClassifier(max_iter=max_iter, random_state=seed)
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    return float(np.mean(cross_val_score(clf, X, y, cv=folds, scoring="roc_auc")))


def red_share(flux, wavelength):
    """Flux summed over λ ≥ ``RED_FROM_A`` over flux summed over all pixels: ``(n,)``."""
    return flux[:, wavelength >= RED_FROM_A].sum(axis=1) / flux.sum(axis=1)


def _references(X_tr, X_te, W_te, seed):
    """The C2ST's reference rows: ``{name: spectra (n_test, n_pixels)}``, see ``REFERENCES``."""
    rng = np.random.default_rng(seed)
    with np.errstate(divide="ignore"):
        sigma = np.where(W_te > 0, 1.0 / np.sqrt(W_te), 0.0)
    out = {NOISIER: X_te + sigma * rng.standard_normal(X_te.shape)}
    for k, name in zip(PCA_LADDER, REFERENCES[1:], strict=True):
        pca = PCA(k, random_state=seed).fit(X_tr)
        out[name] = pca.inverse_transform(pca.transform(X_te))
    return out


def run_c2st(X, W, wavelength, seed, mode):
    idx_tr, idx_te = train_test_split(np.arange(len(X)), test_size=0.25, random_state=seed)
    if MAX_TRAIN[mode] is not None:
        idx_tr = idx_tr[: MAX_TRAIN[mode]]  # already shuffled
    X_tr, W_tr, X_te = X[idx_tr], W[idx_tr], X[idx_te]
    n = len(X_te)
    fit_s = {}
    start = time.perf_counter()
    vae = SpectralVAE(
        n_components=K,
        n_filters=8,
        batch_size=64,
        max_epochs=network_epochs(mode)["SpectralVAE"],
        random_state=seed,
    ).fit(X_tr, ivar=W_tr)
    fit_s["SpectralVAE"] = time.perf_counter() - start
    start = time.perf_counter()
    pca = PCA(K, random_state=seed).fit(X_tr)
    gmm = GaussianMixture(N_GMM, random_state=seed).fit(pca.transform(X_tr))
    fit_s[PCA_GMM] = time.perf_counter() - start
    samples = {
        VAE: vae.sample(n, random_state=seed),
        VAE_PRIOR: vae.sample(n, random_state=seed, source="prior"),
        PCA_GMM: pca.inverse_transform(gmm.sample(n)[0]),
        RECON: vae.reconstruct(X_te, ivar=W[idx_te]),
        **_references(X_tr, X_te, W[idx_te], seed),
    }
    threshold = np.quantile(red_share(X_tr, wavelength), RED_QUANTILE)
    max_iter = 100 if mode == "full" else 20
    out = {"n_train": len(idx_tr), "n_test": n, "fit_s": fit_s, "c2st_auc": {}}
    out["negative_flux"] = {REAL: float(np.mean(X_te < 0))}
    out["reddest_decile"] = {REAL: float(np.mean(red_share(X_te, wavelength) > threshold))}
    for name, fake in samples.items():
        out["c2st_auc"][name] = c2st_auc(X_te, fake, seed, max_iter)
        out["negative_flux"][name] = float(np.mean(fake < 0))
        out["reddest_decile"][name] = float(np.mean(red_share(fake, wavelength) > threshold))
    return out


def gaia_labelled():
    """Gaia XP stars with APOGEE Teff, logg and [Fe/H]: labels ``(n, 3)``, flux, ivar."""
    data = load_gaia_xp()
    labels = data.labels[LABELS].to_numpy(dtype=np.float64)
    ok = np.all(np.isfinite(labels), axis=1) & np.any(data.ivar > 0, axis=1)
    return labels[ok], data.flux[ok], data.ivar[ok]


def der_snr_noise(flux, wavelength):
    """Per-star noise, ``median(flux) / DER_SNR`` (specutils' ``snr_derived``): ``(n,)``."""
    import astropy.units as u
    from specutils.analysis import snr_derived

    try:
        from specutils import Spectrum
    except ImportError:  # specutils < 2.0
        from specutils import Spectrum1D as Spectrum

    axis = wavelength * u.AA
    snr = np.array(
        [
            snr_derived(Spectrum(flux=f * u.dimensionless_unscaled, spectral_axis=axis)).value
            for f in flux
        ]
    )
    return np.median(flux, axis=1) / snr


def miles_labelled():
    """MILES stars with all three labels, rebinned: labels, flux, ivar (DER_SNR noise)."""
    data = fetch_miles()
    labels = data.labels[LABELS].to_numpy(dtype=np.float64)
    ok = np.all(np.isfinite(labels), axis=1)
    flux, wavelength = data.flux[ok], data.wavelength
    sigma = der_snr_noise(flux, wavelength)
    ivar = np.broadcast_to((1.0 / sigma**2)[:, None], flux.shape)
    n_new = len(wavelength) // MILES_BIN
    new_wavelength = wavelength[: n_new * MILES_BIN].reshape(n_new, MILES_BIN).mean(axis=1)
    new_flux, new_ivar = resample_spectra(wavelength, flux, ivar, new_wavelength=new_wavelength)
    return labels[ok], new_flux, new_ivar


def forward_models(seed, mode):
    i2s = ImageToSpectrum(uncertainty_cv=None, random_state=seed)
    if mode == "quick":
        from skspectra.images import ImageRegressor
        from skspectra.images.image_to_spectrum import DEFAULT_REGRESSOR

        i2s.set_params(regressor=ImageRegressor(**{**DEFAULT_REGRESSOR, "max_epochs": 3}))
    vae = SpectralVAE(
        K,
        conditional=True,
        n_filters=8,
        batch_size=64,
        max_epochs=network_epochs(mode)["SpectralVAE"],
        random_state=seed,
    )
    return {
        CANNON: CannonQuadratic(),
        VAE_COND: vae,
        I2S: i2s,
        ET: extra_trees_pca(30, random_state=seed),
    }


def run_forward(L, Y, W, seed, mode):
    idx_tr, idx_te = train_test_split(np.arange(len(L)), test_size=0.25, random_state=seed)
    if MAX_TRAIN[mode] is not None:
        idx_tr = idx_tr[: MAX_TRAIN[mode]]
    out = {"n_train": len(idx_tr), "n_test": len(idx_te), "chi2": {}, "fit_s": {}}
    for name, model in forward_models(seed, mode).items():
        start = time.perf_counter()
        if name == ET:
            model.fit(L[idx_tr], Y[idx_tr])
        elif name == VAE_COND:  # spectra are its X, labels its y
            model.fit(Y[idx_tr], L[idx_tr], ivar=W[idx_tr])
        else:
            model.fit(L[idx_tr], Y[idx_tr], ivar=W[idx_tr])
        out["fit_s"][name] = time.perf_counter() - start
        predict = model.predict_spectra if name == VAE_COND else model.predict
        chi2 = chi2_per_star(predict(L[idx_te]), Y[idx_te], W[idx_te])
        out["chi2"][name] = float(np.median(chi2))
        if name == CANNON:
            out["cannon_alpha"] = float(model.alpha_)
            out["cannon_scatter"] = bool(model.use_scatter_)
    return out


def run(quick: bool) -> dict:
    mode = "quick" if quick else "full"
    warnings.filterwarnings("ignore", category=UserWarning)
    seeds = QUICK_SEEDS if quick else REPORT_SEEDS
    gaia = load_gaia_xp()
    forward_data = {"Gaia XP": gaia_labelled(), "MILES": miles_labelled()}
    per_seed = {}
    for seed in seeds:
        per_seed[seed] = {"c2st": run_c2st(gaia.flux, gaia.ivar, gaia.wavelength, seed, mode)}
        for name, (L, Y, W) in forward_data.items():
            per_seed[seed][name] = run_forward(L, Y, W, seed, mode)
    runs = list(per_seed.values())
    summary = {}
    for figure in ("c2st_auc", "negative_flux", "reddest_decile"):
        for name in runs[0]["c2st"][figure]:
            summary[f"{figure}/{name}"] = mean_sd([r["c2st"][figure][name] for r in runs])
    for data_set in forward_data:
        for name in FORWARD:
            chi2 = [r[data_set]["chi2"][name] for r in runs]
            summary[f"chi2/{data_set}/{name}"] = mean_sd(chi2)
            ratio = [r[data_set]["chi2"][name] / r[data_set]["chi2"][CANNON] for r in runs]
            summary[f"chi2_over_cannon/{data_set}/{name}"] = mean_sd(ratio)
    c2st_run = runs[0]["c2st"]
    sizes = "; ".join(
        f"{name}: {len(L)} labelled stars × {Y.shape[1]} pixels, "
        f"{runs[0][name]['n_train']} training / {runs[0][name]['n_test']} held-out"
        for name, (L, Y, W) in forward_data.items()
    )
    return {
        "protocol": (
            "Per seed, 75/25 splits. Samples: SpectralVAE(6) (ivar, n_filters=8, batch 64, "
            f"at most {network_epochs(mode)['SpectralVAE']} epochs, early stopping) sample() "
            "with source 'aggregate' (default) and "
            f"'prior', against PCA(6) + GaussianMixture(10) decoded by PCA, n = held-out stars; "
            "C2ST = mean 5-fold ROC-AUC of HistGradientBoostingClassifier, held-out real (0) "
            "vs generated (1); fraction of negative pixels; fraction of samples above the "
            "training stars' 90th percentile of red share (flux at λ ≥ 7000 Å / all flux). "
            "Spectra from (Teff, logg, [Fe/H]): The Cannon's quadratic model (ivar-weighted "
            f"ridge per pixel; alpha in {list(CANNON_ALPHAS)} and intrinsic scatter or not by "
            "5-fold CV), "
            "SpectralVAE(6, conditional=True) (same VAE settings; label head = "
            "ImageToSpectrum's default MLP on the decoded spectrum's χ²), "
            "ImageToSpectrum(uncertainty_cv=None) with its defaults (PCA(40), MLP trained on "
            "the spectrum's χ²), ExtraTrees(300) → PCA(30); "
            "held-out median ivar-weighted χ²/N."
        ),
        "data": (
            f"Samples: load_gaia_xp(), {len(gaia.flux)} stars × {gaia.flux.shape[1]} pixels, "
            f"{c2st_run['n_train']} training / {c2st_run['n_test']} held-out. Labels: {sizes}; "
            f"MILES rebinned {MILES_BIN}:1 with DER_SNR noise per star."
        ),
        "seeds": seeds,
        "per_seed": per_seed,
        "summary": summary,
        "epochs": network_epochs(mode)["SpectralVAE"],
        "data_sets": list(forward_data),
    }


def tables(result: dict) -> dict:
    res = result["result"]
    runs = list(res["per_seed"].values())
    caption = "Mean ± sd over seeds."
    c2st = runs[0]["c2st"]
    rows = []
    for name in (*GENERATORS, *REFERENCES, REAL):
        auc = fmt_mean_std([r["c2st"]["c2st_auc"][name] for r in runs], 3) if name != REAL else "–"
        rows.append(
            [
                name,
                auc,
                fmt_mean_std([r["c2st"]["negative_flux"][name] for r in runs], 4),
                fmt_mean_std([r["c2st"]["reddest_decile"][name] for r in runs], 3),
            ]
        )
    forward = []
    for data_set in res["data_sets"]:
        for name in FORWARD:
            label = name
            chi2 = [r[data_set]["chi2"][name] for r in runs]
            ratio = [r[data_set]["chi2"][name] / r[data_set]["chi2"][CANNON] for r in runs]
            forward.append([data_set, label, fmt_mean_std(chi2, 2), fmt_mean_std(ratio, 3)])
    return {
        "c2st": {
            "header": [
                "generator (k=6)",
                "C2ST ROC-AUC (0.5 = indistinguishable)",
                "negative pixels",
                "in the reddest decile (0.10 = represented)",
            ],
            "rows": rows,
            "caption": (
                f"Gaia XP, {c2st['n_train']} training stars, {c2st['n_test']} held-out stars and "
                f"as many samples; VAE at most {res['epochs']} epochs (early stopping); reddest "
                "decile by red share (flux at λ ≥ 7000 Å over all flux). " + caption
            ),
        },
        "labels": {
            "header": ["data", "model", "held-out median χ²/N", "× The Cannon"],
            "rows": forward,
            "caption": (
                "Spectra from (Teff, logg, [Fe/H]); ratios per seed. MILES rebinned to 9 Å "
                "pixels, noise from DER_SNR. " + caption
            ),
        },
    }
