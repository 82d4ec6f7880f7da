import importlib.util

import numpy as np
import pytest
from scipy.stats import spearmanr

from skspectra.datasets import load_gaia_xp, make_image_spectrum_pairs
from skspectra.datasets._image_pairs import SDSS_BANDS
from skspectra.datasets._photometry import band_coverage

C_ANGSTROM_PER_S = 2.99792458e18
AB_ZERO_FNU = 3631e-23  # erg s-1 cm-2 Hz-1


@pytest.fixture(scope="module")
def gaia():
    return load_gaia_xp()


@pytest.fixture(scope="module")
def stars(gaia):
    """The first 60 stars, rendered once with the defaults."""
    return make_image_spectrum_pairs(
        gaia.flux[:60], gaia.wavelength, return_params=True, random_state=0
    )


def flat_fnu(magnitude, wavelength):
    """F_lambda (erg s-1 cm-2 Å-1) of a source with flat f_nu of the given AB magnitude."""
    fnu = AB_ZERO_FNU * 10 ** (-0.4 * magnitude)
    return fnu * C_ANGSTROM_PER_S / wavelength**2


def test_shapes_units_and_the_simulated_warning(stars, gaia):
    assert stars.images.shape == (60, 5, 32, 32) and stars.images.dtype == np.float64
    assert stars.band_flux.shape == (60, 5)
    assert stars.bands == list(SDSS_BANDS)
    np.testing.assert_array_equal(stars.spectra, gaia.flux[:60])
    assert not np.shares_memory(stars.spectra, gaia.flux)
    assert "SIMULATED" in stars.DESCR
    assert len(stars.params) == 60 and len(stars.neighbours) == 0
    # the reference band (r) holds the drawn magnitude, inside the default range
    r_mag = -2.5 * np.log10(stars.band_flux[:, 2])
    np.testing.assert_allclose(r_mag, stars.params["magnitude"], atol=1e-9)
    assert r_mag.min() >= 16 and r_mag.max() <= 20


def test_flat_fnu_source_has_its_ab_magnitude_in_every_band():
    wavelength = np.arange(2500.0, 12000.0, 5.0)
    spectra = np.vstack([flat_fnu(m, wavelength) for m in (15.0, 18.0)])
    data = make_image_spectrum_pairs(
        spectra, wavelength, magnitude_range=None, image_size=8, noise=None, random_state=0
    )
    expected = 10 ** (-0.4 * np.array([[15.0], [18.0]]))
    np.testing.assert_allclose(data.band_flux, np.broadcast_to(expected, (2, 5)), rtol=2e-3)
    np.testing.assert_array_equal(data.band_coverage, 1.0)


def test_band_colours_follow_the_stars_real_colours(gaia):
    n = 300
    data = make_image_spectrum_pairs(
        gaia.flux[:n], gaia.wavelength, image_size=8, noise=None, random_state=0
    )
    g, i = data.band_flux[:, 1], data.band_flux[:, 3]
    g_minus_i = -2.5 * np.log10(g / i)
    bp_rp = (gaia.photometry["BP"] - gaia.photometry["RP"]).to_numpy()[:n]
    ok = np.isfinite(bp_rp)
    # Gaia's own BP-RP photometry is an independent measurement of the same colour
    assert spearmanr(g_minus_i[ok], bp_rp[ok]).statistic > 0.95
    # cooler stars are redder: more flux in z than in g
    teff = gaia.labels["teff"].to_numpy()[:n]
    cool, hot = np.nanargmin(teff), np.nanargmax(teff)
    ratio = data.band_flux[:, 4] / data.band_flux[:, 1]
    assert ratio[cool] > ratio[hot]


def test_image_sums_match_band_counts_within_poisson_noise(stars):
    total = stars.images.sum(axis=(2, 3))
    expected = stars.band_counts * stars.stamp_fraction
    sigma = np.sqrt(expected + 100.0 * 32 * 32)
    assert np.all(np.abs(total - expected) < 5 * sigma)
    assert np.all(stars.stamp_fraction > 0.99)  # a 1.4" PSF inside 12.7"
    # an empty corner has the sky's noise: sqrt(100) counts per pixel
    corner = stars.images[:, :, :6, :6]
    assert abs(corner.mean()) < 0.5 and corner.std() == pytest.approx(10.0, rel=0.05)


