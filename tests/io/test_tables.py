"""read_spectra_table (.npz and FITS tables) and read_spectra (many files and directories)."""

import numpy as np
import pytest
from astropy.io import fits

from skspectra.io import read_spectra, read_spectra_table
from skspectra.preprocessing import common_wavelength_grid, resample_spectra


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    n, m = 4, 30
    return dict(
        flux=rng.normal(5, 1, (n, m)),
        ivar=rng.uniform(1, 2, (n, m)),
        wavelength=np.linspace(4000.0, 5000.0, m),
        ids=np.array([11, 12, 13, 14]),
        z=np.array([0.1, 0.2, 0.3, 0.4]),
    )


def write_fits_table(path, flux, wavelength=None, ivar=None, **scalars):
    n, m = flux.shape
    cols = [fits.Column(name="FLUX", format=f"{m}D", array=flux, unit="erg/s/cm2/Angstrom")]
    if ivar is not None:
        cols.append(fits.Column(name="IVAR", format=f"{m}D", array=ivar))
    if wavelength is not None:
        cols.append(
            fits.Column(
                name="WAVELENGTH", format=f"{m}D", array=np.broadcast_to(wavelength, (n, m))
            )
        )
    for name, values in scalars.items():
        cols.append(
            fits.Column(name=name, format="D" if values.dtype.kind == "f" else "K", array=values)
        )
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(path)
    return path


def test_npz_round_trip(tmp_path, arrays):
    arrays["ivar"][1, 3] = 0
    path = tmp_path / "s.npz"
    np.savez(path, **arrays)
    out = read_spectra_table(path)
    for key in ("flux", "ivar", "wavelength", "ids", "z"):
        np.testing.assert_array_equal(out[key], arrays[key])
    assert out.mask.shape == arrays["flux"].shape
    assert np.flatnonzero(out.mask.ravel()).tolist() == [30 + 3]
    assert out.meta == {"file": str(path), "format": "npz"} and out.flux_unit is None


def test_npz_flux_only(tmp_path):
    path = tmp_path / "s.npz"
    np.savez(path, flux=np.ones((2, 5)))
    out = read_spectra_table(path)
    assert out.ivar is None and out.wavelength is None and out.z is None
    assert out.flux.shape == (2, 5) and not out.mask.any()


def test_fits_table_round_trip(tmp_path, arrays):
    path = write_fits_table(
        tmp_path / "s.fits",
        arrays["flux"],
        arrays["wavelength"],
        arrays["ivar"],
        Z=arrays["z"],
        ID=arrays["ids"],
    )
    out = read_spectra_table(path)
    np.testing.assert_array_equal(out.flux, arrays["flux"])
    np.testing.assert_array_equal(out.ivar, arrays["ivar"])
    np.testing.assert_array_equal(out.z, arrays["z"])
    np.testing.assert_array_equal(out.ids, arrays["ids"])
    # the wavelength column repeats one grid in every row: returned once, shape (m,)
    np.testing.assert_array_equal(out.wavelength, arrays["wavelength"])
    assert out.flux_unit == "erg/s/cm2/Angstrom"
    assert out.flux.dtype.byteorder in "=|"


def test_fits_table_per_row_wavelengths_stay_2d(tmp_path, arrays):
    wave = arrays["wavelength"] * (1 + arrays["z"][:, None])
    path = write_fits_table(tmp_path / "s.fits", arrays["flux"], wave)
    out = read_spectra_table(path)
    np.testing.assert_array_equal(out.wavelength, wave)


def test_fits_one_row_per_pixel_is_one_spectrum(tmp_path):
    wave = np.linspace(4000, 5000, 20)
    cols = [
        fits.Column(name="wavelength", format="D", array=wave),
        fits.Column(name="flux", format="D", array=np.arange(20.0)),
        fits.Column(name="ivar", format="D", array=np.ones(20)),
    ]
    path = tmp_path / "p.fits"
    fits.BinTableHDU.from_columns(cols).writeto(path)
    out = read_spectra_table(path)
    assert out.flux.shape == (1, 20) and out.ivar.shape == (1, 20)
    np.testing.assert_array_equal(out.wavelength, wave)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(flux=None), "holds no 'flux'"),
        (dict(ivar=np.ones((4, 29))), r"ivar has shape \(4, 29\) but flux has shape \(4, 30\)"),
        (dict(ivar=-np.ones((4, 30))), "ivar has negative values"),
        (dict(wavelength=np.r_[np.nan, np.arange(29.0)]), "wavelength has NaN"),
        (dict(wavelength=np.arange(30.0)[::-1]), "strictly increasing"),
        (dict(wavelength=np.arange(31.0)), r"wavelength has shape \(31,\)"),
        (dict(z=np.zeros(3)), r"z has shape \(3,\)"),
    ],
)
def test_npz_errors_name_the_file_and_problem(tmp_path, arrays, change, message):
    arrays.update(change)
    path = tmp_path / "bad.npz"
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    with pytest.raises(ValueError, match=message) as info:
        read_spectra_table(path)
    assert "bad.npz" in str(info.value)


