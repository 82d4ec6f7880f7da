"""resample_spectra: flux conservation, ivar propagation, masks, fill, rest frame, specutils."""

import numpy as np
import pytest

from skspectra.preprocessing import (
    bin_edges,
    common_wavelength_grid,
    log_wavelength_grid,
    resample_spectra,
)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def irregular_grid(rng, start=4000.0, n=300):
    return start + np.cumsum(rng.uniform(0.5, 1.5, n))


def reference_resample(wave, flux, ivar, new_wave):
    """Independent loop over output pixels, straight from the overlap formulas."""
    e_in, e_out = bin_edges(wave), bin_edges(new_wave)
    out_f = np.full(new_wave.size, np.nan)
    out_iv = np.zeros(new_wave.size)
    for j in range(new_wave.size):
        lo, hi = e_out[j], e_out[j + 1]
        if lo < e_in[0] or hi > e_in[-1]:
            continue
        p = np.clip(np.minimum(e_in[1:], hi) - np.maximum(e_in[:-1], lo), 0, None)
        p = p * (ivar > 0)
        if p.sum() == 0:
            continue
        out_f[j] = np.sum(p * flux) / p.sum()
        var = np.divide(1.0, ivar, out=np.zeros_like(ivar), where=ivar > 0)
        out_iv[j] = p.sum() ** 2 / np.sum(p**2 * var)
    return out_f, out_iv


def integral(wave, flux, lo, hi):
    """∫ flux dλ over [lo, hi] for a piecewise-constant spectrum."""
    e = bin_edges(wave)
    overlap = np.clip(np.minimum(e[1:], hi) - np.maximum(e[:-1], lo), 0, None)
    return np.sum(overlap * flux)


def test_flux_is_conserved(rng):
    wave = irregular_grid(rng)
    flux = rng.normal(10, 3, (3, wave.size))
    new = np.linspace(wave[5], wave[-5], 97)
    new_flux, _ = resample_spectra(wave, flux, new_wavelength=new)
    e = bin_edges(new)
    for i in range(3):
        expected = integral(wave, flux[i], e[0], e[-1])
        np.testing.assert_allclose(np.sum(new_flux[i] * np.diff(e)), expected, rtol=1e-10)


