"""GaussianLineFitter, network alone: which rule turns its outputs into a line count (issue 21).

``python -m benchmarks.search.lines_count_rule`` trains one ``GaussianLineFitter`` on
``bench_lines``' training set and budget (``preset='wide'``, seed 0, 80,000 spectra × 15
epochs, ``bench_lines.FITTER``), runs the network once on fresh ``preset='heldout'`` spectra of
the dev seeds :data:`DEV_SEEDS` (never the report seeds), and scores the same outputs with
several rules for keeping the ``j``-th heatmap peak (``bench_lines.score``):

- ``cumulative t``: the count head's ``P(K > j) ≥ t``; the estimator's rule, ``t`` its
  ``threshold`` (0.7 by default);
- ``map``: the count head's most probable count;
- ``heat h``: the peak's own heatmap probability ``≥ h``;
- ``mean t``: the mean of the two, ``(P(K > j) + heat_j) / 2 ≥ t``.

Peaks are kept in order, so a rule keeps the first ``n`` of them. It writes
``benchmarks/results/search/lines_count_rule.json``; ``--quick`` trains on 2,000 spectra for 2
epochs. ``--residual-count`` trains ``lines_residual_count.ResidualCountFitter`` instead (a
second count head that sees the first pass's residual) and writes
``lines_count_rule_residual.json``; the rules then read that head's count. Each run also
times ``predict`` (spectra per second, best of 3 on the first dev seed's spectra).
"""

import argparse
import time

import numpy as np
from scipy.special import expit

from benchmarks.search import write_results
from benchmarks.search.lines_flip import data_units
from benchmarks.search.lines_residual_count import ResidualCountFitter
from skspectra.lines import GaussianLineFitter
from skspectra.lines._dense import _decode_peaks
from skspectra.lines._fitter import _spectrum_scale

DEV_SEEDS = [12345, 12346, 12347]
N_TEST = {"full": 400, "quick": 60}
RULES = (
    [("cumulative", t) for t in (0.5, 0.6, 0.7, 0.8)]
    + [("map", None)]
    + [("heat", h) for h in (0.3, 0.4, 0.5, 0.6)]
    + [("mean", t) for t in (0.5, 0.6, 0.7)]
)


def network_outputs(fitter, X):
    """Lines of the heatmap peaks (n, K, 3) in data units, ``P(K > j)``, the peaks' heatmap
    probabilities and the count head's probabilities (n, K + 1)."""
    scale = _spectrum_scale(X)
    dense, count_logits = fitter._infer(lambda m, x: m(x), X / scale[:, None])[:2]
    z, more = _decode_peaks((dense, count_logits), fitter.max_components, X.shape[1])
    lines = data_units(fitter, z, scale)
    stride = 2
    cell = np.clip(np.floor((z[:, :, 1] + 0.5) / stride), 0, dense.shape[2] - 1)
    heat = expit(np.take_along_axis(dense[:, 0], cell.astype(int), axis=1))
    count = np.exp(count_logits - count_logits.max(axis=1, keepdims=True))
    return lines, more, heat, count / count.sum(axis=1, keepdims=True)


def kept(rule, value, more, heat, count):
    """How many peaks each rule keeps, shape (n,)."""
    if rule == "cumulative":
        keep = more >= value
    elif rule == "heat":
        keep = heat >= value
    elif rule == "mean":
        keep = 0.5 * (more + heat) >= value
    else:
        return np.argmax(count, axis=1)
    return np.cumprod(keep, axis=1).sum(axis=1)


def as_prediction(lines, n_kept):
    """``predict``'s layout: the kept lines sorted by centre, absent slots zero, (n, 3K)."""
    present = np.arange(lines.shape[1])[None, :] < n_kept[:, None]
    order = np.argsort(np.where(present, lines[:, :, 1], np.inf), axis=1, kind="stable")
    out = np.take_along_axis(lines, order[:, :, None], axis=1)
    out[~np.take_along_axis(present, order, axis=1)] = 0.0
    return out.reshape(len(lines), -1)


def main(argv=None):
    import torch

    from benchmarks.bench_lines import FITTER, TRAIN, blended, make_data, score

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--residual-count",
        action="store_true",
        help="train ResidualCountFitter; writes lines_count_rule_residual.json",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    mode = "quick" if args.quick else "full"
    budget = TRAIN[mode]
    X, y, _ = make_data("wide", budget["n_train"], seed=0)
    start = time.perf_counter()
    model = ResidualCountFitter if args.residual_count else GaussianLineFitter
    fitter = model(max_epochs=budget["max_epochs"], **FITTER).fit(X, y)
    train_s = time.perf_counter() - start
    rows = []
    X_time = make_data("heldout", N_TEST[mode], DEV_SEEDS[0])[0]
    times = []
    for _ in range(3):
        start = time.perf_counter()
        fitter.predict(X_time)
        times.append(time.perf_counter() - start)
    for seed in DEV_SEEDS:
        X_te, y_te, _ = make_data("heldout", N_TEST[mode], seed)
        is_blend = blended(y_te)
        lines, more, heat, count = network_outputs(fitter, X_te)
        check = fitter.set_params(threshold=0.7).predict(X_te)
        same = np.allclose(as_prediction(lines, kept("cumulative", 0.7, more, heat, count)), check)
        for rule, value in RULES:
            n_kept = kept(rule, value, more, heat, count)
            row = dict(seed=seed, rule=rule, value=value, matches_predict=bool(same))
            row.update(score(y_te, as_prediction(lines, n_kept), is_blend))
            rows.append(row)
            print(
                f"seed {seed} {rule} {value}: F1 {row['f1']:.3f} count "
                f"{row['count_accuracy']:.3f} blends {row['blend_count_accuracy']:.3f}",
                flush=True,
            )
    out = {
        "command": "python -m benchmarks.search.lines_count_rule"
        + (" --residual-count" if args.residual_count else ""),
        "residual_count": args.residual_count,
        "dev_seeds": DEV_SEEDS,
        "train": budget,
        "train_s": train_s,
        "predict_spectra_per_s": len(X_time) / min(times),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rows": rows,
    }
    name = "lines_count_rule_residual" if args.residual_count else "lines_count_rule"
    write_results(name, out, quick=args.quick)


if __name__ == "__main__":
    main()
