"""``skspectra anomalies`` stopped by SIGINT after its first checkpoint, then ``--resume``d,
gives the scores of a run that was never interrupted: the same bits, on the same machine
(both runs train and score with the same batches and one thread; see ``_equality.py``)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import skspectra
from skspectra.cli import main
from skspectra.datasets import load_gaia_xp

from _equality import assert_same_bits

# slow: subprocess runs of the CLI, killed and resumed
pytestmark = pytest.mark.slow

EPOCHS = 8


@pytest.fixture(scope="module")
def stars(tmp_path_factory):
    data = load_gaia_xp()
    path = tmp_path_factory.mktemp("data") / "stars.npz"
    np.savez(
        path,
        flux=data.flux[:160],
        ivar=data.ivar[:160],
        wavelength=data.wavelength,
        ids=np.asarray(data.ids["apogee_id"][:160], dtype="U"),
    )
    return path


def _command(*args):
    return [sys.executable, "-m", "skspectra.cli", *map(str, args)]


@pytest.fixture(scope="module")
def env():
    root = str(Path(skspectra.__file__).resolve().parents[1])
    # one thread in every run: float sums, hence bits, may depend on the thread count
    return {**os.environ, "PYTHONPATH": root, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _run(args, cwd, env):
    return subprocess.run(
        _command(*args), cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def _scores(out):
    table = pd.read_csv(out / "anomalies.csv")
    return table.sort_values("id")["score"].to_numpy()


def test_sigint_saves_a_checkpoint_and_resume_matches(tmp_path, stars, env, capsys):
    # one thread in both runs: the default follows the load, and the bits depend on the count
    args = ("anomalies", stars, "--epochs", EPOCHS, "--top", "1", "--checkpoint-every", "1")
    args += ("--threads", "1")
    # the uninterrupted run, alongside
    full = subprocess.Popen(
        _command(*args, "--quiet", "--out", "full"),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc = subprocess.Popen(
        _command(*args, "--out", "cut"),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    state = tmp_path / "cut" / "checkpoint" / "train_state.pt"
    deadline = time.monotonic() + 300
    while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert f"Resume with: skspectra anomalies --resume {Path('cut').resolve()}" in err or (
        "Resume with: skspectra anomalies --resume cut" in err
    )
    saved = torch.load(state, weights_only=True)["epoch"]
    assert 1 <= saved < EPOCHS  # it really stopped early
    assert not (tmp_path / "cut" / "run.json").exists()

    _, full_err = full.communicate(timeout=600)
    assert full.returncode == 0, full_err
    resumed = _run(("anomalies", "--resume", "cut", "--quiet"), tmp_path, env)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming cut after epoch {saved}" in resumed.stderr
    run = json.loads((tmp_path / "cut" / "run.json").read_text())
    assert run["checkpoint"]["resumed_after_epoch"] == saved
    assert run["model"]["max_epochs"] == EPOCHS
    # same machine: the resumed run's scores are the same bits
    assert_same_bits(_scores(tmp_path / "cut"), _scores(tmp_path / "full"))

    assert main(["anomalies", "--resume", str(tmp_path / "cut")]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"skspectra: error: {tmp_path / 'cut'} holds a finished run (run.json); "
        "there is nothing to resume."
    ]


def test_resume_of_a_directory_without_checkpoint_is_one_line(tmp_path, capsys):
    assert main(["images", "--resume", str(tmp_path / "nowhere")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "nowhere/checkpoint/command.json not found" in lines[0]