def test_noiseless_images_hold_the_band_counts(gaia):
    data = make_image_spectrum_pairs(
        gaia.flux[:10], gaia.wavelength, image_size=64, noise=None, random_state=1
    )
    total = data.images.sum(axis=(2, 3))
    np.testing.assert_allclose(total, data.band_counts, rtol=3e-3)
    # counts are maggies times 10**(0.4 zeropoint)
    np.testing.assert_allclose(data.band_counts, data.band_flux * 10 ** (0.4 * 28.0))


def test_same_seed_same_images_other_seed_other_images(gaia):
    kwargs = dict(image_size=16, neighbours=(0, 2), galaxy_profile="sersic")
    a = make_image_spectrum_pairs(gaia.flux[:8], gaia.wavelength, random_state=3, **kwargs)
    b = make_image_spectrum_pairs(gaia.flux[:8], gaia.wavelength, random_state=3, **kwargs)
    c = make_image_spectrum_pairs(gaia.flux[:8], gaia.wavelength, random_state=4, **kwargs)
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.allclose(a.images, c.images)
    state = np.random.get_state()[1].copy()
    make_image_spectrum_pairs(gaia.flux[:2], gaia.wavelength, random_state=0)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # global RNG untouched


def test_gaia_range_leaves_u_and_z_partly_uncovered(gaia):
    coverage = band_coverage(SDSS_BANDS, gaia.wavelength)
    assert 0.8 < coverage[0] < 1 and 0.95 < coverage[4] < 1
    np.testing.assert_array_equal(coverage[1:4], 1.0)
    with pytest.raises(ValueError, match="sdss2010-u .* sdss2010-z"):
        make_image_spectrum_pairs(gaia.flux[:3], gaia.wavelength, out_of_range="raise")
    dropped = make_image_spectrum_pairs(
        gaia.flux[:3], gaia.wavelength, out_of_range="drop", psf_fwhm=[1.5, 1.4, 1.3, 1.2, 1.1]
    )
    assert dropped.bands == ["sdss2010-g", "sdss2010-r", "sdss2010-i"]
    assert dropped.images.shape[1] == 3
    np.testing.assert_array_equal(dropped.psf_fwhm, [1.4, 1.3, 1.2])


def test_edge_padding_is_exact_for_a_flat_spectrum_and_zero_padding_loses_flux(gaia):
    wide = np.arange(2500.0, 12000.0, 20.0)
    full = make_image_spectrum_pairs(
        np.ones((1, wide.size)), wide, magnitude_range=None, image_size=8, noise=None
    )
    kwargs = dict(magnitude_range=None, image_size=8, noise=None)
    edge = make_image_spectrum_pairs(np.ones((1, 343)), gaia.wavelength, **kwargs)
    zero = make_image_spectrum_pairs(
        np.ones((1, 343)), gaia.wavelength, out_of_range="zero", **kwargs
    )
    np.testing.assert_allclose(edge.band_flux, full.band_flux, rtol=1e-3)
    assert zero.band_flux[0, 0] < 0.95 * full.band_flux[0, 0]  # u loses its blue 11 %
    np.testing.assert_allclose(zero.band_flux[0, 1:4], full.band_flux[0, 1:4], rtol=1e-3)


def test_miles_range_refuses_mostly_extrapolated_bands():
    wavelength = np.arange(3540.5, 7409.6, 0.9)
    spectra = np.ones((2, wavelength.size))
    with pytest.raises(ValueError, match="min_coverage.*sdss2010-z|sdss2010-z.*min_coverage"):
        make_image_spectrum_pairs(spectra, wavelength)
    data = make_image_spectrum_pairs(spectra, wavelength, out_of_range="drop", image_size=8)
    assert data.bands == ["sdss2010-g", "sdss2010-r"]


def test_neighbours_add_light_but_not_band_flux(gaia):
    kwargs = dict(image_size=32, noise=None, return_params=True, random_state=5)
    alone = make_image_spectrum_pairs(gaia.flux[:20], gaia.wavelength, **kwargs)
    crowded = make_image_spectrum_pairs(gaia.flux[:20], gaia.wavelength, neighbours=2, **kwargs)
    np.testing.assert_array_equal(crowded.params["n_neighbours"], 2)
    table = crowded.neighbours
    assert len(table) == 40
    assert np.all(table["spectrum_index"] != table["image"])
    assert np.all(np.hypot(table["x_offset"], table["y_offset"]) >= 1.4 / 0.396)
    assert np.all(crowded.images.sum(axis=(2, 3)) > crowded.band_counts * 1.01)
    # the truth is the central object's: the same magnitudes and band fluxes with or without
    np.testing.assert_allclose(crowded.params["magnitude"], alone.params["magnitude"])


