"""The main job, ``skspectra anomalies`` on the shipped sample: wall time and ranking stability.

Protocol
--------
``python -m skspectra.cli anomalies --random-state SEED --quiet --out DIR`` (what ``make
anomalies`` runs, with the defaults: the 3,000 Gaia XP stars that ship with skspectra, a
SpectralCAE fitted and ranked on the same stars) is run once per seed, each in a fresh process
with ``THREADS`` threads. Wall time: from starting the process to its exit (imports, loading,
training, ranking and the report with its figures), as a user waits for it; the command's own
``timings_s`` are kept too. Stability: the overlap of the 30 top-ranked stars
(``anomalies.csv``) between every pair of seeds, as a fraction of 30. No setting is tuned here,
so there are no dev seeds.
"""

import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import ROOT, fmt_mean_std, mean_sd

NAME = "main_job"
THREADS = 2
DEV_SEEDS = []
REPORT_SEEDS = [0, 1, 2]
TOP = 30
#: Quick mode: two seeds, one epoch (a smoke run, not a result).
QUICK = {"seeds": 2, "epochs": 1}


def _one_run(seed, folder, epochs=None):
    out = Path(folder) / f"seed{seed}"
    cmd = [sys.executable, "-m", "skspectra.cli", "anomalies", "--random-state", str(seed)]
    cmd += ["--quiet", "--out", str(out)] + (["--epochs", str(epochs)] if epochs else [])
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    import pandas as pd

    table = pd.read_csv(out / "anomalies.csv")
    run_json = json.loads((out / "run.json").read_text())
    top = [str(i) for i in table.sort_values("rank")["id"].head(TOP)]
    return {"seed": seed, "wall_s": wall, "timings_s": run_json.get("timings_s"), "top": top}


def run(quick):
    seeds = REPORT_SEEDS[: QUICK["seeds"]] if quick else REPORT_SEEDS
    epochs = QUICK["epochs"] if quick else None
    with tempfile.TemporaryDirectory(prefix="bench_main_job_") as tmp:
        per_seed = [_one_run(seed, tmp, epochs) for seed in seeds]
    overlaps = {
        f"{a['seed']}-{b['seed']}": len(set(a["top"]) & set(b["top"])) / TOP
        for a, b in itertools.combinations(per_seed, 2)
    }
    return {
        "protocol": __doc__.split("Protocol\n--------\n", 1)[1].strip(),
        "data": "the shipped Gaia XP sample (load_gaia_xp(): 3,000 stars x 343 pixels)",
        "seeds": seeds,
        "epochs": epochs or "default",
        "per_seed": per_seed,
        "summary": {
            "wall_s": mean_sd([r["wall_s"] for r in per_seed]),
            f"top{TOP}_overlap": mean_sd(list(overlaps.values())),
            f"top{TOP}_overlap_0_1": overlaps.get("0-1"),
        },
        "overlaps": overlaps,
    }


def tables(result):
    res = result["result"]
    s = res["summary"]
    rows = [
        ["wall time of `skspectra anomalies` (s)", fmt_mean_std(s["wall_s"], 1)],
        [f"top-{TOP} overlap, random_state 0 vs 1", fmt_mean_std(s[f"top{TOP}_overlap_0_1"], 2)],
        [f"top-{TOP} overlap, every pair of seeds", fmt_mean_std(s[f"top{TOP}_overlap"], 2)],
    ]
    return {
        "summary": {
            "header": ["main job (make anomalies)", "value"],
            "rows": rows,
            "caption": f"The default run on the shipped 3,000 stars, {result['threads']} threads, "
            "one fresh process per seed (mean ± sd over seeds)",
        }
    }
