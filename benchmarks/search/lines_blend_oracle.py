"""How many blends do the data themselves tell apart from one line? An oracle least-squares check.

Issue 21 asks the network alone for a count accuracy of at least 0.93 overall and 0.75 on
blended spectra of ``bench_lines``' held-out setting; it reaches 0.90 and 0.63 on the dev seeds
(``lines_count_rule``), and least squares + BIC 0.51 on blends (report seeds). ``python -m
benchmarks.search.lines_blend_oracle`` asks how much of the rest the noise hides. On
``preset='heldout'`` draws for the dev seeds :data:`DEV_SEEDS` (400 spectra each, as the other
line searches use), with each spectrum's *true* noise sigma (known noise: χ² in units of it),
it fits each spectrum by least squares (the refinement's ``_Problem``, with a linear continuum
and positive amplitudes):

- the true number of lines ``K``, started at the true lines;
- ``K - 1`` lines, started at the true lines with one pair of neighbours merged into one line
  (their summed amplitude at their amplitude-weighted mean, with the width of their combined
  profile), or with one line dropped; the best of these starts;
- ``K + 1`` lines (where ``K < 3``, the most the setting has), started at the ``K``-line fit
  plus the line that a matched filter of its residual finds best (``best_new_line``, as least
  squares + BIC and ``refine=True`` add a line).

From ``Δ- = χ²(K - 1) - χ²(K)`` and ``Δ+ = χ²(K) - χ²(K + 1)`` an oracle that knows the true
lines, and adds or removes one only when χ² drops by more than ``t``, counts right when
``Δ- > t`` and ``Δ+ <= t``. The script reports that oracle's count accuracy, overall and on
blends (``bench_lines.blended``), for each ``t`` of :data:`THRESHOLDS` (the penalty of three
more parameters under AIC, under BIC, ``3 ln n``, the criterion of least squares + BIC and of
``refine=True``, and a likelihood-ratio test at 1 %, χ² with 3 degrees of freedom) and of a
grid: what a count rule of that kind reaches from the best starting points there are (the
fits are local, so these are estimates), and what each threshold trades. It also scores the
``K``-line fits as ``bench_lines`` scores a method (``score``): the amplitude R² that the right
count and the best start give the blends. It writes
``benchmarks/results/search/lines_blend_oracle.json``; ``--quick`` uses 60 spectra per seed.
"""

import argparse
import time

import numpy as np
from scipy.stats import chi2

from benchmarks.search import write_results
from skspectra.lines._refine import _default_sigmas, _Problem

DEV_SEEDS = [12345, 12346, 12347]
N_TEST = {"full": 400, "quick": 60}
THRESHOLDS = {"AIC": 6.0, "likelihood ratio, 1 %": float(chi2.isf(0.01, 3)), "BIC": None}
GRID = [2, 4, 8, 12, 20, 30]


def _merged(lines, i):
    """``lines`` (k, 3) with lines ``i`` and ``i + 1`` merged into one line."""
    a, mu, s = lines[i : i + 2].T
    amplitude = a.sum()
    mean = np.sum(a * mu) / amplitude
    sigma = np.sqrt(np.sum(a * (s**2 + (mu - mean) ** 2)) / amplitude)
    return np.vstack([lines[:i], [[amplitude, mean, sigma]], lines[i + 2 :]])


def delta_chi2(spectrum, lines, noise, max_components=3):
    """``(Δ-, Δ+, n, the K-line fit's lines (K, 3))`` of least-squares fits started from the
    true ``lines`` (K, 3); ``Δ+`` is 0 where ``K = max_components``."""
    ivar = np.full(spectrum.size, 1.0 / noise**2)
    problem = _Problem(spectrum, ivar, None, "linear", amplitude_sign="positive")

    def fit(start):
        return problem.fit(start, problem.linear_continuum(start))

    k = len(lines)
    truth = fit(lines)
    starts = [_merged(lines, i) for i in range(k - 1)]
    starts += [np.delete(lines, i, axis=0) for i in range(k)]
    minus = min(fit(s).rss for s in starts) - truth.rss
    plus = 0.0
    if k < max_components:
        new, _ = problem.best_new_line(truth, _default_sigmas(problem.x_full))
        plus = truth.rss - fit(np.vstack([truth.components, new])).rss
    return minus, plus, problem.n, truth.components


def main(argv=None):
    from benchmarks.bench_lines import as_table, blended, make_data, score

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n_test = N_TEST["quick" if args.quick else "full"]
    start = time.perf_counter()
    rows, truths, fits = [], [], []
    for seed in DEV_SEEDS:
        X, y, noise = make_data("heldout", n_test, seed)
        is_blend = blended(y)
        truths.append(y)
        for i in range(len(X)):
            lines = y[i].reshape(-1, 3)
            lines = lines[lines[:, 0] != 0]
            minus, plus, n, fitted = delta_chi2(X[i], lines, noise[i])
            fits.append(fitted)
            rows.append(
                {"seed": seed, "k": len(lines), "blend": bool(is_blend[i]), "minus": minus,
                 "plus": plus}
            )  # fmt: skip
    minus = np.array([r["minus"] for r in rows])
    plus = np.array([r["plus"] for r in rows])
    blend = np.array([r["blend"] for r in rows])
    named = {name: 3 * np.log(n) if t is None else t for name, t in THRESHOLDS.items()}
    grid = {f"t = {t:g}": float(t) for t in GRID}
    accuracy = {}
    for name, t in {**named, **grid}.items():
        right = (minus > t) & (plus <= t)
        accuracy[name] = {
            "t": float(t),
            "count_accuracy": float(right.mean()),
            "blend_count_accuracy": float(right[blend].mean()),
            "blends_missed": float(np.mean(minus[blend] <= t)),
            "spurious_line": float(np.mean(plus > t)),
        }
        print(f"{name:24s} count {right.mean():.3f}, blends {right[blend].mean():.3f}", flush=True)
    # The K-line fits, scored as bench_lines scores a method: what the right count and the
    # best start give the blends' amplitudes.
    truth = np.vstack(truths)
    fitted = score(truth, as_table(fits, truth.shape[1] // 3), blend)
    print(f"fits of the true count from the true lines: {fitted}", flush=True)
    out = {
        "command": "python -m benchmarks.search.lines_blend_oracle",
        "true_count_fits": fitted,
        "dev_seeds": DEV_SEEDS,
        "n_test": n_test,
        "n_spectra": len(rows),
        "n_blends": int(blend.sum()),
        "oracle": accuracy,
        "wall_s": time.perf_counter() - start,
        "delta_chi2_quantiles_on_blends": {
            f"{q:g}": float(np.quantile(minus[blend], q)) for q in (0.1, 0.25, 0.5, 0.75, 0.9)
        },
    }
    write_results("lines_blend_oracle", out, quick=args.quick)


if __name__ == "__main__":
    main()
