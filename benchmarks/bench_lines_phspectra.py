"""PHSpectra's own synthetic benchmark, rebuilt: GaussianLineFitter and PHSpectra side by side.

Run through the runner: ``python -m benchmarks run lines_phspectra [--quick]``.

The setting
-----------
PHSpectra (``phspectra`` on PyPI, persistent homology) publishes an F1 on a synthetic benchmark
of its own: 350 spectra of 424 channels, white noise of 0.13 K, 50 in each of seven categories
(single bright / faint / narrow / broad, multi separated / blended, crowded), scored by
Lindner et al. (2015) matching. ``benchmarks/_phspectra_synth.py`` rebuilds it and says where
each number comes from (repository ``caverac/phspectra``: ``packages/docs/docs/results/
beta.md``, ``packages/benchmarks/src/benchmarks/_constants.py`` and
``packages/benchmarks/src/benchmarks/commands/train_synthetic.py``). Its published figures,
``PUBLISHED`` below, are those of ``beta.md`` and ``packages/docs/docs/results/accuracy.md``
(overall F1 and per category at its chosen beta = 3.8). Its live documentation also gives
lower figures "at higher noise"; that setting was not found in the stored source, so it is not
rebuilt here.

Guessed or changed: the spectra follow the published distribution, not PHSpectra's exact draws
(its seed, 2026_02_12, drives one generator through all categories in its own call order).
*Blends* are PHSpectra's Multi Blended category (2-3 lines, each 1.5-3 of the larger sigma from
the previous one), the category of its 0.862.

Protocol
--------
One GaussianLineFitter (``max_components=5``, batches of 128, ``random_state=0``) is trained
per run on the fixed budget ``TRAIN``: spectra of the same seven categories, equally many of
each, drawn with seed ``TRAIN_SEED`` (disjoint from the report seeds). Each report seed then
draws fresh spectra (``N_PER_CATEGORY`` per category; 50, i.e. 350, in the full run).
The budget follows ``bench_lines``'s rule (about 12 minutes of one core) and was checked on the
dev seed (``DEV_SEEDS``, 350 spectra): 8,400 spectra × 5 epochs (the budget before, 52 s) gave
the network alone F1 0.915 (blends 0.823) and ``refine=True`` 0.972 (0.912); 42,000 × 15
(737 s, another job on the other core) gives 0.978 (0.947) and 0.976 (0.924). On them,
with no ivar (every method estimates the noise itself):

- ``GaussianLineFitter`` alone: float32, batches of 1024; speed is the best of 3 timings over
  the spectra tiled to at least 2,000;
- ``GaussianLineFitter(refine=True)``: its defaults (linear continuum, ``'bic_prior'``);
- least squares + BIC with a greedy stop (``benchmarks.baselines.lsq_bic_greedy``, up to 5
  lines, linear continuum): the same least-squares code as the refinement, and the noise of
  all the spectra estimated at once as the refinement does (``lsq_bic_greedy_batch``);
- PHSpectra: ``phspectra.fit_gaussians(spectrum, beta=3.8)``, the beta of its published
  benchmark (the installed version's default is 3.5), other arguments at their defaults; a
  spectrum it fails on (``LinAlgError``, ``ValueError``) counts as no lines, as in its own
  benchmark. The spectra have a zero baseline, as PHSpectra assumes.

Scores: ``skspectra.lines.component_scores``, Lindner et al. (2015) criteria (mean within one
true sigma, FWHM ratio 0.3-2.5, amplitude ratio 0-10): the same criteria as PHSpectra's
benchmark, which pairs lines by position first (Hungarian) and then applies them, where
``component_scores`` pairs among the admissible pairs. F1 is pooled over the lines of a
category (micro F1), as PHSpectra's is. Count accuracy is the fraction of spectra with the
right number of lines. Speeds are spectra per second of wall time on one thread.
"""

import time

import numpy as np

from benchmarks._common import fmt_mean_std
from benchmarks._phspectra_synth import CATEGORIES, N_CHANNELS, NOISE_SIGMA, make_phspectra_spectra
from benchmarks._stats import mean_sd
from benchmarks.baselines import lsq_bic_greedy_batch
from benchmarks.bench_lines import as_table
from skspectra.lines import GaussianLineFitter, component_scores

NAME = "lines_phspectra"
THREADS = 1
#: The seed on which the training budget was checked (refine's options were left at their
#: defaults after a look at this seed: none changed the overall F1 by more than 0.003).
DEV_SEEDS = [100]
REPORT_SEEDS = [1, 2, 3]
TRAIN_SEED = 0

