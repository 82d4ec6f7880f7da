"""Fuzzed input to resample_spectra, SpectrumNormalizer / normalize_spectra and ImageNormalizer."""

import numpy as np
from hypothesis import event, given
from hypothesis import strategies as st

from skspectra.preprocessing import (
    ImageNormalizer,
    SpectrumNormalizer,
    normalize_spectra,
    resample_spectra,
)

from _fuzz import REJECTED, arrays, call, fuzz, ivars, maybe_list


def outcome(result):
    event("rejected" if result is REJECTED else "result")
    return result


@st.composite
def wavelengths(draw, shape, start=4000.0):
    """Increasing wavelengths in Å (or fuzzed junk one time in four)."""
    if draw(st.integers(0, 3)) == 0:
        return draw(arrays(shape, dtypes=("float64", "float32", "int64", "object")))
    m = shape[-1] if shape else 1
    step = draw(st.sampled_from((1.0, 0.5, 1e-9, 1e3)))
    w = start + step * np.arange(m)
    return np.broadcast_to(w, shape).copy() if shape else np.float64(start)


@fuzz
@given(data=st.data())
def test_fuzz_resample_spectra(data):
    draw = data.draw
    layout = draw(st.sampled_from(("shared", "per_row", "ragged", "one")), label="layout")
    n, m = draw(st.integers(0, 4)), draw(st.integers(0, 8))
    if layout == "ragged":
        lengths = [draw(st.integers(0, 8)) for _ in range(n)]
        wavelength = [draw(wavelengths((k,))) for k in lengths]
        flux = [draw(arrays((k,))) for k in lengths]
        ivar = None if draw(st.booleans()) else [draw(ivars((k,))) for k in lengths]
        mask = None
    else:
        shape = (m,) if layout == "one" else (n, m)
        wavelength = draw(wavelengths((m,) if layout != "per_row" else shape))
        flux = draw(arrays(shape))
        ivar = draw(ivars(shape))
        mask = draw(st.sampled_from((None, "random"))) and draw(arrays(shape, dtypes=("bool",)))
    k = draw(st.integers(0, 6))
    new_start = draw(st.sampled_from((4000.0, 4001.3, 3000.0, 3900.0)))
    new_wavelength = draw(wavelengths((k,), start=new_start), label="new_wavelength")
    z = draw(st.sampled_from((None, None, 0.0, 0.1, -0.5, -1.0, np.nan, "rows")))
    if isinstance(z, str):
        z = draw(arrays((n,)))
    fill = draw(st.sampled_from(("mask", "nan", 0.5, "zero", True, None)))
    result = outcome(
        call(
            resample_spectra,
            wavelength,
            flux,
            ivar,
            new_wavelength=new_wavelength,
            z=z,
            mask=mask,
            fill=fill,
        )  # fmt: skip
    )
    if result is REJECTED:
        return
    new_flux, new_ivar = result
    expected = (k,) if layout == "one" else (len(flux), k)
    assert new_flux.shape == expected and new_flux.dtype == np.float64
    fill_value = {"mask": 0.0, "nan": np.nan}.get(fill, fill)
    if new_ivar is None:
        ok = np.isfinite(new_flux) | (np.isnan(new_flux) & (fill == "nan"))
        ok |= new_flux == fill_value
        assert np.all(ok), new_flux
        return
    assert new_ivar.shape == new_flux.shape
    assert np.all(np.isfinite(new_ivar)) and np.all(new_ivar >= 0), new_ivar
    assert np.all(np.isfinite(new_flux[new_ivar > 0])), (new_flux, new_ivar)


@fuzz
@given(data=st.data())
def test_fuzz_spectrum_normalizer(data):
    draw = data.draw
    n, m = draw(st.integers(0, 4)), draw(st.integers(0, 8))
    X = draw(arrays((n, m)), label="X")
    window = draw(st.sampled_from((None, None, (0, 3), (2, 1), (100, 200), (np.nan, 1), (1,))))
    wavelength = draw(st.sampled_from((None, None, "match", "wrong")))
    if wavelength == "match":
        wavelength, window = 4000.0 + np.arange(m), window and (4000.0, 4003.0)
    elif wavelength == "wrong":
        wavelength = 4000.0 + np.arange(m + 1)
    params = {
        "method": draw(st.sampled_from(("median", "mean", "mode"))),
        "window": window,
        "wavelength": wavelength,
        "on_invalid": draw(st.sampled_from(("raise", "skip", "ignore"))),
    }
    if draw(st.booleans()):  # the function, with ivar
        ivar = draw(ivars((n, m)))
        result = outcome(call(normalize_spectra, X, ivar, **params))
        if result is REJECTED:
            return
        flux, ivar_out, scale = result
        assert np.all(np.isfinite(scale)) and np.all(scale > 0), scale
        if ivar_out is not None:
            good = np.isfinite(ivar) & np.isfinite(np.asarray(X, dtype=float))
            assert np.all(np.isfinite(ivar_out[good])), ivar_out
    else:
        result = outcome(call(SpectrumNormalizer(**params).fit_transform, maybe_list(draw, X)))
        if result is REJECTED:
            return
        flux = result
    finite_in = np.isfinite(np.asarray(X, dtype=float))
    assert flux.shape == (n, m) and np.all(np.isfinite(flux[finite_in])), flux
    assert not np.any(np.isfinite(flux[~finite_in]))


@fuzz
@given(data=st.data())
def test_fuzz_image_normalizer(data):
    draw = data.draw
    n = draw(st.integers(0, 3))
    c, h, w = draw(st.integers(1, 2)), draw(st.integers(0, 4)), draw(st.integers(1, 4))
    layout = draw(st.sampled_from(("chw", "hw", "flat", "5d")))
    shape = {"chw": (n, c, h, w), "hw": (n, h, w), "flat": (n, c * h * w), "5d": (n, 1, c, h, w)}
    X = draw(arrays(shape[layout]), label="X")
    image_shape = draw(st.sampled_from((None, None, (c, h, w), (h, w), (2, 3, 3), (0, 1))))
    normalizer = ImageNormalizer(
        stretch=draw(st.sampled_from(("linear", "asinh", "log", "sqrt"))),
        percentile=draw(st.sampled_from(((0, 100), (0, 100), (1, 99), (50, 50), (-1, 100)))),
        a=draw(st.sampled_from((None, None, 0.5, 1e-30, 0.0, -1.0))),
        per_channel=draw(st.booleans()),
        image_shape=image_shape,
    )
    method = draw(st.sampled_from(("transform", "compute_limits", "round_trip")))
    fitted = outcome(call(normalizer.fit, maybe_list(draw, X)))
    if fitted is REJECTED:
        return
    result = outcome(call(getattr(normalizer, method.replace("round_trip", "transform")), X))
    if result is REJECTED:
        return
    X = np.asarray(X, dtype=float)
    if method == "compute_limits":
        assert result.shape[0] == n and result.shape[-1] == 2
        return
    assert result.shape == X.shape
    assert np.all(np.isnan(result) == np.isnan(X)), "NaN where X is not, or the reverse"
    assert np.all((result[~np.isnan(X)] >= 0) & (result[~np.isnan(X)] <= 1)), result
    if method == "round_trip":
        limits = normalizer.compute_limits(X)
        back = call(normalizer.inverse_transform, result, limits)
        if back is not REJECTED:
            assert back.shape == X.shape
            assert np.all(np.isfinite(back[~np.isnan(X)])), back
