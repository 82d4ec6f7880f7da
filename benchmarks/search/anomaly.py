"""Choose the anomaly scoring settings on the dev seeds: PCA's, and SpectralCAE's defaults.

``tune_pca`` picks the PCA residual's ``n_components``, ``n_top_pixels`` and ``anomaly_score``
from :data:`benchmarks.baselines.PCA_GRID` (32 settings) per protocol, by the mean ROC-AUC over
cases and dev seeds; ``bench_anomaly`` calls it at the start of every run, so the published PCA
figures always come from settings chosen on other seeds.

``python -m benchmarks.search.anomaly --cae`` also scores SpectralCAE's own grid,
:data:`benchmarks.baselines.CAE_RULE_GRID` (``n_top_pixels`` x ``anomaly_score``, 8 settings,
one fit per protocol and dev seed), the search behind its ``n_top_pixels`` and
``anomaly_score`` defaults. Both print a table and write
``benchmarks/results/search/anomaly.json``.
"""

import argparse
import sys

import numpy as np

from benchmarks.baselines import CAE_RULE_GRID, PCA_GRID, PCAResidual
from benchmarks.search import write_results

#: Quick mode: a corner of the grid, enough to exercise the code.
QUICK_GRID = [
    p for p in PCA_GRID if p["n_components"] in (10, 40) and p["n_top_pixels"] in (5, None)
]


def _score_grid(make_fitted, grid_keys, sets_list, protocol):
    """Mean over dev seeds and cases of ROC-AUC for each setting; ``make_fitted`` fits once."""
    from benchmarks.bench_anomaly import case_metrics, protocol_sets

    scores = {}
    for sets in sets_list:
        fit_X, fit_iv, X, iv, label = protocol_sets(sets, protocol)
        for fitted, setting in make_fitted(fit_X, fit_iv):
            ranked = fit_X if X is fit_X else X
            metrics = case_metrics(label, -fitted.score_samples(ranked, ivar=iv))
            key = tuple(setting[k] for k in grid_keys)
            scores.setdefault(key, []).append(np.mean([m["roc_auc"] for m in metrics.values()]))
    return {key: float(np.mean(v)) for key, v in scores.items()}


def tune_pca(sets_list, protocol, quick=False):
    """Best PCA residual setting for ``protocol`` on the dev sets.

    Parameters
    ----------
    sets_list : list of dict
        ``bench_anomaly.make_sets`` of each dev seed.
    protocol : str
        One of ``bench_anomaly.PROTOCOLS``.
    quick : bool, default=False
        Search :data:`QUICK_GRID` only.

    Returns
    -------
    best : dict
        ``PCAResidual`` parameters.
    info : dict
        ``{"best_dev_auc": float, "grid": [[n_components, n_top_pixels, rule, auc], ...]}``.
    """
    grid = QUICK_GRID if quick else PCA_GRID
    keys = ("n_components", "n_top_pixels", "anomaly_score")
    fits = sorted({(p["n_components"], p["n_top_pixels"]) for p in grid}, key=str)
    rules = sorted({p["anomaly_score"] for p in grid})

    def make_fitted(X, ivar):
        for k, pool in fits:
            # one fit per (k, pooling): the rule only changes how the fitted scores combine
            model = PCAResidual(k, n_top_pixels=pool).fit(X, ivar=ivar)
            for rule in rules:
                model.set_params(anomaly_score=rule)
                yield model, {"n_components": k, "n_top_pixels": pool, "anomaly_score": rule}

    scores = _score_grid(make_fitted, keys, sets_list, protocol)
    best = max(scores, key=scores.get)
    info = {"best_dev_auc": scores[best], "grid": [[*k, v] for k, v in scores.items()]}
    return dict(zip(keys, best, strict=True)), info


def tune_cae(sets_list, protocol, max_epochs=None):
    """Mean dev ROC-AUC of every CAE_RULE_GRID setting, from one SpectralCAE fit per dev set."""
    from skspectra import SpectralCAE

    keys = ("n_top_pixels", "anomaly_score")
    extra = {} if max_epochs is None else {"max_epochs": max_epochs}

    def make_fitted(X, ivar):
        model = SpectralCAE(random_state=0, **extra).fit(X, ivar=ivar)
        for setting in CAE_RULE_GRID:
            model.set_params(**setting)
            # the training statistics of the residual score depend on the pooling: refit them
            model._fit_anomaly_scores(X, ivar)
            yield model, setting

    return _score_grid(make_fitted, keys, sets_list, protocol)


def main(argv=None):
    from benchmarks.bench_anomaly import DEV_SEEDS, PROTOCOLS, QUICK, load_data, make_sets

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one dev seed, few stars and settings")
    parser.add_argument("--cae", action="store_true", help="also search SpectralCAE's grid")
    args = parser.parse_args(argv)
    data, normal, natural = load_data()
    n_stars, n_train = (QUICK["n_stars"], QUICK["n_train"]) if args.quick else (None, 1800)
    seeds = DEV_SEEDS[:1] if args.quick else DEV_SEEDS
    sets_list = [make_sets(data, normal, natural, s, n_stars, n_train) for s in seeds]
    out = {"dev_seeds": seeds, "quick": args.quick, "pca": {}, "cae": {}}
    for protocol in PROTOCOLS:
        best, info = tune_pca(sets_list, protocol, quick=args.quick)
        out["pca"][protocol] = {"best": best, **info}
        print(f"{protocol:<24} PCA best {best}: dev mean AUC {info['best_dev_auc']:.3f}")
        if args.cae:
            scores = tune_cae(sets_list, protocol, QUICK["max_epochs"] if args.quick else None)
            out["cae"][protocol] = [[*k, v] for k, v in scores.items()]
            for (pool, rule), auc in scores.items():
                print(f"{'':<24} CAE n_top_pixels={pool} {rule}: dev mean AUC {auc:.3f}")
    if args.cae:
        keys = {tuple(r[:2]) for rows in out["cae"].values() for r in rows}
        overall = {
            k: float(
                np.mean([r[2] for rows in out["cae"].values() for r in rows if tuple(r[:2]) == k])
            )
            for k in keys
        }
        best = max(overall, key=overall.get)
        out["cae_best_over_protocols"] = {"n_top_pixels": best[0], "anomaly_score": best[1]}
        print(f"CAE: best setting over the four protocols: {best} ({overall[best]:.3f})")
    write_results("anomaly", out, quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
