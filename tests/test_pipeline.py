"""SpectralPipeline: ivar carried through scaling steps, in fit, scores and a search."""

import warnings

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

from skspectra import SpectralCAE, SpectralPipeline, make_spectral_pipeline
from skspectra.preprocessing import SpectrumNormalizer

from _equality import assert_same_bits

SMALL = dict(n_components=2, n_filters=2, depth=1, max_epochs=3, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def spectra(toy_spectra):
    """Toy spectra with a per-pixel noise that varies, so that a wrong ivar shows."""
    flux, _ = toy_spectra
    sigma = np.linspace(0.005, 0.05, flux.shape[1])
    return flux, np.broadcast_to(1 / sigma**2, flux.shape).copy()


@pytest.fixture(scope="module")
def hand_scaled(spectra):
    """The reference: the scaler applied by hand and ivar rescaled by hand."""
    flux, ivar = spectra
    scaler = StandardScaler().fit(flux)
    ivar_s = ivar * scaler.scale_**2
    model = SpectralCAE(**SMALL).fit(scaler.transform(flux), ivar=ivar_s)
    return scaler, ivar_s, model


def test_readme_pipeline_gives_the_hand_scaled_scores(spectra, hand_scaled):
    flux, ivar = spectra
    scaler, ivar_s, model = hand_scaled
    pipe = make_spectral_pipeline(StandardScaler(), SpectralCAE(**SMALL)).fit(flux, ivar=ivar)
    Xs = scaler.transform(flux)
    ivar = ivar.copy()
    ivar[:5, 10:20] = 0.0  # masked pixels: transform hides them from the encoder
    ivar_s = ivar * scaler.scale_**2
    for method in ("score_samples", "decision_function", "predict", "transform"):
        np.testing.assert_allclose(
            getattr(pipe, method)(flux, ivar=ivar),
            getattr(model, method)(Xs, ivar=ivar_s),
            rtol=1e-12,
            err_msg=method,
        )
    assert pipe.score(flux, ivar=ivar) == pytest.approx(model.score(Xs, ivar=ivar_s), rel=1e-12)
    assert pipe[-1].offset_ == pytest.approx(model.offset_, rel=1e-12)


def test_the_old_readme_way_was_wrong_and_is_now_refused(spectra, hand_scaled):
    """``spectralcae__ivar=`` hands the model ivar in the input's units: its χ² is off by
    ``scale_**2``. A plain Pipeline cannot know; SpectralPipeline refuses it."""
    flux, ivar = spectra
    scaler, ivar_s, model = hand_scaled
    old = make_pipeline(StandardScaler(), SpectralCAE(**SMALL)).fit(flux, spectralcae__ivar=ivar)
    z2_old = np.mean(old[-1].anomaly_map(scaler.transform(flux), ivar=ivar) ** 2)
    z2_right = np.mean(model.anomaly_map(scaler.transform(flux), ivar=ivar_s) ** 2)
    assert z2_old > 10 * z2_right
    with pytest.raises(ValueError, match="spectralcae__ivar=.*pass ivar= instead"):
        make_spectral_pipeline(StandardScaler(), SpectralCAE(**SMALL)).fit(
            flux, spectralcae__ivar=ivar
        )


class IvarSpy(BaseEstimator):
    """A last step that records the flux and ivar it is given."""

    def fit(self, X, y=None, ivar=None):
        self.fit_X_, self.fit_ivar_ = np.asarray(X), ivar
        return self

    def score_samples(self, X, ivar=None):
        self.scored_ivar_ = ivar
        return np.zeros(len(X))


@pytest.mark.parametrize(
    "step",
    [StandardScaler(), RobustScaler(), MaxAbsScaler(), MinMaxScaler(), SpectrumNormalizer()],
    ids=lambda s: type(s).__name__,
)
def test_each_scaling_step_divides_ivar_by_its_factor_squared(spectra, step):
    flux, ivar = spectra
    pipe = make_spectral_pipeline(step, IvarSpy()).fit(flux, ivar=ivar)
    fitted = pipe[0]
    if isinstance(step, SpectrumNormalizer):  # one factor per spectrum, no offset
        factor = fitted.transform(flux) / flux
    else:  # one factor per pixel, with an offset: the change for a unit step in flux
        factor = fitted.transform(flux + 1.0) - fitted.transform(flux)
    np.testing.assert_allclose(pipe[-1].fit_ivar_, ivar / factor**2, rtol=1e-10)
    pipe.score_samples(flux, ivar=ivar)
    np.testing.assert_allclose(pipe[-1].scored_ivar_, ivar / factor**2, rtol=1e-10)


@pytest.mark.parametrize(
    "step, match",
    [
        (PCA(3), "cannot carry ivar through step 'pca' \\(PCA\\)"),
        (MinMaxScaler(clip=True), "clip=True"),
    ],
)
def test_a_step_that_cannot_carry_ivar_is_refused(spectra, step, match):
    flux, ivar = spectra
    pipe = make_spectral_pipeline(step, SpectralCAE(**SMALL))
    with pytest.raises(ValueError, match=match):
        pipe.fit(flux, ivar=ivar)
    pipe.fit(flux)  # without ivar it is a plain Pipeline
    with pytest.raises(ValueError, match=match):
        pipe.score_samples(flux, ivar=ivar)


def test_a_last_step_without_ivar_is_refused(spectra):
    flux, ivar = spectra
    with pytest.raises(ValueError, match="does not take ivar in fit"):
        make_spectral_pipeline(StandardScaler(), IsolationForest()).fit(flux, ivar=ivar)


def test_without_ivar_it_is_a_pipeline(spectra):
    flux, _ = spectra
    ours = make_spectral_pipeline(StandardScaler(), SpectralCAE(**SMALL)).fit(flux)
    theirs = make_pipeline(StandardScaler(), SpectralCAE(**SMALL)).fit(flux)
    assert_same_bits(ours.score_samples(flux), theirs.score_samples(flux))
    assert isinstance(ours, SpectralPipeline)
    assert [name for name, _ in ours.steps] == ["standardscaler", "spectralcae"]


def test_masked_flux_changes_nothing_through_the_scaler(spectra):
    """Masked pixels go through the scaler as NaN, out of its statistics: their flux, NaN or
    any finite value, changes neither the scaler nor the scores."""
    flux, ivar = spectra
    ivar = ivar.copy()
    ivar[:10, 20:30] = 0.0
    results = []
    for fill in (np.nan, 1e6):
        X = np.where(ivar > 0, flux, fill)
        pipe = make_spectral_pipeline(StandardScaler(), SpectralCAE(**SMALL)).fit(X, ivar=ivar)
        results.append((pipe[0].scale_, pipe.score_samples(X, ivar=ivar)))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    unmasked_std = np.nanstd(np.where(ivar > 0, flux, np.nan), axis=0)
    np.testing.assert_allclose(results[0][0], unmasked_std, rtol=1e-12)
    assert_same_bits(results[0][1], results[1][1])
    assert np.all(np.isfinite(results[0][1]))


def test_grid_search_trains_and_scores_every_split_with_its_ivar(spectra):
    """With metadata routing on, GridSearchCV routes ivar to fit and to score without any
    set_*_request call; each split's score is the pipeline's own, ivar-weighted, score."""
    flux, ivar = spectra
    cv = KFold(2, shuffle=True, random_state=0)
    pipe = make_spectral_pipeline(StandardScaler(), SpectralCAE(**SMALL))
    with config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            pipe, {"spectralcae__n_components": [1, 2]}, cv=cv, error_score="raise"
        ).fit(flux, ivar=ivar)
        best = search.best_estimator_
        scores = best.score_samples(flux, ivar=ivar)
        labels = best.predict(flux, ivar=ivar)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    train, test = next(cv.split(flux))
    manual = make_spectral_pipeline(StandardScaler(), SpectralCAE(**{**SMALL, "n_components": 1}))
    manual.fit(flux[train], ivar=ivar[train])
    assert search.cv_results_["split0_test_score"][0] == pytest.approx(
        manual.score(flux[test], ivar=ivar[test]), rel=1e-12
    )
    refit = make_spectral_pipeline(StandardScaler(), SpectralCAE(**SMALL)).set_params(
        **search.best_params_
    )
    np.testing.assert_allclose(scores, refit.fit(flux, ivar=ivar).score_samples(flux, ivar=ivar))
    assert set(np.unique(labels)) <= {-1, 1}


def test_a_dataframe_keeps_its_column_names(spectra):
    pd = pytest.importorskip("pandas")
    flux, ivar = spectra
    frame = pd.DataFrame(flux, columns=[f"f{j}" for j in range(flux.shape[1])])
    pipe = make_spectral_pipeline(StandardScaler(), SpectralCAE(**SMALL)).fit(frame, ivar=ivar)
    assert list(pipe[0].feature_names_in_) == list(frame.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # e.g. "X does not have valid feature names"
        scores = pipe.score_samples(frame, ivar=ivar)
    with pytest.warns(UserWarning, match="feature names"):  # sklearn's, as for any Pipeline
        assert_same_bits(scores, pipe.score_samples(flux, ivar=ivar))
