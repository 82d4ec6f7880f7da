"""Corrupt files through the command line: one line on stderr, exit status 1, no traceback.

``--skip-bad`` goes on past the broken files of a directory and lists them in run.json.
"""

import gzip
import io
import json
from types import SimpleNamespace

import numpy as np
import pytest
from astropy.io import fits

from skspectra.cli import main

N_PIXELS = 32


def table_bytes(n_spectra=6, seed=0):
    """A valid FITS table of spectra (flux, ivar, wavelength), as bytes."""
    rng = np.random.default_rng(seed)
    flux = 1 + 0.1 * rng.standard_normal((n_spectra, N_PIXELS))
    wave = np.tile(4000.0 + np.arange(N_PIXELS), (n_spectra, 1))
    table = fits.BinTableHDU.from_columns(
        [
            fits.Column(name="flux", format=f"{N_PIXELS}D", array=flux),
            fits.Column(name="ivar", format=f"{N_PIXELS}E", array=np.full_like(flux, 100.0)),
            fits.Column(name="wavelength", format=f"{N_PIXELS}D", array=wave),
        ]
    )
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(buf)
    return buf.getvalue()


def image_bytes(seed=0):
    buf = io.BytesIO()
    rng = np.random.default_rng(seed)
    fits.PrimaryHDU(rng.random((16, 16)).astype(np.float32)).writeto(buf)
    return buf.getvalue()


def no_flux_bytes():
    table = fits.BinTableHDU.from_columns(
        [fits.Column(name="counts", format="8D", array=np.ones((3, 8)))]
    )
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(buf)
    return buf.getvalue()


def image_in_hdu1_bytes():
    """A spectrum file with the wrong HDU: an image where the table should be."""
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.ones((3, 8)))]).writeto(buf)
    return buf.getvalue()


CORRUPT = {
    "truncated.fits": lambda: table_bytes()[: len(table_bytes()) // 2],
    "cut.fits.gz": lambda: gzip.compress(table_bytes(), mtime=0)[:-200],
    "text.fits": lambda: b"flux,ivar,wavelength\n1.0,100,4000\n",
    "noflux.fits": no_flux_bytes,
    "wronghdu.fits": image_in_hdu1_bytes,
}


def assert_one_line_error(result, *needles):
    err = result.stderr.strip()
    assert result.returncode == 1, (result.returncode, err)
    assert "Traceback" not in err, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("skspectra: error:"), err
    for needle in needles:
        assert needle in err, (needle, err)


@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_corrupt_spectrum_file_is_one_line_and_exit_1(tmp_path, run_cli, name):
    (tmp_path / name).write_bytes(CORRUPT[name]())
    result = run_cli("anomalies", name, "--epochs", "1", "--quiet", cwd=tmp_path)
    assert_one_line_error(result, name)
    assert not list(tmp_path.glob("skspectra-anomalies-*"))  # nothing written


@pytest.mark.parametrize(
    "name, args, message",
    [
        ("truncated.fits", (), "not a readable FITS file"),
        ("cut.fits.gz", (), "not a readable FITS file"),
        ("text.fits", (), "not a readable FITS file"),
        ("table.fits", (), "has no image HDU"),  # a spectrum table where an image should be
        ("image.fits", ("--hdu", "3"), "has no HDU 3"),
        ("table.fits", ("--hdu", "1"), "holds no image"),
    ],
)
def test_corrupt_image_file_is_one_line_and_exit_1(
    tmp_path, name, args, message, capsys, monkeypatch
):
    # in-process (the same main() as the console script): a subprocess costs seconds of imports
    whole = {"table.fits": table_bytes(), "image.fits": image_bytes()}
    data = {
        "truncated.fits": image_bytes()[: len(image_bytes()) // 2],
        "cut.fits.gz": gzip.compress(image_bytes(), mtime=0)[:-100],
        "text.fits": b"not an image\n",
        **whole,
    }[name]
    (tmp_path / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    status = main(["images", name, *args, "--epochs", "1", "--quiet"])
    result = SimpleNamespace(returncode=status, stderr=capsys.readouterr().err)
    assert_one_line_error(result, name, message)


@pytest.fixture
def spectra_dir(tmp_path):
    """Two good tables of 6 spectra each and one truncated file, in one directory."""
    folder = tmp_path / "spectra"
    folder.mkdir()
    (folder / "a.fits").write_bytes(table_bytes(seed=1))
    (folder / "b_broken.fits").write_bytes(table_bytes()[:5000])
    (folder / "c.fits").write_bytes(table_bytes(seed=2))
    return folder


def test_directory_with_a_broken_file_stops_without_skip_bad(tmp_path, spectra_dir, run_cli):
    result = run_cli("anomalies", spectra_dir, "--epochs", "1", "--quiet", cwd=tmp_path)
    assert_one_line_error(result, "b_broken.fits", "not a readable FITS file")


def test_skip_bad_goes_on_and_lists_the_file_in_run_json(tmp_path, spectra_dir, run_cli):
    args = ("anomalies", spectra_dir, "--skip-bad", "--epochs", "1", "--top", "1", "--quiet")
    result = run_cli(*args, "--out", "rep", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "skipped 1 unreadable file" in result.stderr
    run = json.loads((tmp_path / "rep" / "run.json").read_text())
    assert run["data"]["n_spectra"] == 12  # the 6 + 6 spectra of the good files
    [skipped] = run["skipped_files"]
    assert skipped["file"].endswith("b_broken.fits")
    assert "not a readable FITS file" in skipped["reason"]


def test_images_skip_bad_goes_on_and_stops_without_it(tmp_path, run_cli):
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(10):
        (folder / f"g{i:02d}.fits").write_bytes(image_bytes(seed=i))
    (folder / "g05_broken.fits").write_bytes(b"SIMPLE  =                    T" + b"\0" * 50)
    stopped = run_cli("images", folder, "--epochs", "1", "--quiet", cwd=tmp_path)
    assert_one_line_error(stopped, "g05_broken.fits")
    args = ("images", folder, "--skip-bad", "--size", "16", "--epochs", "1", "--top", "1")
    result = run_cli(*args, "--quiet", "--out", "rep", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "rep" / "run.json").read_text())
    assert [s["file"].endswith("g05_broken.fits") for s in run["skipped_files"]] == [True]
    assert run["skipped_files"][0]["reason"]


def test_skip_bad_with_nothing_readable_is_one_line(tmp_path, run_cli):
    (tmp_path / "x.fits").write_bytes(b"junk")
    (tmp_path / "y.fits").write_bytes(b"more junk")
    result = run_cli("anomalies", "x.fits", "y.fits", "--skip-bad", "--quiet", cwd=tmp_path)
    assert_one_line_error(result, "none of the 2 files could be read", "x.fits")