def test_matches_an_independent_loop_with_masked_pixels(rng):
    wave = irregular_grid(rng)
    flux = rng.normal(10, 3, wave.size)
    ivar = rng.uniform(0.5, 2, wave.size)
    ivar[[40, 41, 42, 100]] = 0
    new = np.linspace(wave[0] - 20, wave[-1] + 20, 160)  # finer and coarser, edges outside
    got_f, got_iv = resample_spectra(wave, flux, ivar, new_wavelength=new, fill="nan")
    ref_f, ref_iv = reference_resample(wave, flux, ivar, new)
    np.testing.assert_allclose(got_f, ref_f, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(got_iv, ref_iv, rtol=1e-12)


def test_identity_on_the_same_grid(rng):
    wave = irregular_grid(rng)
    flux, ivar = rng.normal(10, 3, (2, wave.size)), rng.uniform(0.5, 2, (2, wave.size))
    new_flux, new_ivar = resample_spectra(wave, flux, ivar, new_wavelength=wave)
    np.testing.assert_allclose(new_flux, flux, rtol=1e-12)
    np.testing.assert_allclose(new_ivar, ivar, rtol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_constant_ivar_adds_up_over_k_pixels(k):
    wave = np.arange(1000, dtype=float) + 5000.0
    flux = np.full((1, wave.size), 3.0)
    ivar = np.full((1, wave.size), 4.0)
    new = wave[: (wave.size // k) * k].reshape(-1, k).mean(axis=1)  # bins of exactly k pixels
    new_flux, new_ivar = resample_spectra(wave, flux, ivar, new_wavelength=new)
    np.testing.assert_allclose(new_flux, 3.0, rtol=1e-12)
    np.testing.assert_allclose(new_ivar, 4.0 * k, rtol=1e-12)


def test_masked_pixels_are_left_out_not_smeared():
    wave = np.arange(100, dtype=float) + 4000.0  # edges 3999.5 + k
    flux = np.full(100, 2.0)
    ivar = np.ones(100)
    flux[50], ivar[50] = 1e6, 0.0  # garbage flux in a bad pixel
    flux[70:76], ivar[70:76] = np.nan, 0.0  # a gap longer than an output pixel
    new = np.arange(4000.5, 4098.5, 2.0)  # output pixels of exactly 2 input pixels
    new_flux, new_ivar = resample_spectra(wave, flux, ivar, new_wavelength=new)
    with_50 = np.flatnonzero(new == 4050.5)
    assert new_flux[with_50] == 2.0  # garbage did not leak in
    assert new_ivar[with_50] == 1.0  # one good pixel, not two
    gap = (new > 4069.5) & (new < 4075.5)
    assert gap.sum() == 3 and np.all(new_flux[gap] == 0) and np.all(new_ivar[gap] == 0)
    rest = ~gap & (new != 4050.5)
    np.testing.assert_allclose(new_flux[rest], 2.0)
    np.testing.assert_allclose(new_ivar[rest], 2.0)
    # the mask argument does the same as ivar == 0
    mask = ivar == 0
    f2, iv2 = resample_spectra(
        wave, np.nan_to_num(flux), np.ones(100), mask=mask, new_wavelength=new
    )
    np.testing.assert_array_equal(f2, new_flux)
    np.testing.assert_array_equal(iv2, new_ivar)


def test_partly_masked_output_pixel_is_the_mean_of_its_good_part():
    wave = np.arange(10, dtype=float) + 4000.0
    flux = np.arange(10, dtype=float)
    ivar = np.ones(10)
    ivar[4] = 0
    new = np.array([4002.0, 4004.0, 4006.0])  # edges 4001, 4003, 4005, 4007
    new_flux, new_ivar = resample_spectra(wave, flux, ivar, new_wavelength=new)
    # [4003, 4005]: half of pixel 3, (bad) pixel 4, half of pixel 5 -> mean of 3 and 5
    assert new_flux[1] == pytest.approx(4.0)
    assert new_ivar[1] == pytest.approx(1.0**2 / (0.5**2 + 0.5**2))
    # [4001, 4003]: halves of 1 and 3, all of 2: sum p = 2, sum p^2 = 1.5
    assert new_flux[0] == pytest.approx(2.0)
    assert new_ivar[0] == pytest.approx(4 / 1.5)


@pytest.mark.parametrize("fill, expected", [("mask", 0.0), ("nan", np.nan), (-99.0, -99.0)])
def test_fill_policy_outside_coverage(fill, expected):
    wave = np.arange(10, dtype=float) + 4000.0  # edges 3999.5 .. 4009.5
    flux, ivar = np.ones(10), np.ones(10)
    new = np.array([3990.0, 3999.0, 4000.0, 4005.0, 4009.0, 4010.0, 4020.0])
    # output edges: 3985, 3994.5, 3999.5, 4002.5, 4007, 4009.5, 4015, 4025
    new_flux, new_ivar = resample_spectra(wave, flux, ivar, new_wavelength=new, fill=fill)
    covered = np.array([False, False, True, True, True, False, False])
    np.testing.assert_array_equal(new_flux[~covered], expected)
    assert np.all(new_ivar[~covered] == 0)
    np.testing.assert_allclose(new_flux[covered], 1.0)
    # sum(p)^2 / sum(p^2): [3999.5, 4002.5] has 3 whole pixels; the others end in half pixels
    np.testing.assert_allclose(new_ivar[covered], [3.0, 4.5**2 / 4.25, 2.5**2 / 2.25])


def test_partial_edge_pixels_are_filled():
    wave = np.arange(10, dtype=float) + 4000.0  # edges 3999.5 .. 4009.5
    new = np.array([3999.4, 4001.4, 4003.4])  # first output pixel starts at 3998.4 < 3999.5
    new_flux, new_ivar = resample_spectra(wave, np.ones(10), np.ones(10), new_wavelength=new)
    assert new_flux[0] == 0 and new_ivar[0] == 0
    assert np.all(new_ivar[1:] > 0)


def test_rest_frame_shift(rng):
    z = np.array([0.0, 0.1, 0.5])
    rest = np.linspace(4000, 6000, 2000)
    new = np.linspace(4200, 5800, 800)

    def line(lam):
        return 1.0 + 5.0 * np.exp(-0.5 * ((lam - 5000.0) / 4.0) ** 2)

    wave_obs = [rest * (1 + zi) for zi in z]
    flux_obs = [line(w / (1 + zi)) / (1 + zi) for w, zi in zip(wave_obs, z, strict=True)]
    ivar_obs = [np.full(rest.size, 4.0) * (1 + zi) ** 2 for zi in z]
    new_flux, new_ivar = resample_spectra(wave_obs, flux_obs, ivar_obs, z=z, new_wavelength=new)
    # all three recover the same rest-frame spectrum, line peak at 5000 Å
    np.testing.assert_allclose(new_flux, new_flux[[0, 0, 0]], rtol=1e-10)
    np.testing.assert_allclose(new_ivar, new_ivar[[0, 0, 0]], rtol=1e-10)
    assert abs(new[np.argmax(new_flux[2])] - 5000.0) < 2.0
    # integrated flux ∫ f dλ is the same in both frames
    e = bin_edges(new)
    obs_integral = integral(wave_obs[2], flux_obs[2], e[0] * 1.5, e[-1] * 1.5)
    np.testing.assert_allclose(np.sum(new_flux[2] * np.diff(e)), obs_integral, rtol=1e-10)


def test_rest_frame_equals_shifting_by_hand(rng):
    wave = irregular_grid(rng)
    flux, ivar = rng.normal(10, 3, (2, wave.size)), rng.uniform(0.5, 2, (2, wave.size))
    z = np.array([0.01, 0.3])
    new = np.linspace(3000.0, 4300.0, 80)  # covers part of each rest-frame range
    got_f, got_iv = resample_spectra(wave, flux, ivar, z=z, new_wavelength=new)
    assert np.all((got_iv > 0).sum(axis=1) > 10)
    for i in range(2):
        s = 1 + z[i]
        f, iv = resample_spectra(wave / s, flux[i] * s, ivar[i] / s**2, new_wavelength=new)
        np.testing.assert_allclose(got_f[i], f, rtol=1e-10)
        np.testing.assert_allclose(got_iv[i], iv, rtol=1e-10)


def test_input_layouts_agree(rng):
    wave = irregular_grid(rng)
    flux, ivar = rng.normal(10, 3, (3, wave.size)), rng.uniform(0.5, 2, (3, wave.size))
    new = np.linspace(wave[3], wave[-3], 60)
    shared = resample_spectra(wave, flux, ivar, new_wavelength=new)
    per_row = resample_spectra(np.tile(wave, (3, 1)), flux, ivar, new_wavelength=new)
    lists = resample_spectra(
        list(np.tile(wave, (3, 1))), list(flux), list(ivar), new_wavelength=new
    )
    one = resample_spectra(wave, flux[1], ivar[1], new_wavelength=new)
    for other in (per_row, lists):
        np.testing.assert_array_equal(other[0], shared[0])
        np.testing.assert_array_equal(other[1], shared[1])
    assert one[0].shape == (60,)
    np.testing.assert_array_equal(one[0], shared[0][1])
    assert resample_spectra(wave, flux, new_wavelength=new)[1] is None


def test_ragged_lists_of_different_lengths(rng):
    wave = irregular_grid(rng)
    flux = rng.normal(10, 3, wave.size)
    new = np.linspace(wave[100], wave[200], 30)
    short = slice(90, 210)
    got, _ = resample_spectra([wave, wave[short]], [flux, flux[short]], new_wavelength=new)
    np.testing.assert_allclose(got[1], got[0], rtol=1e-12)


def test_many_spectra_span_chunks(rng):
    wave = np.linspace(4000, 5000, 50)
    flux = rng.normal(10, 1, (100, 50))
    z = rng.uniform(0, 0.05, 100)
    new = np.linspace(3900, 4700, 20)
    got, _ = resample_spectra(wave, flux, z=z, new_wavelength=new)
    for i in (0, 31, 32, 33, 99):
        one, _ = resample_spectra(wave, flux[i], z=z[i], new_wavelength=new)
        np.testing.assert_array_equal(got[i], one)


def test_agrees_with_specutils(rng):
    pytest.importorskip("specutils")
    import astropy.units as u
    from astropy.nddata import InverseVariance
    from specutils import Spectrum
    from specutils.manipulation import FluxConservingResampler

    wave = 10 ** (np.log10(3800) + 1e-4 * np.arange(400))
    for new in (np.linspace(3810, 4100, 123), np.linspace(3805, 4100, 1000), wave[10:-10] + 0.3):
        for _ in range(2):
            flux = rng.normal(10, 3, wave.size)
            ivar = rng.uniform(0.5, 2, wave.size)
            spec = Spectrum(
                flux=flux * u.Jy, spectral_axis=wave * u.AA, uncertainty=InverseVariance(ivar)
            )
            ref = FluxConservingResampler()(spec, new * u.AA)
            got_f, got_iv = resample_spectra(wave, flux, ivar, new_wavelength=new, fill="nan")
            both = np.isfinite(got_f) & np.isfinite(ref.flux.value)
            assert both.sum() >= new.size - 2
            np.testing.assert_allclose(got_f[both], ref.flux.value[both], rtol=1e-6)
            np.testing.assert_allclose(got_iv[both], ref.uncertainty.array[both], rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(wavelength=np.arange(10.0)[::-1]), "strictly increasing"),
        (dict(wavelength=np.r_[np.nan, np.arange(9.0)]), "NaN"),
        (dict(wavelength=np.arange(9.0)), r"wavelength has shape \(9,\)"),
        (dict(ivar=-np.ones((2, 10))), "negative"),
        (dict(ivar=np.ones((2, 9))), r"ivar has shape \(2, 9\)"),
        (dict(z=-1.0), "z must be finite and > -1"),
        (dict(z=[0.1, 0.2, 0.3]), r"z must be a scalar or have shape \(2,\)"),
        (dict(fill="zero"), "fill must be"),
        (dict(new_wavelength=[5.0]), "at least 2 pixels"),
        (dict(wavelength=np.arange(20.0).reshape(2, 10)[:, ::-1]), "rows"),
    ],
)
def test_errors(kwargs, message):
    args = dict(
        wavelength=np.arange(10.0),
        flux=np.ones((2, 10)),
        ivar=None,
        new_wavelength=np.arange(2.0, 8.0),
    )
    args.update(kwargs)
    wavelength, flux, ivar = args.pop("wavelength"), args.pop("flux"), args.pop("ivar")
    with pytest.raises(ValueError, match=message):
        resample_spectra(wavelength, flux, ivar, **args)


def test_ragged_errors():
    with pytest.raises(ValueError, match="2 wavelength arrays for 3 flux arrays"):
        resample_spectra([np.arange(5.0)] * 2, [np.ones(5)] * 3, new_wavelength=[1.0, 2.0])
    with pytest.raises(ValueError, match="spectrum 1"):
        resample_spectra([np.arange(5.0)] * 2, [np.ones(5), np.ones(4)], new_wavelength=[1.0, 2.0])


def test_log_wavelength_grid():
    grid = log_wavelength_grid(3800.0, 9200.0, dloglam=1e-4)
    np.testing.assert_allclose(np.diff(np.log10(grid)), 1e-4, rtol=1e-8)
    assert grid[0] == pytest.approx(3800.0) and grid[-1] <= 9200.0
    assert 9200.0 / grid[-1] < 10**1e-4
    grid = log_wavelength_grid(4000.0, 8000.0, 11)
    assert grid.size == 11 and grid[-1] == pytest.approx(8000.0)
    with pytest.raises(ValueError, match="exactly one"):
        log_wavelength_grid(4000.0, 8000.0, 11, dloglam=1e-4)
    with pytest.raises(ValueError, match="0 < start < stop"):
        log_wavelength_grid(8000.0, 4000.0, 11)


def test_common_wavelength_grid_intersection_is_fully_covered(rng):
    waves = [
        10 ** (np.log10(s) + 1e-4 * np.arange(n))
        for s, n in [(3800.0, 3000), (3900.5, 2900), (3700.0, 3200)]
    ]
    grid = common_wavelength_grid(waves)
    np.testing.assert_allclose(np.diff(np.log10(grid)), 1e-4, rtol=1e-6)
    flux = [rng.normal(10, 1, w.size) for w in waves]
    ivar = [np.ones(w.size) for w in waves]
    _, new_ivar = resample_spectra(waves, flux, ivar, new_wavelength=grid)
    assert np.all(new_ivar > 0)  # nothing filled for lack of coverage
    lo = max(bin_edges(w)[0] for w in waves)
    hi = min(bin_edges(w)[-1] for w in waves)
    e = bin_edges(grid)
    # inside [lo, hi] up to rounding, and less than one pixel (1e-4 dex = 2.3e-4) from its ends
    assert -1e-12 < (e[0] - lo) / lo < 2.3e-4 and -1e-12 < (hi - e[-1]) / hi < 2.3e-4

    union = common_wavelength_grid(waves, mode="union", dloglam=2e-4)
    e = bin_edges(union)
    lo, hi = min(bin_edges(w)[0] for w in waves), max(bin_edges(w)[-1] for w in waves)
    assert e[0] == pytest.approx(lo, rel=1e-10) and hi - 2 * (e[-1] - e[-2]) < e[-1] <= hi * (
        1 + 1e-10
    )
    _, union_ivar = resample_spectra(waves, flux, ivar, new_wavelength=union)
    assert (union_ivar == 0).any()


def test_common_grid_of_spectra_on_one_log_grid_is_that_grid():
    sdss = 10 ** (3.5 + 1e-4 * np.arange(6000))  # like SDSS: one global log grid
    waves = [sdss[100:4000], sdss[250:4100], sdss[40:3900]]
    grid = common_wavelength_grid(waves)
    np.testing.assert_allclose(grid, sdss[250:3900], rtol=1e-10)


def test_common_wavelength_grid_errors():
    with pytest.raises(ValueError, match="do not overlap"):
        common_wavelength_grid([np.arange(10.0) + 100, np.arange(10.0) + 200])
    with pytest.raises(ValueError, match="no wavelength arrays"):
        common_wavelength_grid([])
    with pytest.raises(ValueError, match="mode"):
        common_wavelength_grid([np.arange(10.0) + 100], mode="outer")


def test_common_grid_keeps_a_shared_grid_as_it_is():
    from skspectra.preprocessing import common_wavelength_grid

    linear = np.arange(3360.0, 10201.0, 20.0)
    np.testing.assert_array_equal(common_wavelength_grid([linear, linear.copy()]), linear)
    assert common_wavelength_grid([linear, linear], dloglam=1e-4).size != linear.size
