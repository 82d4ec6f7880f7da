"""Outlier detectors on real Gaia XP spectra, in the four protocols a user can run.

Run::

    python benchmarks/bench_anomaly.py            # the 3,000 stars that ship with skspectra
    python benchmarks/bench_anomaly.py --quick    # smoke run: few cases, few epochs
    python benchmarks/bench_anomaly.py --cae max_epochs=30 --cae batch_size=64   # other settings

Protocols
---------
``{novelty, transductive} x {ivar, no ivar}``:

- **transductive** is what ``skspectra anomalies`` does: every detector is fitted on the
  contaminated set and ranks that same set (one SpectralCAE training per case and seed);
- **novelty**: every detector is fitted once on clean stars and ranks held-out stars plus
  anomalies;
- **ivar**: the detectors that can use inverse variances get them; **no ivar**: nobody does
  (the SpectralCAE and the PCA residuals then estimate the noise from their residuals).

Cases
-----
The *normal* population is the stars with APOGEE Teff <= 10,000 K and [Fe/H] >= -1.5 (or no
[Fe/H]). Each case adds anomalies to normal stars:

- every kind of ``ANOMALY_KINDS`` (lines, dropouts, cosmic rays, slopes, calibration steps,
  ripples, two spectra stitched together, lines as wide as the line-spread function), injected
  into 1 % of the stars with ``inject_anomalies``; injected spectra keep their ivar;
- two natural rare classes from the APOGEE labels: ``hot stars`` (Teff > 10,000 K) and
  ``metal-poor`` ([Fe/H] < -1.5), each drawn to make 1 % of the set.

Detectors (all get the same flux, and the same ivar where they use it): SpectralCAE with the
class defaults (or ``--cae`` overrides), scored by each ``anomaly_score`` rule from one fit;
PCA(10) and PCA(40) residuals scored exactly like the CAE's residual rule (top-5 χ² in σ, with
the same noise estimate when there is no ivar); kNN distance (mean distance to the 10 nearest
neighbours); LocalOutlierFactor (k=20); IsolationForest on the raw flux and on PCA(10).

Prints markdown tables (ROC-AUC and average precision per case, their means per protocol,
fit times) and writes JSON to ``benchmarks/results/bench_anomaly[_quick].json``.
"""

import argparse
import ast
import sys
import time
import warnings

import numpy as np
import torch
from _common import environment, fmt_mean_std, markdown_table, write_json
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from skspectra import SpectralCAE
from skspectra.datasets import ANOMALY_KINDS, inject_anomalies, load_gaia_xp
from skspectra.spectra._noise import fit_pixel_noise, spectrum_noise

HOT_TEFF = 10_000.0
METAL_POOR_FEH = -1.5
NATURAL = ("hot stars", "metal-poor")
CASES = list(ANOMALY_KINDS) + list(NATURAL)
PROTOCOLS = ("transductive, no ivar", "transductive, ivar", "novelty, no ivar", "novelty, ivar")
TOP_K = 5
CAE_RULES = ("residual", "latent", "combined")


# ----------------------------------------------------------------------------------------------
# baselines
# ----------------------------------------------------------------------------------------------
class PCAResidual:
    """PCA reconstruction residual, scored like SpectralCAE's residual rule (top-5 χ² in σ)."""

    def __init__(self, n_components):
        self.n_components = n_components

    def fit(self, X, ivar=None):
        self.pca_ = PCA(self.n_components, svd_solver="full").fit(X)
        self.pixel_scale_ = fit_pixel_noise(X - self._reconstruct(X))
        return self

    def _reconstruct(self, X):
        return self.pca_.inverse_transform(self.pca_.transform(X))

    def anomaly(self, X, ivar=None):
        r = X - self._reconstruct(X)
        if ivar is None:
            z = r / (spectrum_noise(r, self.pixel_scale_)[:, None] * self.pixel_scale_)
        else:
            z = r * np.sqrt(ivar)
        return np.mean(-np.partition(-(z**2), TOP_K - 1, axis=1)[:, :TOP_K], axis=1)


