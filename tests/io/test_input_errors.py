"""Readers raise InputError for what the user can fix, and let our own bugs show as bugs.

A damaged file gives an :class:`~skspectra.io.InputError` that names it; an error raised by our
own parsing code is not disguised as "not a readable FITS file" (which ``--skip-bad`` would
then skip silently). Messages do not pass on astropy's advice on options we do not offer.
"""

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from sklearn.preprocessing import StandardScaler

from skspectra.io import (
    InputError,
    load_model,
    read_fits_images,
    read_sdss_spectrum,
    read_spectra,
    read_spectra_table,
    save_model,
)


def _fits_table(path, unit=None, n=3, m=8):
    flux = np.ones((n, m))
    columns = [
        fits.Column(name="flux", format=f"{m}D", array=flux, unit=unit),
        fits.Column(
            name="wavelength", format=f"{m}D", array=np.tile(4000.0 + np.arange(m), (n, 1))
        ),
    ]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(columns)]).writeto(path)
    return path


def _bug(*args, **kwargs):
    raise KeyError("a bug in our parser")


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ValueError)
    with pytest.raises(InputError, match="no paths given"):
        read_spectra([])


# -- only astropy's calls are wrapped ------------------------------------------------------------
def test_a_bug_in_sdss_parsing_is_not_called_an_unreadable_file(ppxf_spectra_dir, monkeypatch):
    monkeypatch.setattr("skspectra.io.sdss._wavelength_from_loglam", _bug)
    path = ppxf_spectra_dir / "NGC3522_SDSS_DR18.fits"
    with pytest.raises(KeyError, match="a bug in our parser"):
        read_sdss_spectrum(path)
    with pytest.raises(KeyError, match="a bug in our parser"):  # not skipped as a bad file
        read_spectra([path], skip_bad=True)


def test_a_bug_in_table_parsing_is_not_called_an_unreadable_file(tmp_path, monkeypatch):
    path = _fits_table(tmp_path / "t.fits")
    monkeypatch.setattr("skspectra.io.tables._validate", _bug)
    with pytest.raises(KeyError, match="a bug in our parser"):
        read_spectra_table(path)


def test_a_bug_in_image_reading_is_not_called_an_unreadable_file(tmp_path, monkeypatch):
    fits.PrimaryHDU(np.ones((8, 8))).writeto(tmp_path / "a.fits")
    monkeypatch.setattr("skspectra.io.images._blank_to_nan", _bug)
    with pytest.raises(KeyError, match="a bug in our parser"):
        read_fits_images(tmp_path / "a.fits", skip_bad=True)


def test_text_in_a_column_is_still_an_input_error_naming_the_file(tmp_path):
    columns = [fits.Column(name="flux", format="5A", array=np.array(["abc", "def"]))]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(columns)]).writeto(
        tmp_path / "text.fits"
    )
    with pytest.raises(InputError, match="text.fits"):
        read_spectra_table(tmp_path / "text.fits")


# -- messages ------------------------------------------------------------------------------------
def test_a_text_file_named_fits_gets_no_astropy_option_advice(tmp_path):
    (tmp_path / "notes.fits").write_text("flux,ivar\n1,2\n")
    with pytest.raises(InputError) as info:
        read_spectra_table(tmp_path / "notes.fits")
    message = str(info.value)
    assert "notes.fits" in message and "no SIMPLE card" in message
    assert "ignore_missing_simple" not in message


def test_an_npz_given_as_an_image_says_what_it_is(tmp_path):
    np.savez(tmp_path / "small.npz", flux=np.ones((3, 5)), ivar=np.ones((3, 5)))
    with pytest.raises(InputError) as info:
        read_fits_images(tmp_path / "small.npz")
    message = str(info.value)
    assert "small.npz" in message and ".npz" in message and "not FITS" in message
    assert "multiple members" not in message


# -- a broken WCS is recorded, not silent ---------------------------------------------------------
def _image_with_wcs(path, ctype=("RA---TAN", "DEC--TAN")):
    header = fits.Header()
    if ctype is not None:
        header.update(
            CTYPE1=ctype[0], CTYPE2=ctype[1], CRVAL1=150.0, CRVAL2=2.0, CRPIX1=8.5,
            CRPIX2=8.5, CD1_1=-1e-4, CD1_2=0.0, CD2_1=0.0, CD2_2=1e-4,
        )  # fmt: skip
    fits.PrimaryHDU(np.ones((16, 16)), header=header).writeto(path)
    return path


def test_a_broken_wcs_is_recorded_in_meta(tmp_path):
    _image_with_wcs(tmp_path / "a_good.fits")
    _image_with_wcs(tmp_path / "b_broken.fits", ("RA---XYZ", "DEC--XYZ"))
    _image_with_wcs(tmp_path / "c_none.fits", None)
    _, meta = read_fits_images(tmp_path)
    good, broken, none = meta.to_dict("records")
    assert pd.isna(good["wcs_problem"]) and good["ra"] == pytest.approx(150.0, abs=1e-3)
    assert pd.isna(none["wcs_problem"]) and np.isnan(none["ra"])
    assert np.isnan(broken["ra"]) and np.isnan(broken["pixel_scale"])
    assert "Unrecognized projection code" in broken["wcs_problem"]


# -- mixed flux units are refused ------------------------------------------------------------------
def test_mixed_flux_units_raise_naming_files_and_units(tmp_path):
    _fits_table(tmp_path / "a.fits", unit="erg / (Angstrom cm2 s)")
    _fits_table(tmp_path / "b.fits", unit="Jy")
    with pytest.raises(InputError) as info:
        read_spectra(tmp_path)
    message = str(info.value)
    for needle in ("a.fits", "b.fits", "Jy", "erg / (Angstrom cm2 s)"):
        assert needle in message, (needle, message)


def test_one_unit_spelled_two_ways_is_accepted(tmp_path):
    _fits_table(tmp_path / "a.fits", unit="erg / (Angstrom cm2 s)")
    _fits_table(tmp_path / "b.fits", unit="erg/(s cm2 Angstrom)")
    assert len(read_spectra(tmp_path).flux) == 6


# -- load_model keeps the cause -------------------------------------------------------------------
def _edited(path, edit):
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    edit(members)
    out = path.with_name("edited.zip")
    with zipfile.ZipFile(out, "w") as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    return out


@pytest.mark.parametrize(
    "edit, cause",
    [
        (lambda m: m.update({"model.json": b"{not json"}), json.JSONDecodeError),
        (
            lambda m: m.update(
                {
                    "model.json": json.dumps(
                        {**json.loads(m["model.json"]), "estimator": {"!": "object"}}
                    ).encode()
                }
            ),
            KeyError,
        ),
    ],
    ids=["bad-json", "damaged-node"],
)
def test_load_model_keeps_the_original_cause(tmp_path, edit, cause):
    path = save_model(StandardScaler().fit(np.eye(3)), tmp_path / "m.zip")
    with pytest.raises(InputError) as info:
        load_model(_edited(path, edit))
    assert isinstance(info.value.__cause__, cause), repr(info.value.__cause__)
