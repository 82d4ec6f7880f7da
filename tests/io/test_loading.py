"""The loaders behind ``skspectra anomalies``, called as a script would."""

import numpy as np
import pytest

from skspectra.io import (
    check_training_images,
    check_training_spectra,
    load_gaia_xp_sample,
    load_images,
    load_spectra,
)


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


def test_load_images_normalises_fits_images(tmp_path):
    from astropy.io import fits

    rng = np.random.default_rng(0)
    for k in range(3):
        data = rng.gamma(2.0, 10.0**k, (40, 40))
        fits.PrimaryHDU(data).writeto(tmp_path / f"s{k}.fits")
    sub = tmp_path / "sub"
    sub.mkdir()
    fits.PrimaryHDU(rng.gamma(2.0, 1.0, (20, 20))).writeto(sub / "s0.fits")
    data = load_images([tmp_path, sub], size=16, stretch="linear")
    assert data.images.shape == (4, 1, 16, 16)
    flat = data.images.reshape(4, -1)
    # the 0.5th and 99.5th percentiles (of 256 pixels) become 0 and 1: one or two pixels each
    assert np.all((flat == 0).sum(axis=1) >= 1) and np.all((flat == 0).sum(axis=1) <= 2)
    assert np.all((flat == 1).sum(axis=1) >= 1) and np.all((flat == 1).sum(axis=1) <= 2)
    assert list(data.ids[1:3]) == ["s1.fits", "s2.fits"]
    assert data.ids[0].endswith("/s0.fits") and data.ids[3].endswith("sub/s0.fits")
    assert list(data.labels["shape"]) == [(40, 40)] * 3 + [(20, 20)]
    assert "asinh" not in data.preprocessing and "linear" in data.preprocessing


def test_check_training_images():
    from sklearn.utils import Bunch

    images = np.ones((12, 1, 4, 4))
    ids = np.array([f"i{k}" for k in range(12)])
    assert check_training_images(Bunch(images=images, ids=ids)).images is images
    blank = images.copy()
    blank[3] = np.nan
    with pytest.raises(ValueError, match="image i3 has no finite pixel"):
        check_training_images(Bunch(images=blank, ids=ids))
    with pytest.raises(ValueError, match="at least 10 images"):
        check_training_images(Bunch(images=images[:9], ids=ids[:9]))


def test_hubble_sample_layout():
    from skspectra.io import load_hubble_sample

    data = load_hubble_sample(size=16)
    n = len(data.images)
    assert data.images.shape == (n, 3, 16, 16) and n > 100
    assert 0 <= data.images.min() and data.images.max() <= 1
    assert len(data.ids) == len(data.labels) == n and data.ids[0] == "hdf0000"
    assert data.labels["is_bright_star"].sum() == 1
    assert "not calibrated flux" in data.source
