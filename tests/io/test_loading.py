"""The loaders behind ``skspectra anomalies``, called as a script would."""

import numpy as np
import pytest

from skspectra.io import check_training_spectra, load_gaia_xp_sample, load_spectra


def test_gaia_xp_sample_layout():
    data = load_gaia_xp_sample()
    assert data.flux.shape == data.ivar.shape == (len(data.ids), data.wavelength.size)
    assert data.wavelength_unit == "Å" and len(data.labels) == len(data.ids)
    assert str(data.ids[0]).startswith("2M")


def test_tables_on_a_pixel_grid_are_median_normalised(tmp_path):
    rng = np.random.default_rng(0)
    flux = rng.uniform(1, 2, (12, 30)) * np.arange(1, 13)[:, None]
    ivar = np.ones_like(flux)
    ivar[0, :3] = 0
    np.savez(tmp_path / "t.npz", flux=flux, ivar=ivar)
    data = load_spectra(tmp_path / "t.npz")
    assert data.wavelength_unit == "pixel"
    np.testing.assert_array_equal(data.wavelength, np.arange(30))
    np.testing.assert_allclose(np.median(data.flux[1:], axis=1), 1.0)
    median0 = np.median(flux[0, 3:])
    np.testing.assert_allclose(data.flux[0, 3:], flux[0, 3:] / median0)
    np.testing.assert_allclose(data.ivar[0, 3:], median0**2)
    assert list(data.ids[:2]) == ["t.npz#0", "t.npz#1"] and "pixel grid" in data.source
    assert check_training_spectra(data) is data


def test_check_training_spectra_refuses_unusable_data():
    from sklearn.utils import Bunch

    flux, ivar = np.ones((12, 5)), np.ones((12, 5))
    ids = np.array([f"s{i}" for i in range(12)])
    bad = flux.copy()
    bad[4, 1] = np.nan
    with pytest.raises(ValueError, match="spectrum s4 has NaN"):
        check_training_spectra(Bunch(flux=bad, ivar=ivar, ids=ids))
    masked = ivar.copy()
    masked[2] = 0
    with pytest.raises(ValueError, match="spectrum s2 has every pixel masked"):
        check_training_spectra(Bunch(flux=flux, ivar=masked, ids=ids))
    with pytest.raises(ValueError, match="at least 10"):
        check_training_spectra(Bunch(flux=flux[:5], ivar=ivar[:5], ids=ids[:5]))
    # NaN under ivar = 0 is fine and becomes 0
    bad_masked = ivar.copy()
    bad_masked[4, 1] = 0
    data = check_training_spectra(Bunch(flux=bad, ivar=bad_masked, ids=ids))
    assert data.flux[4, 1] == 0.0
