"""Fixtures for the readers: the real SDSS spectra that ppxf ships, and small written files."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits


@pytest.fixture(scope="session")
def ppxf_spectra_dir():
    """Directory of the SDSS DR18 spectra installed with ppxf (read in place, never copied)."""
    spec = importlib.util.find_spec("ppxf")
    if spec is None or spec.origin is None:
        pytest.skip("ppxf is not installed")
    directory = Path(spec.origin).parent / "spectra"
    if not (directory / "NGC3073_SDSS_DR18.fits").exists():
        pytest.skip("ppxf does not ship the SDSS DR18 spectra")
    return directory


def write_sdss_like(
    path, loglam, flux, ivar, and_mask=None, specobj=None, header=None, loglam_format="D"
):
    """Write a minimal SDSS spec-lite-like file: COADD table (+ SPECOBJ if given)."""
    primary = fits.PrimaryHDU()
    primary.header["TELESCOP"] = "SDSS 2.5-M"
    primary.header["BUNIT"] = "1E-17 erg/cm^2/s/Ang"
    for key, value in (header or {}).items():
        primary.header[key] = value
    columns = [
        fits.Column(name="flux", format="E", array=flux),
        fits.Column(name="loglam", format=loglam_format, array=loglam),
        fits.Column(name="ivar", format="E", array=ivar),
    ]
    if and_mask is not None:
        columns.append(fits.Column(name="and_mask", format="J", array=and_mask))
    hdus = [primary, fits.BinTableHDU.from_columns(columns, name="COADD")]
    if specobj is not None:
        cols = []
        for name, value in specobj.items():
            fmt = (
                f"{max(len(value), 1)}A"
                if isinstance(value, str)
                else ("J" if isinstance(value, int) else "E")
            )
            cols.append(fits.Column(name=name, format=fmt, array=np.array([value])))
        hdus.append(fits.BinTableHDU.from_columns(cols, name="SPECOBJ"))
    fits.HDUList(hdus).writeto(path)
    return path


@pytest.fixture
def write_sdss():
    """The writer of SDSS-like test files, as a fixture (tests cannot import conftest)."""
    return write_sdss_like
