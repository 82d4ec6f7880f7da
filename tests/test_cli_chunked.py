"""``skspectra anomalies --chunk-size N``: the out-of-core path writes the report of the
in-memory path, from files read chunk by chunk."""

import json

import h5py
import numpy as np
import pandas as pd
import pytest

from skspectra.cli import main
from skspectra.datasets import load_gaia_xp

N = 130  # three chunks of 50: the last (30) is trained with the one before it
ARGS = ("--epochs", "1", "--top", "2", "--quiet", "--contamination", "0.1", "--threads", "1")


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    gaia = load_gaia_xp()
    folder = tmp_path_factory.mktemp("survey")
    ids = np.asarray(gaia.ids["apogee_id"][:N], dtype="U")
    np.savez(folder / "stars.npz", flux=gaia.flux[:N], ivar=gaia.ivar[:N],
             wavelength=gaia.wavelength, ids=ids)  # fmt: skip
    with h5py.File(folder / "stars.h5", "w") as f:
        f["flux"], f["ivar"], f["wavelength"] = gaia.flux[:N], gaia.ivar[:N], gaia.wavelength
        f["ids"] = ids.astype("S")
    return folder


def _kind(path):
    """A report file's name without the spectrum id of its figures."""
    return path.name.split("_")[0] + ".png" if path.suffix == ".png" else path.name


def _run(path, out, *extra):
    return main(["anomalies", str(path), *ARGS, "--out", str(out), *extra])


def test_chunked_run_writes_the_files_and_columns_of_the_in_memory_run(survey, tmp_path):
    assert _run(survey / "stars.npz", tmp_path / "memory") == 0
    assert _run(survey / "stars.h5", tmp_path / "chunks", "--chunk-size", "50") == 0
    memory, chunks = tmp_path / "memory", tmp_path / "chunks"
    files = sorted(_kind(p) for p in chunks.iterdir() if p.is_file())
    assert files == sorted(_kind(p) for p in memory.iterdir() if p.is_file())
    assert files == ["anomalies.csv", "rank001.png", "rank002.png", "run.json"]
    table = pd.read_csv(chunks / "anomalies.csv")
    assert list(table.columns) == list(pd.read_csv(memory / "anomalies.csv").columns)
    assert sorted(table["id"]) == sorted(pd.read_csv(memory / "anomalies.csv")["id"])
    # the threshold is the contamination quantile of all the scores, not of the last chunk
    assert table["is_anomaly"].sum() == pytest.approx(0.1 * N, abs=1)
    offset = np.percentile(table["score"], 10)
    assert table["is_anomaly"].tolist() == (table["score"] < offset).tolist()
    assert table["score"].is_monotonic_increasing
    run = json.loads((chunks / "run.json").read_text())
    assert run["data"]["n_spectra"] == N and run["arguments"]["chunk_size"] == 50
    assert run["n_anomalies"] == table["is_anomaly"].sum()
    assert np.sum(table["score"] < run["threshold"]["offset_"]) == run["n_anomalies"]


@pytest.mark.parametrize(
    "size, message",
    [("0", "must be a positive integer, got 0"), ("-5", "got -5"), ("ten", "'ten'")],
)
def test_bad_chunk_size_is_a_clear_error(size, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["anomalies", "x.npz", "--chunk-size", size])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --chunk-size" in err and message in err


def test_chunk_size_needs_files(tmp_path, capsys):
    assert main(["anomalies", "--chunk-size", "50", "--out", str(tmp_path / "o")]) == 1
    assert "--chunk-size needs PATHS" in capsys.readouterr().err


def test_npy_without_ivar_or_wavelengths_runs_on_pixels_with_estimated_noise(survey, tmp_path):
    flux = np.load(survey / "stars.npz")["flux"].astype(np.float32)
    np.save(tmp_path / "flux.npy", flux)
    assert _run(tmp_path / "flux.npy", tmp_path / "out", "--chunk-size", "64") == 0
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["model"]["noise"] == "estimate"
    assert run["data"]["wavelength_unit"] == "pixel" and run["data"]["n_wavelengths"] == 343
    table = pd.read_csv(tmp_path / "out" / "anomalies.csv")
    assert table["id"].iloc[0].startswith("flux.npy#")


def test_a_small_last_chunk_is_trained_with_the_one_before():
    from skspectra._cli_chunked import _training_calls

    chunks = ((None, np.zeros((n, 3)), np.ones((n, 3))) for n in (50, 50, 30))
    assert [len(f) for f, _ in _training_calls(chunks, [50, 50, 30])] == [50, 80]
    chunks = ((None, np.zeros((n, 3)), np.ones((n, 3))) for n in (50, 50))
    assert [len(f) for f, _ in _training_calls(chunks, [50, 50])] == [50, 50]
