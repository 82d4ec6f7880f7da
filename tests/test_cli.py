"""The ``skspectra anomalies`` command, run as a user would."""

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skspectra.cli import main
from skspectra.datasets import load_gaia_xp
from skspectra.io import load_model


@pytest.fixture(scope="module")
def gaia():
    return load_gaia_xp()


@pytest.fixture
def table(tmp_path, gaia):
    path = tmp_path / "stars.npz"
    np.savez(
        path,
        flux=gaia.flux[:80],
        ivar=gaia.ivar[:80],
        wavelength=gaia.wavelength,
        ids=np.asarray(gaia.ids["apogee_id"][:80], dtype="U"),
    )
    return path


def test_default_run_on_gaia_xp_writes_report(tmp_path, gaia, run_cli):
    result = run_cli(
        "anomalies", "--epochs", "1", "--top", "2", "--quiet", "--out", "rep", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    out = tmp_path / "rep"
    table = pd.read_csv(out / "anomalies.csv")
    assert len(table) == len(gaia.flux)
    assert np.all(np.diff(table["score"]) >= 0)  # ranked, most anomalous first
    assert table["is_anomaly"].sum() == pytest.approx(0.01 * len(table), abs=2)
    assert {"teff", "logg", "fe_h", "G", "K", "anomalous_regions"} <= set(table.columns)
    pngs = sorted(out.glob("rank*.png"))
    assert len(pngs) == 2 and pngs[0].name.startswith("rank001_")
    run = json.loads((out / "run.json").read_text())
    assert run["data"]["n_spectra"] == len(gaia.flux)
    assert run["model"]["max_epochs"] == 1 and run["seed"] == 0
    assert run["n_anomalies"] == int(table["is_anomaly"].sum())
    assert {"fit_s", "score_s", "load_s", "report_s"} <= set(run["timings_s"])
    assert run["versions"]["torch"]


def test_table_run_never_overwrites_and_saves_model(tmp_path, table, run_cli):
    args = ("anomalies", table, "--epochs", "2", "--top", "1", "--quiet", "--out", "rep")
    first = run_cli(*args, "--save-model", "cae.zip", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "rep" / "anomalies.csv").read_bytes()
    second = run_cli(*args, "--save-model", "cae.zip", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "rep" / "anomalies.csv").read_bytes() == before
    assert (tmp_path / "rep-1" / "anomalies.csv").exists()
    assert (tmp_path / "cae-1.zip").exists()
    model = load_model(tmp_path / "cae.zip")
    report = pd.read_csv(tmp_path / "rep" / "anomalies.csv")
    assert report["id"].iloc[0].startswith("2M")
    assert model.n_features_in_ == 343


def test_files_without_ivar_get_an_estimated_noise(tmp_path, gaia):
    path = tmp_path / "noivar.npz"
    np.savez(path, flux=gaia.flux[:80], wavelength=gaia.wavelength)
    result = main(
        [
            "anomalies",
            str(path),
            "--epochs",
            "2",
            "--top",
            "1",
            "--quiet",
            "--out",
            str(tmp_path / "a"),
        ]
    )
    assert result == 0
    assert json.loads((tmp_path / "a" / "run.json").read_text())["model"]["noise"] == "estimate"
    # with ivar in the files, --ignore-ivar asks for the same
    table_path = tmp_path / "ivar.npz"
    np.savez(table_path, flux=gaia.flux[:80], ivar=gaia.ivar[:80], wavelength=gaia.wavelength)
    args = ["anomalies", str(table_path), "--epochs", "2", "--top", "1", "--quiet", "--out"]
    assert main([*args, str(tmp_path / "b")]) == 0
    assert json.loads((tmp_path / "b" / "run.json").read_text())["model"]["noise"] == "auto"
    assert main([*args, str(tmp_path / "c"), "--ignore-ivar"]) == 0
    assert json.loads((tmp_path / "c" / "run.json").read_text())["model"]["noise"] == "estimate"


def test_sdss_files_go_to_the_rest_frame(tmp_path, run_cli):
    spec = importlib.util.find_spec("ppxf")
    if spec is None:
        pytest.skip("ppxf is not installed")
    source = Path(spec.submodule_search_locations[0]) / "spectra"
    folder = tmp_path / "sdss"
    folder.mkdir()
    for i in range(5):  # copies, made for this test only
        for name in ("NGC3073", "NGC3522"):
            shutil.copy(source / f"{name}_SDSS_DR18.fits", folder / f"{name}_{i}.fits")
    result = run_cli(
        "anomalies", folder, "--epochs", "2", "--top", "1", "--quiet", "--out", "r", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "rest frame" in result.stderr
    report = pd.read_csv(tmp_path / "r" / "anomalies.csv")
    assert len(report) == 10
    assert set(report["class"]) == {"GALAXY", "STAR"}
    assert report["z"].between(0.003, 0.005).all()


def test_bad_input_is_one_line_without_traceback(tmp_path, run_cli):
    result = run_cli("anomalies", "missing.fits", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "missing.fits" in result.stderr


def _bad_inputs(tmp_path, gaia):
    flux, ivar, wl = gaia.flux[:40], gaia.ivar[:40], gaia.wavelength
    nan_flux = flux.copy()
    nan_flux[3, 5] = np.nan
    np.savez(tmp_path / "nan.npz", flux=nan_flux, ivar=ivar, wavelength=wl)
    all_masked = ivar.copy()
    all_masked[7] = 0
    np.savez(tmp_path / "masked.npz", flux=flux, ivar=all_masked, wavelength=wl)
    np.savez(tmp_path / "a.npz", flux=flux)
    np.savez(tmp_path / "b.npz", flux=flux[:, :300])
    (tmp_path / "corrupt.fits").write_bytes(b"SIMPLE  =                    T" + b"\0" * 50)
    (tmp_path / "empty").mkdir()
    return {
        "missing file": (["missing.fits"], "missing.fits"),
        "corrupt FITS": (["corrupt.fits"], "not a readable FITS file"),
        "NaN flux": (["nan.npz"], "NaN or infinite flux"),
        "all-masked spectrum": (["masked.npz"], "no usable pixel"),
        "different lengths": (["a.npz", "b.npz"], "different lengths"),
        "empty directory": (["empty"], "no spectra found in"),
    }


def test_each_bad_input_gets_a_clear_error(tmp_path, gaia, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for case, (paths, message) in _bad_inputs(tmp_path, gaia).items():
        status = main(["anomalies", *paths, "--epochs", "1", "--quiet"])
        err = capsys.readouterr().err.strip()
        assert status == 1, case
        assert err.startswith("skspectra: error:") and message in err, (case, err)
        assert len(err.splitlines()) == 1, (case, err)
    assert not list(tmp_path.glob("skspectra-anomalies-*"))  # nothing written


def test_argument_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["anomalies", "--contamination", "0.9"])
    assert exc.value.code == 2
    assert "contamination" in capsys.readouterr().err
