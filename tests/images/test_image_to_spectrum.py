"""ImageToSpectrum: spectra through a latent space, any model and regressor, uncertainty."""

import pickle

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV

from skspectra.images import ImageRegressor, ImageToSpectrum
from skspectra.spectra import SpectralCAE, SpectralVAE

from _equality import assert_same_bits

SMALL_MLP = dict(hidden_layer_sizes=(16,), max_epochs=20, lr=1e-2, batch_size=32)


@pytest.fixture(scope="module")
def pairs(toy_spectra):
    """Photometry-like features that determine the toy spectra (slope, line depth, line centre)."""
    flux, ivar = toy_spectra
    x = np.linspace(-1, 1, flux.shape[1])
    # features: smooth functions of the parameters that generated each spectrum
    slope = np.polyfit(x, flux.T, 1)[0]
    depth = 1 + slope[:, None] * x - flux
    features = np.column_stack([slope, depth.max(axis=1), x[np.argmax(depth, axis=1)]])
    return features, flux, ivar


def test_pca_rf_baseline_one_line(pairs):
    X, Y, ivar = pairs
    model = ImageToSpectrum(PCA(3), RandomForestRegressor(30, random_state=0), random_state=0)
    model.fit(X[:90], Y[:90], ivar=ivar[:90])
    pred = model.predict(X[90:])
    assert pred.shape == (30, Y.shape[1]) and pred.dtype == np.float64
    assert model.predict_latent(X[90:]).shape == (30, 3)
    # far better than the mean spectrum
    mean_mse = np.mean((Y[90:] - Y[:90].mean(axis=0)) ** 2)
    assert np.mean((pred - Y[90:]) ** 2) < 0.3 * mean_mse
    assert model.score(X[90:], Y[90:]) > 0.5
    chi2 = model.chi2_score(X[90:], Y[90:], ivar[90:])
    mean_chi2 = np.median(np.mean(ivar[90:] * (Y[90:] - Y[:90].mean(axis=0)) ** 2, axis=1))
    assert 0 < chi2 < mean_chi2


