"""Masked flux (ivar == 0) may be NaN or infinite; unmasked NaN/inf is refused, naming the rows."""

import numpy as np
import pytest

from skspectra import SpectralCAE
from skspectra.spectra import SpectralVAE

from _equality import assert_same_bits

TINY = dict(n_components=2, n_filters=2, depth=1, max_epochs=2, batch_size=32, random_state=0)
ESTIMATORS = [SpectralCAE, SpectralVAE]


@pytest.fixture(scope="module")
def masked(toy_spectra):
    """The toy spectra with a block of pixels masked in a few rows, and two fillings of them."""
    flux, ivar = toy_spectra
    ivar = ivar.copy()
    ivar[3, 10:20] = 0.0
    ivar[7, :5] = 0.0
    ivar[50, 40:] = 0.0
    nan_flux = np.where(ivar > 0, flux, np.nan)
    nan_flux[7, :5] = np.inf
    other_flux = np.where(ivar > 0, flux, 123.0)  # any finite value
    return nan_flux, other_flux, ivar


def _results(model, flux, ivar):
    return {
        "score_samples": model.score_samples(flux, ivar=ivar),
        "decision_function": model.decision_function(flux, ivar=ivar),
        "score": model.score(flux, ivar=ivar),
        "reconstruct": model.reconstruct(flux, ivar=ivar),
        "anomaly_map": model.anomaly_map(flux, ivar=ivar),
    }


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_masked_nan_flux_gives_the_result_of_any_finite_filling(Estimator, masked):
    nan_flux, other_flux, ivar = masked
    with_nan = Estimator(**TINY).fit(nan_flux, ivar=ivar)
    with_other = Estimator(**TINY).fit(other_flux, ivar=ivar)
    for name in ("mean_", "scale_", "offset_", "residual_scale_"):
        assert_same_bits(getattr(with_nan, name), getattr(with_other, name))
    a, b = _results(with_nan, nan_flux, ivar), _results(with_other, other_flux, ivar)
    for name in a:
        assert np.all(np.isfinite(a[name])), name
        assert_same_bits(a[name], b[name])
    # scored by the other model too: the masked values themselves change nothing
    assert_same_bits(
        with_nan.score_samples(nan_flux, ivar=ivar), with_nan.score_samples(other_flux, ivar=ivar)
    )


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_unmasked_nan_is_refused_naming_the_rows(Estimator, toy_spectra):
    flux, ivar = toy_spectra
    flux = flux.copy()
    flux[[4, 9], 5] = np.nan
    flux[11, 2] = np.inf
    with pytest.raises(ValueError, match=r"NaN or infinite.*rows 4, 9, 11.*set ivar to 0"):
        Estimator(**TINY).fit(flux, ivar=ivar)
    with pytest.raises(ValueError, match=r"rows 4, 9, 11.*pass ivar with 0"):
        Estimator(**TINY).fit(flux)
    fitted = Estimator(**TINY).fit(toy_spectra[0], ivar=ivar)
    for method in ("score_samples", "predict", "reconstruct", "anomaly_map"):
        with pytest.raises(ValueError, match="rows 4, 9, 11"):
            getattr(fitted, method)(flux, ivar=ivar)
    with pytest.raises(ValueError, match="rows 4, 9, 11"):
        fitted.transform(flux)


def test_following_the_advice_works(toy_spectra):
    """A row with no finite flux left is told to be dropped, in the same message, so that the
    fix is one step: mask the NaN pixels of some rows, drop the others."""
    flux, ivar = toy_spectra
    flux, ivar = flux.copy(), ivar.copy()
    flux[2, :3] = np.nan
    flux[5, :] = np.nan  # nothing left to fit
    with pytest.raises(ValueError, match=r"mask them \(rows 2\).*drop the rows.*\(rows 5\)"):
        SpectralCAE(**TINY).fit(flux, ivar=ivar)
    ivar[2, :3] = 0.0
    keep = np.arange(len(flux)) != 5
    SpectralCAE(**TINY).fit(flux[keep], ivar=ivar[keep])


def test_many_rows_are_listed_briefly(toy_spectra):
    flux = toy_spectra[0].copy()
    flux[:40, 0] = np.nan
    with pytest.raises(ValueError, match=r"in 40 spectra \(rows 0, 1, 2, 3, 4, \.\.\.\)"):
        SpectralCAE(**TINY).fit(flux)


def test_image_to_spectrum_accepts_masked_nan_spectra(toy_spectra):
    """The spectra ImageToSpectrum learns may be NaN where masked: the result is that of any
    finite filling, in fit, predict (with its uncertainty) and chi2_score."""
    from sklearn.linear_model import Ridge

    from skspectra import ImageToSpectrum

    flux, ivar = toy_spectra
    ivar = ivar.copy()
    ivar[:30, 5:15] = 0.0
    features = flux[:, ::8] + 0.01
    out = []
    for fill in (np.nan, 7.0):
        Y = np.where(ivar > 0, flux, fill)
        model = ImageToSpectrum(SpectralCAE(**TINY), Ridge(), uncertainty_cv=3, random_state=0)
        model.fit(features, Y, ivar=ivar)
        Y_pred, Y_std = model.predict(features, return_std=True)
        out.append((Y_pred, Y_std, model.chi2_score(features, Y, ivar)))
    for a, b in zip(out[0], out[1], strict=True):
        assert np.all(np.isfinite(a))
        np.testing.assert_array_equal(a, b)
    bad = flux.copy()
    bad[6, 3] = np.nan
    with pytest.raises(ValueError, match=r"Y holds NaN.*rows 6"):
        ImageToSpectrum(SpectralCAE(**TINY), Ridge(), uncertainty_cv=None).fit(
            features, bad, ivar=toy_spectra[1]
        )