def test_galaxies_are_more_extended_than_stars(gaia):
    kwargs = dict(image_size=32, noise=None, random_state=0, return_params=True)
    point = make_image_spectrum_pairs(gaia.flux[:10], gaia.wavelength, **kwargs)
    galaxy = make_image_spectrum_pairs(
        gaia.flux[:10], gaia.wavelength, galaxy_profile="exponential", **kwargs
    )
    peak = lambda d: d.images[:, 2].max(axis=(1, 2)) / d.images[:, 2].sum(axis=(1, 2))  # noqa: E731
    assert np.all(peak(galaxy) < 0.7 * peak(point))
    hlr = galaxy.params["half_light_radius"]
    assert hlr.between(0.5, 2.0).all() and (galaxy.params["sersic_n"] == 1).all()
    assert point.params["half_light_radius"].isna().all()


def test_per_band_psf_is_sharper_where_fwhm_is_smaller(gaia):
    data = make_image_spectrum_pairs(
        gaia.flux[:5],
        gaia.wavelength,
        psf_fwhm=[2.5, 2.0, 1.5, 1.0, 0.8],
        noise=None,
        psf="kolmogorov",
        random_state=0,
    )
    peak = data.images.max(axis=(2, 3)) / data.images.sum(axis=(2, 3))
    assert np.all(np.diff(peak, axis=1) > 0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(bands=["sdss2010-q"]), "unknown speclite filter"),
        (dict(flux_unit="Jy"), "F_lambda"),
        (dict(reference_band="decam2014-r"), "reference_band"),
        (dict(psf_fwhm=[1.0, 1.0]), "one value per band"),
        (dict(image_size=(8, 8, 8)), "image_size"),
        (dict(neighbours=(3, 1)), "neighbours"),
        (dict(magnitude_range=(20, 16)), "magnitude_range"),
    ],
)
def test_bad_parameters_say_what_to_fix(gaia, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_image_spectrum_pairs(gaia.flux[:3], gaia.wavelength, **kwargs)


def test_bad_spectra_say_what_to_fix(gaia):
    flux = gaia.flux[:3].copy()
    flux[1, 7] = np.nan
    with pytest.raises(ValueError, match="NaN .* row 1"):
        make_image_spectrum_pairs(flux, gaia.wavelength)
    with pytest.raises(ValueError, match="one value per spectrum pixel"):
        make_image_spectrum_pairs(gaia.flux[:3], gaia.wavelength[:-1])
    with pytest.raises(ValueError, match="2-D"):
        make_image_spectrum_pairs(gaia.flux[0], gaia.wavelength)
    with pytest.raises(ValueError, match="at least 2 spectra"):
        make_image_spectrum_pairs(gaia.flux[:1], gaia.wavelength, neighbours=1)
    with pytest.raises(ValueError, match="no positive flux"):
        make_image_spectrum_pairs(-gaia.flux[:2], gaia.wavelength)


@pytest.mark.skipif(
    importlib.util.find_spec("mangadap") is None, reason="sdss-mangadap is not installed"
)
def test_real_miles_stars_keep_the_bands_they_cover():
    from skspectra.datasets import fetch_miles

    miles = fetch_miles()
    teff = miles.labels["teff"].to_numpy()[:200]
    data = make_image_spectrum_pairs(
        miles.flux[:200],
        miles.wavelength_vacuum,
        out_of_range="drop",
        image_size=8,
        noise=None,
        random_state=0,
    )
    assert data.bands == ["sdss2010-g", "sdss2010-r"]
    g_minus_r = -2.5 * np.log10(data.band_flux[:, 0] / data.band_flux[:, 1])
    ok = np.isfinite(teff) & np.isfinite(g_minus_r)
    assert spearmanr(g_minus_r[ok], teff[ok]).statistic < -0.8  # hotter is bluer