MAX_COMPONENTS = 5
TRAIN = {
    "full": dict(n_per_category=6000, max_epochs=15),
    "quick": dict(n_per_category=150, max_epochs=2),
}
N_PER_CATEGORY = {"full": 50, "quick": 10}
FITTER = dict(max_components=MAX_COMPONENTS, batch_size=128, random_state=0)
PHS_BETA = 3.8

NET = "GaussianLineFitter"
REFINE = "GaussianLineFitter(refine=True)"
LSQ = "least squares + BIC (greedy stop)"
PHS = "PHSpectra (beta = 3.8)"
BLEND = "multi_blended"
LABELS = {
    "single_bright": "SB",
    "single_faint": "SF",
    "single_narrow": "SN",
    "single_broad": "SBd",
    "multi_separated": "MS",
    "multi_blended": "MB",
    "crowded": "C",
}
#: PHSpectra's published F1 (beta = 3.8): caverac/phspectra packages/docs/docs/results/beta.md
#: (per category, and overall at beta = 3.8) and accuracy.md (overall and blended).
PUBLISHED = {
    "overall": 0.941,
    "single_bright": 0.987,
    "single_faint": 0.860,
    "single_narrow": 0.968,
    "single_broad": 0.987,
    "multi_separated": 0.988,
    "multi_blended": 0.862,
    "crowded": 0.949,
}


def train_fitter(mode):
    budget = TRAIN[mode]
    X, y, _ = make_phspectra_spectra(
        budget["n_per_category"], max_components=MAX_COMPONENTS, random_state=TRAIN_SEED
    )
    start = time.perf_counter()
    fitter = GaussianLineFitter(max_epochs=budget["max_epochs"], **FITTER).fit(X, y)
    return fitter, time.perf_counter() - start


def phspectra_decompose(spectrum):
    from numpy.linalg import LinAlgError
    from phspectra import fit_gaussians

    try:
        comps = fit_gaussians(spectrum, beta=PHS_BETA)
    except (LinAlgError, ValueError):
        comps = []
    return np.array([[c.amplitude, c.mean, c.stddev] for c in comps]).reshape(-1, 3)


def score(y, pred, category):
    s = component_scores(y, pred)
    out = dict(
        f1=float(s.f1),
        count_accuracy=float(s.count_accuracy),
        n_true=int(s.n_true),
        n_pred=int(s.n_pred),
    )
    for name in CATEGORIES:
        mask = category == name
        out[f"f1_{name}"] = float(component_scores(y[mask], pred[mask]).f1)
        out[f"count_accuracy_{name}"] = float(component_scores(y[mask], pred[mask]).count_accuracy)
    return out


def _timed(fn, X):
    start = time.perf_counter()
    pred = fn(X)
    return pred, len(X) / (time.perf_counter() - start)


