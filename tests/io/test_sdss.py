"""read_sdss_spectrum on the real SDSS DR18 spectra that ppxf ships and on written files."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from skspectra.io import SDSS_FLUX_UNIT, read_sdss_spectrum

# Values looked up in the files' SPECOBJ HDU (Z, CLASS, SUBCLASS, PLATE-MJD-FIBERID).
# Note NGC 3073: the SDSS pipeline classified this dwarf galaxy as an A0 star.
REAL = {
    "NGC3073_SDSS_DR18.fits": dict(
        z=0.0037627,
        cls="STAR",
        subclass="A0",
        plate=945,
        mjd=52652,
        fiberid=470,
        n_pix=3848,
        wave=(3795.77, 9204.50),
    ),
    "NGC3522_SDSS_DR18.fits": dict(
        z=0.0040180,
        cls="GALAXY",
        subclass="BROADLINE",
        plate=2488,
        mjd=54149,
        fiberid=1,
        n_pix=3815,
        wave=(3826.48, 9208.74),
    ),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_sdss_spectrum_matches_direct_astropy_read(ppxf_spectra_dir, name):
    path = ppxf_spectra_dir / name
    expected = REAL[name]
    spec = read_sdss_spectrum(path)

    with fits.open(path) as hdul:
        coadd = hdul["COADD"].data
        row = hdul["SPECOBJ"].data[0]
        loglam = coadd["loglam"].astype(np.float64)
        np.testing.assert_array_equal(spec.flux, coadd["flux"])
        np.testing.assert_array_equal(spec.ivar, coadd["ivar"])
        np.testing.assert_array_equal(spec.mask, (coadd["and_mask"] != 0) | (coadd["ivar"] == 0))
        np.testing.assert_array_equal(spec.and_mask, coadd["and_mask"])
        np.testing.assert_array_equal(spec.wdisp, coadd["wdisp"])
        assert spec.meta["z"] == pytest.approx(float(row["Z"]), rel=1e-7)
        assert spec.meta["z_err"] == pytest.approx(float(row["Z_ERR"]), rel=1e-7)
        assert spec.meta["ra"] == pytest.approx(float(row["PLUG_RA"]))
        assert spec.meta["dec"] == pytest.approx(float(row["PLUG_DEC"]))
        assert spec.meta["class"] == row["CLASS"].strip()
        n_lines = len(hdul["SPZLINE"].data)
    # float32 loglam: the exact grid differs from 10**loglam by < 1e-6 relative
    np.testing.assert_allclose(spec.wavelength, 10.0**loglam, rtol=1e-6)
    assert spec.wavelength.dtype == np.float64 and spec.flux.dtype.byteorder in "=|"
    assert spec.wavelength.shape == spec.flux.shape == (expected["n_pix"],)
    np.testing.assert_allclose(spec.wavelength[[0, -1]], expected["wave"], atol=0.01)
    # the snapped grid is exactly log-linear with the SDSS step of 1e-4 dex
    np.testing.assert_allclose(np.diff(np.log10(spec.wavelength)), 1e-4, rtol=1e-9)

    assert spec.meta["z"] == pytest.approx(expected["z"], abs=1e-6)
    assert (spec.meta["class"], spec.meta["subclass"]) == (expected["cls"], expected["subclass"])
    assert (spec.meta["plate"], spec.meta["mjd"], spec.meta["fiberid"]) == (
        expected["plate"],
        expected["mjd"],
        expected["fiberid"],
    )
    assert spec.meta["file"] == str(path)
    assert spec.flux_unit == SDSS_FLUX_UNIT
    assert isinstance(spec.spzline, Table) and len(spec.spzline) == n_lines == 29
    assert "LINENAME" in spec.spzline.colnames
    # a galaxy spectrum in these units: continuum of order 10-1000, few bad pixels
    assert 10 < np.median(spec.flux) < 1000
    assert spec.mask.sum() < 10


def test_written_file_round_trips_exactly(tmp_path, write_sdss):
    rng = np.random.default_rng(0)
    loglam = 3.6 + 1e-4 * np.arange(50)
    flux = rng.normal(10, 1, 50).astype(np.float32)
    ivar = rng.uniform(1, 2, 50).astype(np.float32)
    ivar[7] = 0
    and_mask = np.zeros(50, dtype=np.int32)
    and_mask[[3, 4]] = 1 << 23
    specobj = dict(
        Z=0.1234,
        Z_ERR=1e-4,
        PLUG_RA=10.5,
        PLUG_DEC=-3.25,
        PLATE=1234,
        MJD=55555,
        FIBERID=42,
        CLASS="QSO   ",
        SUBCLASS="BROADLINE",
    )
    path = write_sdss(tmp_path / "spec-1234-55555-0042.fits", loglam, flux, ivar, and_mask, specobj)

    spec = read_sdss_spectrum(path)

    np.testing.assert_array_equal(spec.wavelength, 10.0**loglam)
    np.testing.assert_array_equal(spec.flux, flux)
    np.testing.assert_array_equal(spec.ivar, ivar)
    assert np.flatnonzero(spec.mask).tolist() == [3, 4, 7]
    assert spec.meta["z"] == pytest.approx(0.1234, rel=1e-7)
    assert spec.meta["class"] == "QSO"  # FITS blank padding removed
    assert spec.meta["plate"] == 1234 and spec.meta["fiberid"] == 42
    assert spec.spzline is None and spec.sky is None


def test_float32_loglam_is_snapped_to_the_header_grid(tmp_path, write_sdss):
    coeff0, coeff1 = 3.5793, 1e-4
    exact = coeff0 + coeff1 * np.arange(5, 3005)
    flux = np.ones(exact.size, dtype=np.float32)
    path = write_sdss(
        tmp_path / "s.fits",
        exact.astype(np.float32),
        flux,
        flux,
        header={"COEFF0": coeff0, "COEFF1": coeff1},
        loglam_format="E",
    )
    spec = read_sdss_spectrum(path)
    np.testing.assert_allclose(spec.wavelength, 10.0**exact, rtol=1e-13)
    stored = 10.0 ** exact.astype(np.float32).astype(np.float64)
    assert np.max(np.abs(stored / 10.0**exact - 1)) > 1e-8  # the stored values do jitter


def test_missing_metadata_is_none(tmp_path, write_sdss):
    path = write_sdss(tmp_path / "s.fits", 3.6 + 1e-4 * np.arange(5), np.ones(5), np.ones(5))
    spec = read_sdss_spectrum(path)
    assert spec.meta["z"] is None and spec.meta["class"] is None
    assert spec.meta["file"] == str(path)
    assert not spec.mask.any()  # no and_mask column, all ivar > 0


def test_missing_file_raises_file_not_found(tmp_path):
    path = tmp_path / "nope.fits"
    with pytest.raises(FileNotFoundError, match="nope.fits"):
        read_sdss_spectrum(path)


@pytest.mark.parametrize("content", [b"", b"this is not FITS\n" * 300], ids=["empty", "garbage"])
def test_garbage_file_raises_value_error(tmp_path, content):
    path = tmp_path / "bad.fits"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"bad.fits is not a readable FITS file"):
        read_sdss_spectrum(path)


@pytest.mark.parametrize("keep", [0.5, 0.1, 0.004])
def test_truncated_file_raises_value_error(tmp_path, write_sdss, keep):
    full = write_sdss(
        tmp_path / "full.fits",
        3.6 + 1e-4 * np.arange(2000),
        np.ones(2000),
        np.ones(2000),
        specobj={"Z": 0.1},
    )
    raw = full.read_bytes()
    path = tmp_path / "cut.fits"
    path.write_bytes(raw[: int(len(raw) * keep)])
    with pytest.raises(ValueError, match=r"cut.fits is not a readable FITS file"):
        read_sdss_spectrum(path)


def test_fits_without_loglam_is_not_an_sdss_spectrum(tmp_path):
    table = fits.BinTableHDU.from_columns(
        [fits.Column(name="flux", format="E", array=np.ones(3))], name="COADD"
    )
    path = tmp_path / "t.fits"
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(path)
    with pytest.raises(ValueError, match=r"t.fits is not an SDSS spectrum.*loglam"):
        read_sdss_spectrum(path)


def test_fits_image_only_is_not_an_sdss_spectrum(tmp_path):
    path = tmp_path / "img.fits"
    fits.PrimaryHDU(np.zeros((3, 3))).writeto(path)
    with pytest.raises(ValueError, match="img.fits is not an SDSS spectrum"):
        read_sdss_spectrum(path)
