"""The ``skspectra images`` command, run as a user would, on a handful of small FITS files."""

import json

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from skspectra.cli import main


def write_stamps(folder, n=12, size=20):
    """n galaxy-like FITS stamps with a WCS; stamp 5 carries a bright satellite trail."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    y, x = np.indices((size, size))
    for i in range(n):
        width = rng.uniform(2.0, 4.0)
        data = 100 * np.exp(-0.5 * ((x - size / 2) ** 2 + (y - size / 2) ** 2) / width**2)
        data += rng.normal(0, 1, data.shape)
        if i == 5:
            data[np.abs(x - y) < 1] += 300
        wcs = WCS(naxis=2)
        wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        wcs.wcs.crval = [150.0 + i / 100, 2.0]
        wcs.wcs.crpix = [(size + 1) / 2, (size + 1) / 2]
        wcs.wcs.cdelt = [-1e-4, 1e-4]
        header = wcs.to_header()
        header["BUNIT"] = "electron/s"
        fits.PrimaryHDU(data.astype(np.float32), header=header).writeto(
            folder / f"stamp{i:02d}.fits"
        )
    return folder


@pytest.fixture
def stamps(tmp_path):
    return write_stamps(tmp_path / "stamps")


@pytest.mark.slow  # full CLI runs
def test_fits_run_writes_a_report_and_never_overwrites(tmp_path, stamps, run_cli):
    args = ("images", stamps, "--size", "16", "--epochs", "2", "--top", "3", "--quiet")
    first = run_cli(*args, "--out", "rep", "--save-model", "ae.zip", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    out = tmp_path / "rep"
    table = pd.read_csv(out / "anomalies.csv")
    assert len(table) == 12 and list(table["rank"]) == list(range(1, 13))
    assert np.all(np.diff(table["score"]) >= 0)  # most anomalous first
    assert {"id", "is_anomaly", "file", "hdu", "ra", "dec", "bunit"} <= set(table.columns)
    row = table.set_index("id").loc["stamp07.fits"]
    assert row["ra"] == pytest.approx(150.07) and row["dec"] == pytest.approx(2.0)
    for name in ("top_anomalies.png", "most_typical.png", "latent_map.png"):
        assert (out / name).stat().st_size > 1000, name
    run = json.loads((out / "run.json").read_text())
    assert run["command"] == "skspectra images" and run["seed"] == 0
    assert run["model"]["max_epochs"] == 2 and run["data"]["image_shape"] == [1, 16, 16]
    assert run["model"]["skip_connections"] is True  # the command's default
    assert run["n_anomalies"] == int(table["is_anomaly"].sum())
    assert {"load_s", "fit_s", "score_s", "report_s"} <= set(run["timings_s"])
    assert run["versions"]["torch"] and "ImageNormalizer" in run["data"]["preprocessing"]
    assert (tmp_path / "ae.zip").exists()
    before = (out / "anomalies.csv").read_bytes()
    second = run_cli(*args, "--out", "rep", "--save-model", "ae.zip", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert (out / "anomalies.csv").read_bytes() == before
    assert (tmp_path / "rep-1" / "anomalies.csv").exists()
    assert (tmp_path / "ae-1.zip").exists()


def test_bad_file_is_one_line_and_exit_1(tmp_path, stamps, run_cli):
    (stamps / "stamp03.fits").write_bytes(b"SIMPLE  =                    T" + b"\0" * 50)
    result = run_cli("images", stamps, "--epochs", "1", "--quiet", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "stamp03.fits" in result.stderr and "not a readable FITS file" in result.stderr


def test_each_bad_input_gets_a_clear_error(tmp_path, stamps, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    few = tmp_path / "few"
    few.mkdir()
    for i in range(3):
        (few / f"s{i}.fits").write_bytes((stamps / f"stamp0{i}.fits").read_bytes())
    blank = tmp_path / "blank"
    blank.mkdir()
    for i in range(12):
        (blank / f"s{i:02d}.fits").write_bytes((stamps / f"stamp{i:02d}.fits").read_bytes())
    fits.PrimaryHDU(np.full((20, 20), np.nan, dtype=np.float32)).writeto(
        blank / "s04.fits", overwrite=True
    )
    (tmp_path / "empty").mkdir()
    cases = {
        "missing file": (["missing.fits"], "missing.fits"),
        "empty directory": (["empty"], "no FITS images found in"),
        "too few images": (["few"], "at least 10 images"),
        "all-blank image": (["blank"], "s04.fits has no finite pixel"),
        "wrong HDU": ([str(stamps), "--hdu", "2"], "no HDU 2"),
    }
    for case, (args, message) in cases.items():
        status = main(["images", *args, "--epochs", "1", "--quiet"])
        err = capsys.readouterr().err.strip()
        assert status == 1, case
        assert err.startswith("skspectra: error:") and message in err, (case, err)
        assert len(err.splitlines()) == 1, (case, err)
    assert not list(tmp_path.glob("skspectra-images-*"))  # nothing written


def test_no_skip_connections_option_reaches_the_model(tmp_path, stamps, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["images", str(stamps), "--size", "8", "--epochs", "1", "--top", "1", "--quiet"]
    assert main([*args, "--no-skip-connections", "--out", "off"]) == 0
    run = json.loads((tmp_path / "off" / "run.json").read_text())
    assert run["model"]["skip_connections"] is False
    assert run["arguments"]["skip_connections"] is False


def test_argument_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["images", "--size", "0"])
    assert exc.value.code == 2
    assert "size" in capsys.readouterr().err


@pytest.mark.slow  # the default run on 607 stamps
def test_default_run_on_the_hubble_stamps(tmp_path, run_cli):
    result = run_cli(
        "images",
        "--size",
        "16",
        "--epochs",
        "1",
        "--top",
        "2",
        "--quiet",
        "--out",
        "r",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "r" / "anomalies.csv")
    assert {"x", "y", "is_bright_star"} <= set(table.columns)
    assert table["is_bright_star"].sum() == 1 and table["id"].str.startswith("hdf").all()
    run = json.loads((tmp_path / "r" / "run.json").read_text())
    assert run["data"]["image_shape"] == [3, 16, 16]
    assert "not calibrated flux" in run["data"]["source"]
