"""SpectralCAE against fair baselines on real Gaia XP stars, in the four anomaly protocols.

Protocol
--------
Data: the 3,000 Gaia XP stars that ship with skspectra (``load_gaia_xp()``, 343 pixels). The
*normal* stars have APOGEE Teff <= 10,000 K and [Fe/H] >= -1.5 (or no [Fe/H]).

For each seed, ``N_PER_CASE`` anomalies of every case are put in ONE set together:

- each kind of ``ANOMALY_KINDS`` is injected into ``N_PER_CASE`` normal stars of its own
  (``inject_anomalies`` on those rows only; ivar is kept);
- two natural rare classes from the APOGEE labels are added: ``hot stars`` (Teff > 10,000 K) and
  ``metal-poor`` ([Fe/H] < -1.5), ``N_PER_CASE`` of each.

Protocols ``{transductive, novelty} x {ivar, no ivar}``:

- *transductive* (what ``skspectra anomalies`` does): every detector is fitted on the
  contaminated set (all normal stars plus the anomalies) and ranks that same set;
- *novelty*: every detector is fitted on ``N_TRAIN`` clean normal stars and ranks the other
  normal stars plus the anomalies;
- *ivar*: the detectors that use inverse variances (SpectralCAE, PCA residuals) get them;
  *no ivar*: nobody does, and the residuals' noise is estimated from the residuals.

Per case, ROC-AUC and average precision (AP) of that case's anomalies against the normal stars
of the ranked set; per protocol, their means over cases. One fit per detector, protocol and
seed. SpectralCAE runs with the class defaults. The baselines are those of
``benchmarks/baselines/``; the PCA residual's k, pooling and rule are tuned per protocol on
``DEV_SEEDS`` (``benchmarks/search/anomaly.py``), and the figures are reported on
``REPORT_SEEDS`` (mean ± sd over seeds).
"""

import time
import warnings

import numpy as np

from benchmarks._common import fmt_mean_std, mean_sd

NAME = "anomaly"
THREADS = 2
DEV_SEEDS = [100, 101]
REPORT_SEEDS = [0, 1, 2]

HOT_TEFF = 10_000.0
METAL_POOR_FEH = -1.5
NATURAL = ("hot stars", "metal-poor")
PROTOCOLS = ("transductive, no ivar", "transductive, ivar", "novelty, no ivar", "novelty, ivar")
#: Anomalies of each case per set: 11 cases x 6 = 66 in ~2,750 normal stars (2.3 %).
N_PER_CASE = 6
#: Clean normal stars the novelty protocol trains on; the other normal stars are ranked.
N_TRAIN = 1800
#: Quick mode: fewer stars, one report seed, a short CAE training (a smoke run, not a result).
QUICK = {"n_stars": 500, "n_train": 300, "max_epochs": 2, "seeds": 1}
CAE_NAME = "SpectralCAE (defaults)"
#: inject_anomalies takes a fraction in (0, 1) and picks round(fraction * n) rows: all of them.
ALL_ROWS = 0.999


def cases():
    """The anomaly cases: every injected kind, then the natural rare classes."""
    from skspectra.datasets import ANOMALY_KINDS

    return [*ANOMALY_KINDS, *NATURAL]


def load_data():
    """``(data, normal, natural)``: the Gaia XP sample, normal rows, and rows of each rare class."""
    from skspectra.datasets import load_gaia_xp

    data = load_gaia_xp()
    teff = data.labels["teff"].to_numpy()
    feh = np.nan_to_num(data.labels["fe_h"].to_numpy(), nan=0.0)
    hot = teff > HOT_TEFF
    natural = {
        "hot stars": np.flatnonzero(hot),
        "metal-poor": np.flatnonzero((feh < METAL_POOR_FEH) & ~hot),
    }
    normal = np.flatnonzero(~hot & (feh >= METAL_POOR_FEH))
    return data, normal, natural