class KNNDistance:
    """Mean distance to the k nearest training spectra (the spectrum itself excluded)."""

    def __init__(self, n_neighbors=10):
        self.n_neighbors = n_neighbors

    def fit(self, X, ivar=None):
        self.X_ = X
        self.nn_ = NearestNeighbors(n_neighbors=self.n_neighbors).fit(X)
        return self

    def anomaly(self, X, ivar=None):
        if X is self.X_:  # transductive: do not count the spectrum itself
            dist, _ = self.nn_.kneighbors()
        else:
            dist, _ = self.nn_.kneighbors(X)
        return dist.mean(axis=1)


class LOF:
    def fit(self, X, ivar=None):
        self.X_ = X
        self.lof_ = LocalOutlierFactor(n_neighbors=20, novelty=True).fit(X)
        return self

    def anomaly(self, X, ivar=None):
        if X is self.X_:
            return -self.lof_.negative_outlier_factor_
        return -self.lof_.score_samples(X)


class Forest:
    def __init__(self, pca=None, seed=0):
        self.pca, self.seed = pca, seed

    def fit(self, X, ivar=None):
        forest = IsolationForest(n_estimators=200, random_state=self.seed)
        self.model_ = make_pipeline(PCA(self.pca), forest) if self.pca else forest
        self.model_.fit(X)
        return self

    def anomaly(self, X, ivar=None):
        return -self.model_.score_samples(X)


class CAE:
    """SpectralCAE; one fit gives one row per ``anomaly_score`` rule."""

    def __init__(self, params, seed):
        self.params, self.seed = params, seed

    def fit(self, X, ivar=None):
        self.model_ = SpectralCAE(random_state=self.seed, **self.params).fit(X, ivar=ivar)
        return self

    def anomaly(self, X, ivar=None):
        out = {}
        for rule in CAE_RULES:
            self.model_.set_params(anomaly_score=rule)
            out[rule] = -self.model_.score_samples(X, ivar=ivar)
        return out


def make_detectors(cae_params):
    return {
        "SpectralCAE": lambda seed: CAE(cae_params, seed),
        "PCA(10) residual": lambda seed: PCAResidual(10),
        "PCA(40) residual": lambda seed: PCAResidual(40),
        "kNN distance (k=10)": lambda seed: KNNDistance(10),
        "LOF (k=20)": lambda seed: LOF(),
        "IsolationForest, raw flux": lambda seed: Forest(None, seed),
        "IsolationForest, PCA(10)": lambda seed: Forest(10, seed),
    }


# ----------------------------------------------------------------------------------------------
# data and cases
# ----------------------------------------------------------------------------------------------
def load_data():
    data = load_gaia_xp()
    teff = data.labels["teff"].to_numpy()
    feh = data.labels["fe_h"].to_numpy()
    hot = teff > HOT_TEFF
    metal_poor = np.nan_to_num(feh, nan=0.0) < METAL_POOR_FEH
    return data, {"hot stars": np.flatnonzero(hot), "metal-poor": np.flatnonzero(metal_poor & ~hot)}


def make_case(data, normal, natural, case, seed, fraction=0.01):
    """``(X, ivar, y)``: the ``normal`` stars with 1 % anomalies of the given case."""
    flux, ivar = data.flux[normal], data.ivar[normal]
    if case in NATURAL:
        n = max(1, int(round(fraction * normal.size / (1 - fraction))))
        rows = np.random.default_rng(1000 + seed).choice(natural[case], size=n, replace=False)
        X = np.vstack([flux, data.flux[rows]])
        iv = np.vstack([ivar, data.ivar[rows]])
        return X, iv, np.r_[np.zeros(normal.size, bool), np.ones(n, bool)]
    X, y = inject_anomalies(
        flux, kind=case, fraction=fraction, wavelength=data.wavelength, random_state=seed
    )
    return X, ivar, y


