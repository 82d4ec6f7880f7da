"""scripts/gpu_check.py (``make gpu-check``): its --dry-run runs the GPU path on the CPU."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gpu_check.py"


def _run(*args, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_dry_run_writes_every_figure(tmp_path):
    out = _run("--dry-run", "--output", "check.json", tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads((tmp_path / "check.json").read_text())
    assert report["dry_run"] is True
    # the CUDA tests are found (collected only, in a dry run)
    assert report["cuda_tests"]["returncode"] == 0
    assert "tests collected" in report["cuda_tests"]["summary"]
    assert report["data"] == {"n_train": 180, "n_valid": 20, "n_pixels": 343}
    runs = report["training"]
    assert set(runs) == {"cpu_float32", "gpu_float32", "gpu_amp"}
    assert runs["gpu_amp"]["amp"] is True and runs["gpu_float32"]["amp"] is False
    for run in runs.values():
        assert run["seconds"] > 0 and 0 < run["valid_chi2"] < math.inf
    for name in ("gpu_float32", "gpu_amp"):
        assert 0 < report["speedup_vs_cpu"][name] < math.inf
    assert 0 < report["amp_chi2_over_float32"] < math.inf
    assert [s["inference_dtype"] for s in report["scoring"]] == ["float32", "float64"]
    assert all(s["n_spectra"] == 1000 and s["spectra_per_s"] > 0 for s in report["scoring"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a CPU-only machine")
def test_without_a_gpu_it_refuses_and_points_to_dry_run(tmp_path):
    out = _run("--output", "check.json", "--skip-tests", tmp_path=tmp_path)
    assert out.returncode == 2
    assert "no CUDA GPU" in out.stderr and "--dry-run" in out.stderr
    assert not (tmp_path / "check.json").exists()