def run_seed(fitter, seed, n_per_category):
    X, y, category = make_phspectra_spectra(
        n_per_category, max_components=MAX_COMPONENTS, random_state=seed
    )
    preds, speed = {}, {}

    fitter.set_params(inference_dtype="float32", batch_size=1024, refine=False)
    X_speed = np.tile(X, (max(1, 2000 // len(X)), 1))
    fitter.predict(X[:10])  # warm-up
    walls = []
    for _ in range(3):  # best of 3, as timeit: other jobs only ever slow it down
        start = time.perf_counter()
        fitter.predict(X_speed)
        walls.append(time.perf_counter() - start)
    speed[NET] = len(X_speed) / min(walls)
    preds[NET] = fitter.predict(X)

    preds[REFINE], speed[REFINE] = _timed(fitter.set_params(refine=True).predict, X)
    fitter.set_params(refine=False, inference_dtype="float64")
    preds[LSQ], speed[LSQ] = _timed(
        lambda Xs: as_table(lsq_bic_greedy_batch(Xs, MAX_COMPONENTS), MAX_COMPONENTS),
        X,
    )
    phspectra_decompose(X[0])  # warm-up: imports and first-call costs are not timed
    preds[PHS], speed[PHS] = _timed(
        lambda Xs: as_table([phspectra_decompose(x) for x in Xs], MAX_COMPONENTS), X
    )

    figures = {m: score(y, p, category) for m, p in preds.items()}
    for m in preds:
        figures[m]["spectra_per_s"] = speed[m]
    return dict(n_test=len(X), n_per_category=n_per_category, scores=figures)


def run(quick: bool) -> dict:
    import importlib.util

    if importlib.util.find_spec("phspectra") is None:
        raise ModuleNotFoundError(
            "lines_phspectra compares against PHSpectra: pip install phspectra (the benchmark "
            "has no point without it)."
        )
    mode = "quick" if quick else "full"
    fitter, train_s = train_fitter(mode)
    per_seed = {seed: run_seed(fitter, seed, N_PER_CATEGORY[mode]) for seed in REPORT_SEEDS}
    first = per_seed[REPORT_SEEDS[0]]["scores"]
    summary = {
        f"{m}/{q}": mean_sd([per_seed[s]["scores"][m][q] for s in REPORT_SEEDS])
        for m in first
        for q in first[m]
    }
    n_train = TRAIN[mode]["n_per_category"] * len(CATEGORIES)
    return {
        "protocol": (
            f"One GaussianLineFitter (max_components={MAX_COMPONENTS}) trained per run on a "
            f"fixed budget ({n_train} spectra of PHSpectra's seven categories, seed "
            f"{TRAIN_SEED}, {TRAIN[mode]['max_epochs']} epochs); per seed, fresh spectra of the "
            "same setting; network alone (float32, best of 3 timings), refine=True (defaults), "
            "least squares + BIC with a greedy stop (benchmarks.baselines.lsq_bic_greedy), "
            f"PHSpectra fit_gaussians(beta={PHS_BETA}); no ivar; Lindner et al. (2015) "
            "matching (component_scores), F1 pooled per category; blends = PHSpectra's "
            "multi_blended category; one thread."
        ),
        "data": (
            f"PHSpectra's synthetic benchmark rebuilt (benchmarks/_phspectra_synth.py): "
            f"{len(CATEGORIES)} categories × {N_PER_CATEGORY[mode]} spectra per seed (seeds "
            f"{REPORT_SEEDS}), {N_CHANNELS} channels, noise sd {NOISE_SIGMA} K; training: "
            f"{n_train} spectra, seed {TRAIN_SEED}"
        ),
        "seeds": REPORT_SEEDS,
        "per_seed": per_seed,
        "summary": summary,
        "published": PUBLISHED,
        "timings": {"train_s": train_s},
        "training": dict(FITTER, n_train=n_train, max_epochs=TRAIN[mode]["max_epochs"]),
    }


def _cell(res, method, key, digits=3):
    return fmt_mean_std([s["scores"][method][key] for s in res["per_seed"].values()], digits)


def tables(result: dict) -> dict:
    res = result["result"]
    first = next(iter(res["per_seed"].values()))
    methods = list(first["scores"])
    published = res["published"]
    caption = (
        f"PHSpectra's synthetic benchmark rebuilt ({len(CATEGORIES)} categories × "
        f"{first['n_per_category']} spectra, {N_CHANNELS} channels, noise {NOISE_SIGMA} K); "
        "mean ± sd over seeds, fresh spectra each; network trained on "
        f"{res['training']['n_train']} spectra × {res['training']['max_epochs']} epochs of the "
        f"same setting in {res['timings']['train_s']:.0f} s (one thread). PHSpectra publishes "
        f"F1 {published['overall']:.3f} overall and {published[BLEND]:.3f} on blends "
        "(multi_blended) on its own draw of 350 spectra."
    )
    header = ["method", "F1", "F1, blends (MB)", "count acc.", "count acc., MB", "spectra/s"]
    rows = [
        [m]
        + [_cell(res, m, q) for q in ("f1", f"f1_{BLEND}", "count_accuracy")]
        + [_cell(res, m, f"count_accuracy_{BLEND}"), _cell(res, m, "spectra_per_s", 0)]
        for m in methods
    ]
    cat_rows = [[m] + [_cell(res, m, f"f1_{c}") for c in CATEGORIES] for m in methods]
    cat_rows.append(
        ["PHSpectra, as published (beta = 3.8)"] + [f"{published[c]:.3f}" for c in CATEGORIES]
    )
    return {
        "summary": {"header": header, "rows": rows, "caption": caption},
        "categories": {
            "header": ["method"] + [f"F1, {LABELS[c]}" for c in CATEGORIES],
            "rows": cat_rows,
            "caption": "F1 per category: SB single bright, SF single faint, SN single narrow, "
            "SBd single broad, MS multi separated, MB multi blended, C crowded. " + caption,
        },
    }