def metrics(y, anomaly):
    return {
        "roc_auc": float(roc_auc_score(y, anomaly)),
        "average_precision": float(average_precision_score(y, anomaly)),
    }


# ----------------------------------------------------------------------------------------------
def run(args, log):
    data, natural = load_data()
    normal_mask = np.ones(data.flux.shape[0], bool)
    for rows in natural.values():
        normal_mask[rows] = False
    normal = np.flatnonzero(normal_mask)
    rng = np.random.default_rng(0)
    perm = rng.permutation(normal)
    transductive_set = np.sort(perm[: args.n_transductive])
    n_train = (normal.size - args.n_test) if args.n_train is None else args.n_train
    test, train = np.sort(perm[: args.n_test]), np.sort(perm[args.n_test : args.n_test + n_train])
    log(
        f"{normal.size} normal stars; transductive set {transductive_set.size}; novelty train "
        f"{train.size} / test {test.size}; hot {natural['hot stars'].size}, metal-poor "
        f"{natural['metal-poor'].size}"
    )
    detectors = {k: v for k, v in make_detectors(args.cae_params).items() if k in args.detectors}
    records = []
    for protocol in args.protocols:
        use_ivar = not protocol.endswith("no ivar")
        transductive = protocol.startswith("transductive")
        for name, make in detectors.items():
            t_det = time.perf_counter()
            fitted = None
            for seed in range(args.seeds):
                for case in args.cases:
                    if transductive:
                        X, iv, y = make_case(data, transductive_set, natural, case, seed)
                        iv = iv if use_ivar else None
                        t0 = time.perf_counter()
                        model = make(seed).fit(X, iv)
                        fit_s = time.perf_counter() - t0
                        scored = X
                    else:
                        if fitted is None:
                            t0 = time.perf_counter()
                            ivar_train = data.ivar[train] if use_ivar else None
                            fitted = make(0).fit(data.flux[train], ivar_train)
                            fit_s = time.perf_counter() - t0
                        model = fitted
                        scored, iv, y = make_case(data, test, natural, case, seed)
                        iv = iv if use_ivar else None
                    anomaly = model.anomaly(scored, iv)
                    rows = anomaly if isinstance(anomaly, dict) else {None: anomaly}
                    for rule, a in rows.items():
                        records.append(
                            {
                                "protocol": protocol,
                                "detector": name if rule is None else f"{name} ({rule})",
                                "case": case,
                                "seed": seed,
                                "fit_s": fit_s,
                                "n_fit": int(scored.shape[0] if transductive else train.size),
                                **metrics(y, a),
                            }
                        )
            log(f"  {protocol:<22} {name}: {time.perf_counter() - t_det:.1f} s")
    return records, {
        "n_normal": int(normal.size),
        "n_transductive": int(transductive_set.size),
        "n_train": int(train.size),
        "n_test": int(test.size),
    }


# ----------------------------------------------------------------------------------------------
def summarise(records):
    out = {}
    for r in records:
        entry = out.setdefault((r["protocol"], r["detector"]), {"fit_s": []})
        cell = entry.setdefault(r["case"], {"roc_auc": [], "average_precision": []})
        cell["roc_auc"].append(r["roc_auc"])
        cell["average_precision"].append(r["average_precision"])
        entry["fit_s"].append(r["fit_s"])
    return out


def case_table(summary, protocol, cases, metric="roc_auc"):
    rows = []
    for (prot, det), entry in summary.items():
        if prot == protocol:
            cells = [fmt_mean_std(entry[c][metric]) if c in entry else "–" for c in cases]
            rows.append([det, *cells])
    return markdown_table(["detector", *cases], rows)


def mean_over_cases(entry, cases, metric):
    return float(np.mean([np.mean(entry[c][metric]) for c in cases if c in entry]))