def make_sets(data, normal, natural, seed, n_stars=None, n_train=N_TRAIN):
    """The contaminated sets of one seed, for both protocols.

    Returns
    -------
    sets : dict
        ``"transductive"``: ``(flux, ivar, case)``, the ranked and fitted set; ``"train"``:
        ``(flux, ivar)``, the novelty training stars; ``"novelty"``: ``(flux, ivar, case)``, the
        novelty ranked set. ``case`` is ``""`` for normal stars, else the case name.
    """
    from skspectra.datasets import inject_anomalies

    rng = np.random.default_rng(seed)
    stars = rng.permutation(normal)[: n_stars or normal.size]
    injected = [c for c in cases() if c not in NATURAL]

    def contaminate(rows, offset):
        flux, ivar = data.flux[rows].copy(), data.ivar[rows].copy()
        label = np.full(rows.size, "", dtype=object)
        order = np.random.default_rng(seed + offset).permutation(rows.size)
        for i, kind in enumerate(injected):
            pick = order[i * N_PER_CASE : (i + 1) * N_PER_CASE]
            flux[pick] = inject_anomalies(
                flux[pick],
                kind=kind,
                fraction=ALL_ROWS,
                wavelength=data.wavelength,
                random_state=seed * 100 + offset + i,
            )[0]
            label[pick] = kind
        for j, kind in enumerate(NATURAL):
            extra = np.random.default_rng(seed + offset + 50 + j).choice(
                natural[kind], N_PER_CASE, replace=False
            )
            flux = np.vstack([flux, data.flux[extra]])
            ivar = np.vstack([ivar, data.ivar[extra]])
            label = np.r_[label, np.full(N_PER_CASE, kind, dtype=object)]
        return flux, ivar, label

    n_train = min(n_train, stars.size // 2)
    return {
        "transductive": contaminate(stars, 0),
        "train": (data.flux[stars[:n_train]], data.ivar[stars[:n_train]]),
        "novelty": contaminate(stars[n_train:], 1000),
    }


def case_metrics(label, anomaly):
    """Per case: ROC-AUC and AP of that case's stars against the normal stars."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    normal = label == ""
    out = {}
    for case in dict.fromkeys(label[~normal]):
        keep = normal | (label == case)
        y = label[keep] == case
        out[case] = {
            "roc_auc": float(roc_auc_score(y, anomaly[keep])),
            "average_precision": float(average_precision_score(y, anomaly[keep])),
        }
    return out


def protocol_sets(sets, protocol):
    """``(fit_flux, fit_ivar, ranked_flux, ranked_ivar, label)`` of a protocol (ivar or None)."""
    use_ivar = not protocol.endswith("no ivar")
    if protocol.startswith("transductive"):
        flux, ivar, label = sets["transductive"]
        fit = (flux, ivar if use_ivar else None)
        return (*fit, *fit, label)
    flux, ivar, label = sets["novelty"]
    train_flux, train_ivar = sets["train"]
    return train_flux, train_ivar if use_ivar else None, flux, ivar if use_ivar else None, label


class CAEDetector:
    """SpectralCAE with the class defaults (``params`` overrides them, for searches)."""

    def __init__(self, seed, **params):
        self.seed, self.params = seed, params

    def fit(self, X, ivar=None):
        from skspectra import SpectralCAE

        self.model_ = SpectralCAE(random_state=self.seed, **self.params).fit(X, ivar=ivar)
        return self

    def anomaly(self, X, ivar=None):
        return -self.model_.score_samples(X, ivar=ivar)


def evaluate(detector, sets, protocol):
    """Fit ``detector`` in ``protocol`` and return ``(per-case metrics, fit seconds)``."""
    fit_X, fit_iv, X, iv, label = protocol_sets(sets, protocol)
    t0 = time.perf_counter()
    detector.fit(fit_X, fit_iv)
    fit_s = time.perf_counter() - t0
    # the transductive set is passed as the very fitted array, so kNN/LOF leave each star out
    anomaly = detector.anomaly(fit_X if X is fit_X else X, iv)
    return case_metrics(label, anomaly), fit_s


def run(quick):
    from benchmarks.baselines import anomaly_detectors
    from benchmarks.search.anomaly import tune_pca

    warnings.filterwarnings("ignore", category=UserWarning)
    data, normal, natural = load_data()
    n_stars = QUICK["n_stars"] if quick else None
    n_train = QUICK["n_train"] if quick else N_TRAIN
    cae_params = {"max_epochs": QUICK["max_epochs"]} if quick else {}
    seeds = REPORT_SEEDS[: QUICK["seeds"]] if quick else REPORT_SEEDS
    dev_seeds = DEV_SEEDS[:1] if quick else DEV_SEEDS

    t0 = time.perf_counter()
    dev_sets = [make_sets(data, normal, natural, s, n_stars, n_train) for s in dev_seeds]
    tuned, tuning = {}, {}
    for protocol in PROTOCOLS:
        tuned[protocol], tuning[protocol] = tune_pca(dev_sets, protocol, quick=quick)
    tune_s = time.perf_counter() - t0

    per_seed, fit_s = [], {}
    for seed in seeds:
        sets = make_sets(data, normal, natural, seed, n_stars, n_train)
        seed_out = {"seed": seed}
        for protocol in PROTOCOLS:
            detectors = {CAE_NAME: CAEDetector(seed, **cae_params)}
            detectors |= anomaly_detectors(tuned[protocol], seed)
            seed_out[protocol] = {}
            for name, detector in detectors.items():
                metrics, seconds = evaluate(detector, sets, protocol)
                seed_out[protocol][name] = metrics
                fit_s.setdefault(name, []).append(seconds)
        per_seed.append(seed_out)

    summary = {}
    for protocol in PROTOCOLS:
        summary[protocol] = {}
        for name in per_seed[0][protocol]:
            runs = [s[protocol][name] for s in per_seed]
            entry = {}
            for metric in ("roc_auc", "average_precision"):
                entry[f"mean_{metric}"] = mean_sd(
                    [np.mean([r[c][metric] for c in r]) for r in runs]
                )
                entry[metric] = {c: mean_sd([r[c][metric] for r in runs]) for c in runs[0]}
            summary[protocol][name] = entry
    sizes = make_sets(data, normal, natural, seeds[0], n_stars, n_train)
    return {
        "protocol": __doc__.split("Protocol\n--------\n", 1)[1].strip(),
        "data": (
            f"load_gaia_xp(): {data.flux.shape[0]} stars x {data.flux.shape[1]} pixels; "
            f"{normal.size} normal, {natural['hot stars'].size} hot, "
            f"{natural['metal-poor'].size} metal-poor; transductive set "
            f"{sizes['transductive'][0].shape[0]} stars, novelty train "
            f"{sizes['train'][0].shape[0]} / ranked {sizes['novelty'][0].shape[0]}; "
            f"{N_PER_CASE} anomalies per case and set"
        ),
        "seeds": seeds,
        "dev_seeds": dev_seeds,
        "cases": cases(),
        "cae_params": cae_params or "class defaults",
        "pca_tuned": tuned,
        "pca_tuning": tuning,
        "per_seed": per_seed,
        "summary": summary,
        "timings": {"tuning_s": tune_s, "fit_s": {k: mean_sd(v) for k, v in fit_s.items()}},
    }


def tables(result):
    res = result["result"]
    summary, case_names = res["summary"], res["cases"]
    header = ["detector"]
    for protocol in PROTOCOLS:
        header += [f"{protocol}: AUC", "AP"]
    rows = []
    for name in summary[PROTOCOLS[0]]:
        row = [name]
        for protocol in PROTOCOLS:
            entry = summary[protocol][name]
            row += [
                fmt_mean_std(entry["mean_roc_auc"]),
                fmt_mean_std(entry["mean_average_precision"]),
            ]
        rows.append(row)
    out = {
        "summary": {
            "header": header,
            "rows": rows,
            "caption": "Mean over cases of ROC-AUC and average precision per protocol "
            "(mean ± sd over seeds); PCA tuned on the dev seeds",
        }
    }
    for protocol in PROTOCOLS:
        key = protocol.replace(", ", "_").replace(" ", "_")
        out[f"cases_{key}"] = {
            "header": ["detector", *case_names],
            "rows": [
                [name, *[fmt_mean_std(entry["roc_auc"].get(c)) for c in case_names]]
                for name, entry in summary[protocol].items()
            ],
            "caption": f"{protocol}: ROC-AUC per case (mean ± sd over seeds)",
        }
    tuned = res["pca_tuned"]
    out["pca_tuned"] = {
        "header": ["protocol", "n_components", "n_top_pixels", "anomaly_score", "dev mean AUC"],
        "rows": [
            [
                p,
                str(tuned[p]["n_components"]),
                str(tuned[p]["n_top_pixels"] or "all"),
                tuned[p]["anomaly_score"],
                f"{res['pca_tuning'][p]['best_dev_auc']:.3f}",
            ]
            for p in PROTOCOLS
        ],
        "caption": "The PCA residual's settings, chosen per protocol on the dev seeds",
    }
    return out