def test_latents_are_standardised_for_the_regressor(pairs):
    X, Y, _ = pairs
    model = ImageToSpectrum(PCA(3), LinearRegression(), uncertainty_cv=None).fit(X, Y)
    Z = model.spectrum_model_.transform(Y)
    np.testing.assert_allclose(model.latent_mean_, Z.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(model.latent_scale_, Z.std(axis=0))
    # the regressor was trained on standardised latents: its intercept is ~0 mean
    Zs_fit = model.regressor_.predict(X)
    np.testing.assert_allclose(Zs_fit.mean(axis=0), 0, atol=1e-8)
    raw = ImageToSpectrum(PCA(3), LinearRegression(), standardize_latents=False).fit(X, Y)
    np.testing.assert_array_equal(raw.latent_scale_, np.ones(3))
    # a linear regressor is equivariant: both give the same spectra
    np.testing.assert_allclose(raw.predict(X), model.predict(X), atol=1e-8)


def test_return_std_shapes_positive_and_calibrated(pairs):
    X, Y, ivar = pairs
    model = ImageToSpectrum(
        PCA(3), RandomForestRegressor(30, random_state=0), n_draws=200, random_state=0
    )
    model.fit(X[:90], Y[:90])
    pred, std = model.predict(X[90:], return_std=True)
    assert pred.shape == std.shape == (30, Y.shape[1])
    assert np.all(std >= 0) and np.all(std.mean(axis=1) > 0)
    assert_same_bits(pred, model.predict(X[90:]))
    # calibrated at 1σ on out-of-fold errors (std_scale_ measured 0.87): 60% of held-out
    # errors lie within 1 std and 86% within 2 (30 stars, heavy tails: their RMS is 1.32)
    z = (Y[90:] - pred) / std
    assert 0.55 < np.mean(np.abs(z) < 1) < 0.78
    assert 0.8 < np.mean(np.abs(z) < 2)
    assert 0.5 < model.std_scale_ < 2
    assert model.oof_latent_.shape == model.oof_residual_.shape == (90, 3)
    assert model.reconstruction_residual_.shape == (90, Y.shape[1])


def test_return_std_needs_uncertainty_cv(pairs):
    X, Y, _ = pairs
    model = ImageToSpectrum(PCA(2), LinearRegression(), uncertainty_cv=None).fit(X, Y)
    assert model.oof_latent_ is None
    with pytest.raises(ValueError, match="uncertainty_cv"):
        model.predict(X, return_std=True)


def test_default_vae_and_image_regressor_on_images(pairs):
    X, Y, ivar = pairs
    rng = np.random.default_rng(0)
    # 2-band 8×8 "images" whose pixel values carry the features
    images = X[:, :2, None, None] * np.ones((1, 2, 8, 8)) + rng.normal(0, 0.01, (len(X), 2, 8, 8))
    model = ImageToSpectrum(
        SpectralVAE(n_components=2, n_filters=4, depth=2, max_epochs=2, random_state=0),
        ImageRegressor(n_filters=4, depth=2, **{**SMALL_MLP, "max_epochs": 2}),
        random_state=0,
    )
    model.fit(images, Y, ivar=ivar)
    pred, std = model.predict(images[:4], return_std=True)
    assert pred.shape == std.shape == (4, Y.shape[1])
    assert model.regressor_.image_shape_ == (2, 8, 8)
    assert np.all(std >= 0)


def test_defaults_are_built_in_fit_not_init():
    model = ImageToSpectrum()
    assert model.spectrum_model is None and model.regressor is None
    assert isinstance(model._make_spectrum_model(), PCA)
    assert model._make_spectrum_model().n_components == 40
    assert isinstance(model._make_regressor(2250), ImageRegressor)
    assert model._make_regressor(2250).hidden_layer_sizes == (256, 256, 256)


@pytest.mark.parametrize(
    "n_samples, epochs",
    # 675,000 samples seen in training, within [20, 300] epochs (rule in the docstring)
    [(10, 300), (2250, 300), (4500, 150), (20_000, 34), (10**6, 20)],
)
def test_default_regressor_epochs_keep_the_training_steps_flat(n_samples, epochs):
    assert ImageToSpectrum()._make_regressor(n_samples).max_epochs == epochs
    # an explicit regressor keeps its own
    explicit = ImageToSpectrum(regressor=ImageRegressor(max_epochs=7))
    assert explicit._make_regressor(n_samples).max_epochs == 7


def test_any_autoencoder_works_and_ivar_reaches_it(pairs, monkeypatch):
    X, Y, ivar = pairs
    seen = {}
    original = SpectralCAE.fit

    def spy(self, X, y=None, ivar=None):
        seen["ivar"] = ivar
        return original(self, X, y, ivar=ivar)

    monkeypatch.setattr(SpectralCAE, "fit", spy)
    cae = SpectralCAE(n_components=3, n_filters=2, depth=1, max_epochs=2, random_state=0)
    model = ImageToSpectrum(cae, LinearRegression(), uncertainty_cv=None).fit(X, Y, ivar=ivar)
    np.testing.assert_array_equal(seen["ivar"], ivar)
    assert model.predict(X[:3]).shape == (3, Y.shape[1])


def test_sub_estimators_are_cloned(pairs):
    X, Y, _ = pairs
    pca = PCA(2)
    model = ImageToSpectrum(pca, LinearRegression(), uncertainty_cv=None).fit(X, Y)
    assert not hasattr(pca, "components_")
    assert model.spectrum_model_ is not pca


def test_random_state_seeds_unset_sub_estimators(pairs):
    X, Y, _ = pairs

    def fit():
        return ImageToSpectrum(
            PCA(2), ImageRegressor(**{**SMALL_MLP, "max_epochs": 2}), random_state=7
        ).fit(X, Y)

    assert_same_bits(fit().predict(X), fit().predict(X))


def test_grid_search_over_nested_params(pairs):
    X, Y, ivar = pairs
    model = ImageToSpectrum(
        PCA(2),
        ImageRegressor(**{**SMALL_MLP, "max_epochs": 5}),
        uncertainty_cv=None,
        random_state=0,
    )
    grid = GridSearchCV(
        model,
        {"spectrum_model__n_components": [1, 3], "regressor__lr": [1e-4, 1e-2]},
        cv=2,
    )
    grid.fit(X, Y, ivar=ivar)
    assert set(grid.best_params_) == {"spectrum_model__n_components", "regressor__lr"}
    assert grid.cv_results_["mean_test_score"].shape == (4,)
    assert (
        grid.best_estimator_.spectrum_model_.n_components_
        == grid.best_params_["spectrum_model__n_components"]
    )
    # lr reaches the nested ImageRegressor: 5 epochs at 1e-4 barely move it from its start
    lrs = np.asarray(grid.cv_results_["param_regressor__lr"], dtype=float)
    scores = grid.cv_results_["mean_test_score"]
    assert grid.best_params_["regressor__lr"] == 1e-2
    assert scores[lrs == 1e-2].max() > scores[lrs == 1e-4].max()


def test_pickle_round_trip(pairs):
    X, Y, _ = pairs
    model = ImageToSpectrum(
        PCA(2), ImageRegressor(**{**SMALL_MLP, "max_epochs": 2}), random_state=0
    ).fit(X, Y)
    clone = pickle.loads(pickle.dumps(model))
    a, sa = model.predict(X[:5], return_std=True)
    b, sb = clone.predict(X[:5], return_std=True)
    assert_same_bits(a, b)
    assert_same_bits(sa, sb)


def test_spectrum_model_without_inverse_transform_is_rejected(pairs):
    X, Y, _ = pairs
    with pytest.raises(ValueError, match="inverse_transform"):
        ImageToSpectrum(KMeans(2), LinearRegression()).fit(X, Y)


def test_regressor_without_predict_is_rejected(pairs):
    X, Y, _ = pairs
    with pytest.raises(ValueError, match="predict"):
        ImageToSpectrum(PCA(2), PCA(2)).fit(X, Y)


def test_bad_ivar_and_mismatched_chi2_inputs(pairs):
    X, Y, ivar = pairs
    with pytest.raises(ValueError, match="ivar has shape"):
        ImageToSpectrum(PCA(2), LinearRegression()).fit(X, Y, ivar=ivar[:, :10])
    model = ImageToSpectrum(PCA(2), LinearRegression(), uncertainty_cv=None).fit(X, Y)
    with pytest.raises(ValueError, match="shape"):
        model.chi2_score(X, Y[:, :10], ivar[:, :10])


def test_too_few_samples_for_uncertainty_cv():
    with pytest.raises(ValueError, match="uncertainty_cv"):
        ImageToSpectrum(PCA(1), LinearRegression(), uncertainty_cv=5).fit(
            np.zeros((3, 2)), np.ones((3, 4))
        )


def test_one_latent_works_with_a_single_output_regressor(pairs):
    from sklearn.svm import SVR

    X, Y, _ = pairs
    model = ImageToSpectrum(PCA(1), SVR(), random_state=0).fit(X, Y)
    pred, std = model.predict(X[:4], return_std=True)
    assert pred.shape == std.shape == (4, Y.shape[1])
    assert model.predict_latent(X[:4]).shape == (4, 1)


def test_uncertainty_is_local():
    """Where spectra scatter more at a given X, the band is wider."""
    rng = np.random.default_rng(0)
    n, m = 400, 30
    x = rng.uniform(-1, 1, n)
    template = np.sin(np.linspace(0, 3, m))
    amplitude = x + np.where(x > 0, rng.normal(0, 0.3, n), 0.0)
    Y = 2 + amplitude[:, None] * template + rng.normal(0, 0.001, (n, m))
    model = ImageToSpectrum(PCA(1), LinearRegression(), n_neighbors=30, random_state=0)
    model.fit(x[:, None], Y)
    _, std = model.predict(np.array([[-0.5], [0.5]]), return_std=True)
    # the band at x = 0.5 is about 0.3 |template| wide, at x = -0.5 near zero
    peak = np.argmax(np.abs(template))
    assert std[1, peak] > 5 * std[0, peak]
    np.testing.assert_allclose(std[1, peak], 0.3 * abs(template[peak]), rtol=0.5)