def summary_table(summary, protocols, cases):
    dets = list(dict.fromkeys(d for _, d in summary))
    header = ["detector"]
    for p in protocols:
        header += [f"{p}: AUC", "AP"]
    header += ["fit s (mean)"]
    rows = []
    for det in dets:
        row, fits = [det], []
        for p in protocols:
            entry = summary.get((p, det))
            if entry is None:
                row += ["–", "–"]
                continue
            row += [
                f"{mean_over_cases(entry, cases, 'roc_auc'):.3f}",
                f"{mean_over_cases(entry, cases, 'average_precision'):.3f}",
            ]
            fits += entry["fit_s"]
        rows.append(row + [f"{np.mean(fits):.1f}" if fits else "–"])
    return markdown_table(header, rows)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 2 cases, 5 epochs")
    p.add_argument("--seeds", type=int, default=1, help="injection seeds per case (default 1)")
    p.add_argument("--cases", nargs="+", default=None, choices=CASES, metavar="CASE")
    p.add_argument("--protocols", nargs="+", default=list(PROTOCOLS), choices=PROTOCOLS)
    p.add_argument("--detectors", nargs="+", default=None, metavar="NAME")
    p.add_argument(
        "--cae",
        action="append",
        default=[],
        metavar="PARAM=VALUE",
        help="override a SpectralCAE parameter (repeatable), e.g. --cae max_epochs=30",
    )
    p.add_argument("--n-transductive", type=int, default=None, help="stars in the ranked set")
    p.add_argument("--n-test", type=int, default=1000, help="novelty test stars (default 1000)")
    p.add_argument("--n-train", type=int, default=None, help="novelty training stars")
    p.add_argument("--threads", type=int, default=2, help="torch and BLAS threads (default 2)")
    p.add_argument("--out", default=None, help="JSON file name under benchmarks/results/")
    args = p.parse_args(argv)
    args.cae_params = {}
    for item in args.cae:
        key, _, value = item.partition("=")
        try:
            args.cae_params[key] = ast.literal_eval(value)  # numbers, None, tuples
        except (ValueError, SyntaxError):  # a bare string such as residual
            args.cae_params[key] = value
    if args.quick:
        args.cae_params.setdefault("max_epochs", 5)
        args.cases = args.cases or ["emission", "hot stars"]
        args.n_transductive = args.n_transductive or 600
        args.n_test, args.n_train = 300, args.n_train or 600
    args.cases = args.cases or CASES
    args.detectors = args.detectors or list(make_detectors({}))
    args.n_transductive = args.n_transductive or 10**9
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning, module="sklearn")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    t_start = time.perf_counter()
    records, sizes = run(args, log)
    summary = summarise(records)
    cae = SpectralCAE(**args.cae_params).get_params()
    cae_text = ", ".join(f"{k}={cae[k]!r}" for k in sorted(args.cae_params)) or "class defaults"
    out = [
        f"### bench_anomaly: load_gaia_xp(), {sizes['n_normal']} normal stars; transductive set "
        f"{min(sizes['n_transductive'], sizes['n_normal'])} + 1 % anomalies; novelty: fit on "
        f"{sizes['n_train']}, score {sizes['n_test']} + 1 %; {args.seeds} seed(s); SpectralCAE "
        f"{cae_text}; {args.threads} threads",
        "",
        "**Mean over cases, per protocol** (ROC-AUC, average precision)",
        "",
        summary_table(summary, args.protocols, args.cases),
        "",
    ]
    for protocol in args.protocols:
        out += [f"**{protocol}: ROC-AUC per case**", "", case_table(summary, protocol, args.cases)]
        out += [""]
    wall = time.perf_counter() - t_start
    out += [f"Total wall time {wall:.0f} s."]
    print("\n".join(out))
    name = args.out or ("bench_anomaly" + ("_quick" if args.quick else "") + ".json")
    path = write_json(
        {
            "command": " ".join(["python", "benchmarks/bench_anomaly.py", *argv]),
            "config": {k: v for k, v in vars(args).items()},
            "sizes": sizes,
            "environment": environment(),
            "wall_s": wall,
            "records": records,
            "markdown": "\n".join(out),
        },
        name,
    )
    log(f"wrote {path}")


if __name__ == "__main__":
    main()