def test_corrupt_files_raise_value_error(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="bad.npz is not a readable .npz"):
        read_spectra_table(tmp_path / "bad.npz")
    (tmp_path / "bad.fits").write_bytes(b"SIMPLE  =  junk" * 10)
    with pytest.raises(ValueError, match="bad.fits is not a readable FITS file"):
        read_spectra_table(tmp_path / "bad.fits")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        read_spectra_table(tmp_path / "missing.npz")


def test_fits_without_flux_column(tmp_path):
    path = tmp_path / "t.fits"
    fits.BinTableHDU.from_columns([fits.Column(name="a", format="D", array=[1.0])]).writeto(path)
    with pytest.raises(ValueError, match="t.fits has no binary table with a 'flux' column"):
        read_spectra_table(path)


def test_read_spectra_directory_mixes_readers(tmp_path, arrays, write_sdss):
    np.savez(tmp_path / "b_table.npz", **arrays)
    write_sdss(
        tmp_path / "a_spec.fits",
        3.6 + 1e-4 * np.arange(40),
        np.ones(40),
        np.ones(40),
        specobj=dict(Z=0.05, PLATE=1, MJD=2, FIBERID=3, CLASS="GALAXY"),
    )
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / "sub").mkdir()  # subdirectories are not searched
    np.savez(tmp_path / "sub" / "c.npz", **arrays)

    out = read_spectra(tmp_path)

    assert len(out.flux) == len(out.wavelength) == len(out.ivar) == len(out.mask) == 5
    assert (
        out.meta["file"].tolist()
        == [str(tmp_path / "a_spec.fits")] + [str(tmp_path / "b_table.npz")] * 4
    )
    assert out.meta["row"].tolist() == [0, 0, 1, 2, 3]
    assert out.meta["id"].tolist() == ["1-2-3", 11, 12, 13, 14]
    np.testing.assert_allclose(out.meta["z"].to_numpy(float), [0.05, 0.1, 0.2, 0.3, 0.4], rtol=1e-6)
    assert out.meta["class"].tolist()[0] == "GALAXY"
    np.testing.assert_array_equal(out.flux[2], arrays["flux"][1])
    np.testing.assert_array_equal(out.wavelength[0], 10 ** (3.6 + 1e-4 * np.arange(40)))


def test_read_spectra_errors(tmp_path, arrays):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(
        ValueError,
        match=r"no spectra found in .*empty \(looked for \*.fits, "
        r"\*.fits.gz, \*.npz\)",
    ):
        read_spectra([empty])
    with pytest.raises(FileNotFoundError, match="nothere.fits"):
        read_spectra([tmp_path / "nothere.fits"])
    (tmp_path / "x.csv").write_text("1,2")
    with pytest.raises(ValueError, match="unsupported file type"):
        read_spectra(tmp_path / "x.csv")
    with pytest.raises(ValueError, match="no paths given"):
        read_spectra([])
    np.savez(tmp_path / "nowave.npz", flux=arrays["flux"])
    with pytest.raises(ValueError, match="nowave.npz has no wavelength"):
        read_spectra(tmp_path / "nowave.npz")


def test_read_spectra_warns_and_drops_ivar_when_some_files_lack_it(tmp_path, arrays):
    np.savez(tmp_path / "a.npz", **arrays)
    np.savez(tmp_path / "b.npz", flux=arrays["flux"], wavelength=arrays["wavelength"])
    with pytest.warns(UserWarning, match="ivar dropped"):
        out = read_spectra([tmp_path / "a.npz", tmp_path / "b.npz"])
    assert out.ivar is None and len(out.flux) == 8


def test_read_spectra_on_real_sdss_then_common_grid(ppxf_spectra_dir):
    """What a CLI does: read, choose the common grid, resample with ivar."""
    paths = [
        ppxf_spectra_dir / "NGC3073_SDSS_DR18.fits",
        ppxf_spectra_dir / "NGC3522_SDSS_DR18.fits",
    ]
    spectra = read_spectra(paths)
    grid = common_wavelength_grid(spectra.wavelength)
    flux, ivar = resample_spectra(
        spectra.wavelength, spectra.flux, spectra.ivar, mask=spectra.mask, new_wavelength=grid
    )
    assert flux.shape == ivar.shape == (2, grid.size)
    # The files share the SDSS 1e-4 dex grid: the common grid is that grid over the overlap
    np.testing.assert_allclose(np.diff(np.log10(grid)), 1e-4, rtol=1e-9)
    assert 3826 < grid[0] < 3828 and 9203 < grid[-1] < 9205
    assert (ivar > 0).mean() > 0.99
    assert spectra.meta["id"].tolist() == ["945-52652-470", "2488-54149-1"]


def test_read_spectra_reads_gzipped_fits(tmp_path, write_sdss):
    import gzip

    plain = write_sdss(tmp_path / "spec.fits", 3.6 + 1e-4 * np.arange(20), np.ones(20), np.ones(20))
    directory = tmp_path / "gz"
    directory.mkdir()
    (directory / "spec.fits.gz").write_bytes(gzip.compress(plain.read_bytes()))
    out = read_spectra(directory)
    assert len(out.flux) == 1 and out.meta["file"][0].endswith("spec.fits.gz")
    np.testing.assert_array_equal(out.flux[0], np.ones(20))
