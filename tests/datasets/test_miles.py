import importlib.util

import numpy as np
import pandas as pd
import pytest

from skspectra.datasets import _miles
from skspectra.datasets._miles import _air_to_vacuum, fetch_miles

HAS_MANGADAP = importlib.util.find_spec("mangadap") is not None
needs_mangadap = pytest.mark.skipif(not HAS_MANGADAP, reason="sdss-mangadap is not installed")


def test_missing_package_error_gives_install_command(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "mangadap" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(_miles.importlib.util, "find_spec", find_spec)
    with pytest.raises(ImportError, match="pip install --no-deps sdss-mangadap"):
        fetch_miles()


def test_package_without_miles_files(monkeypatch, tmp_path):
    class Spec:
        submodule_search_locations = [str(tmp_path)]

    monkeypatch.setattr(_miles.importlib.util, "find_spec", lambda name, *a, **k: Spec())
    with pytest.raises(FileNotFoundError, match="force-reinstall"):
        fetch_miles()


def test_air_to_vacuum_matches_known_lines():
    # Air -> vacuum for H-alpha, H-beta and Na D2 (NIST / SDSS line lists).
    air = np.array([6562.80, 4861.33, 5889.95])
    vacuum = np.array([6564.61, 4862.68, 5891.58])
    np.testing.assert_allclose(_air_to_vacuum(air), vacuum, atol=0.02)


def test_params_typo_is_fixed():
    ids = pd.Series(["0220", "022.", "0222"])
    assert _miles._fix_miles_id_typos(ids).tolist() == ["0220", "0221", "0222"]


@pytest.fixture(scope="module")
def miles():
    if not HAS_MANGADAP:
        pytest.skip("sdss-mangadap is not installed")
    return fetch_miles()


@needs_mangadap
def test_shapes_and_grid(miles):
    assert miles.flux.shape == (984, 4300)
    assert miles.flux.dtype == np.float64
    assert np.all(np.isfinite(miles.flux))
    np.testing.assert_allclose(miles.wavelength, 3540.5 + 0.9 * np.arange(4300))
    shift = miles.wavelength_vacuum - miles.wavelength
    assert np.all((shift > 0.9) & (shift < 2.1))
    assert miles.resolution_fwhm == 2.5
    assert miles.feature_names[0] == "flux_3540.5A"
    assert miles.feature_names[-1] == "flux_7409.6A"


@needs_mangadap
def test_labels_and_ids(miles):
    labels, ids = miles.labels, miles.ids
    assert list(labels.columns) == ["teff", "logg", "fe_h"]
    assert list(ids.columns) == ["miles_id", "name", "spectral_type"]
    assert len(labels) == len(ids) == 984
    assert ids["miles_id"].is_unique and 970 not in set(ids["miles_id"])
    assert labels["teff"].isna().sum() == 3 and labels["logg"].isna().sum() == 3
    assert labels["fe_h"].isna().sum() == 39
    teff, logg, fe_h = (labels[c].dropna() for c in ("teff", "logg", "fe_h"))
    assert teff.between(2500, 40000).all()
    assert logg.between(-0.5, 6.0).all()
    assert fe_h.between(-3.5, 2.0).all()
    # The typo'd row of the parameter table lands on its star.
    row = ids.index[ids["miles_id"] == 221][0]
    assert ids.loc[row, "name"] == "HD044691A"
    assert labels.loc[row, "teff"] == 7950


@needs_mangadap
def test_flux_is_relative_and_order_unity(miles):
    median = np.median(miles.flux, axis=1)
    assert np.all((median > 0.5) & (median < 2.0))
    # Hot stars are bluer than cool ones: compare the flux ratio blue/red with Teff.
    blue = miles.flux[:, :500].mean(axis=1)
    red = miles.flux[:, -500:].mean(axis=1)
    teff = miles.labels["teff"].to_numpy()
    hot, cool = teff > 9000, teff < 4000
    assert np.median(blue[hot] / red[hot]) > 2 * np.median(blue[cool] / red[cool])


@needs_mangadap
def test_as_frame_and_descr(monkeypatch):
    # Three stars are enough here; reading all 984 files again would be slow.
    real_files = _miles._spectrum_files
    monkeypatch.setattr(_miles, "_spectrum_files", lambda d: dict(list(real_files(d).items())[:3]))
    data = fetch_miles(as_frame=True)
    assert data.flux.shape == (3, 4300)
    assert isinstance(data.flux, pd.DataFrame)
    assert list(data.flux.columns[:2]) == ["flux_3540.5A", "flux_3541.4A"]
    install = "pip install --no-deps sdss-mangadap"
    for text in ("BSD", "Sánchez-Blázquez", "Falcón-Barroso", install):
        assert text in data.DESCR
