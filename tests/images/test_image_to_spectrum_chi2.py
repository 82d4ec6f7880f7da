"""ImageToSpectrum trained for the spectrum: the frozen torch decoder and the χ² loss."""

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA, FastICA
from sklearn.ensemble import RandomForestRegressor

from skspectra.images import ImageRegressor, ImageToSpectrum
from skspectra.images._spectrum_loss import LogChi2Loss, torch_decoder
from skspectra.spectra import SpectralCAE, SpectralVAE

from _equality import assert_same_bits

MLP = dict(hidden_layer_sizes=(32, 32), max_epochs=60, lr=1e-2, batch_size=32)
TINY_AE = dict(n_components=3, n_filters=2, depth=1, max_epochs=2, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def pairs(toy_spectra):
    """Features that determine the toy spectra: slope, line depth and line centre."""
    flux, ivar = toy_spectra
    x = np.linspace(-1, 1, flux.shape[1])
    slope = np.polyfit(x, flux.T, 1)[0]
    depth = 1 + slope[:, None] * x - flux
    features = np.column_stack([slope, depth.max(axis=1), x[np.argmax(depth, axis=1)]])
    return features, flux, ivar


def _latent_stats(Z):
    return Z.mean(axis=0), Z.std(axis=0)


@pytest.mark.parametrize("whiten", [False, True])
def test_pca_decoder_is_inverse_transform(pairs, whiten):
    _, Y, _ = pairs
    pca = PCA(4, whiten=whiten).fit(Y)
    mean, scale = _latent_stats(pca.transform(Y))
    decoder = torch_decoder(pca, mean, scale)
    Zs = np.random.default_rng(1).normal(size=(5, 4))
    got = decoder(torch.as_tensor(Zs, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(got, pca.inverse_transform(Zs * scale + mean), atol=1e-5)


@pytest.mark.parametrize("model", [SpectralCAE, SpectralVAE])
def test_autoencoder_decoder_is_inverse_transform(pairs, model):
    _, Y, ivar = pairs
    ae = model(**TINY_AE).fit(Y, ivar=ivar)
    mean, scale = _latent_stats(ae.transform(Y))
    decoder = torch_decoder(ae, mean, scale)
    Zs = np.random.default_rng(1).normal(size=(5, 3))
    got = decoder(torch.as_tensor(Zs, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(got, ae.inverse_transform(Zs * scale + mean), rtol=1e-5, atol=1e-5)
    # the decoder is frozen: training through it cannot move the spectrum model
    assert not any(p.requires_grad for p in decoder.parameters())


def test_model_whose_components_do_not_decode_gets_no_decoder(pairs):
    _, Y, _ = pairs
    ica = FastICA(3, random_state=0, max_iter=500).fit(Y)  # has components_ and mean_
    mean, scale = _latent_stats(ica.transform(Y))
    assert torch_decoder(ica, mean, scale) is None


def test_log_chi2_loss_by_hand():
    flux = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    ivar = torch.tensor([[4.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    pred = torch.tensor([[1.5, 2.0, 99.0], [1.0, 1.0, 1.0]])
    # star 1: (4 * 0.25 + 0) / 2 unmasked = 0.5; star 2: 3 / 3 = 1
    expected = (np.log1p(0.5) + np.log1p(1.0)) / 2
    got = LogChi2Loss()(pred, torch.stack([flux, ivar], dim=1))
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_auto_loss_resolves_by_regressor_and_decoder(pairs):
    X, Y, ivar = pairs
    neural = ImageToSpectrum(
        PCA(3), ImageRegressor(**{**MLP, "max_epochs": 2}), uncertainty_cv=None
    )
    assert neural.fit(X, Y, ivar=ivar).loss_ == "chi2"
    forest = ImageToSpectrum(PCA(3), RandomForestRegressor(5, random_state=0), uncertainty_cv=None)
    assert forest.fit(X, Y).loss_ == "latent"
    with pytest.raises(ValueError, match="needs an ImageRegressor"):
        forest.set_params(loss="chi2").fit(X, Y)
    ica = ImageToSpectrum(
        FastICA(3, random_state=0, max_iter=500),
        ImageRegressor(**{**MLP, "max_epochs": 2}),
        loss="chi2",
        uncertainty_cv=None,
    )
    with pytest.raises(ValueError, match="use loss='latent'"):
        ica.fit(X, Y)
    assert ica.set_params(loss="auto").fit(X, Y).loss_ == "latent"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chi2_loss_beats_latent_mse_when_latents_matter_unequally(seed):
    """One latent changes the spectrum 50 times more than two others that are harder to
    predict. Latent MSE on standardised latents spends a small network on the hard, minor
    latents alike; the χ² of the decoded spectrum weighs each by what it changes."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (200, 2))
    shapes = np.linalg.qr(rng.normal(size=(40, 3)))[0].T  # three orthonormal spectral shapes
    latents = np.column_stack(
        [X[:, 0] ** 2, 0.02 * np.sin(12 * X[:, 1]), 0.02 * np.cos(12 * X[:, 1])]
    )
    Y = 1 + latents @ shapes + rng.normal(0, 1e-3, (200, 40))
    ivar = np.full(Y.shape, 1e6)

    def held_out_chi2(loss):
        regressor = ImageRegressor(hidden_layer_sizes=(8,), max_epochs=60, lr=1e-2, batch_size=32)
        model = ImageToSpectrum(PCA(3), regressor, loss=loss, uncertainty_cv=None, random_state=0)
        model.fit(X[:150], Y[:150], ivar=ivar[:150])
        return model.chi2_score(X[150:], Y[150:], ivar[150:])

    # measured ratios 0.43, 0.85, 0.81 on seeds 0, 1, 2 (and 0.66, 0.79 on 3, 4); the same
    # training twice (no χ² loss) gives 1
    assert held_out_chi2("chi2") < 0.9 * held_out_chi2("latent")


def test_masked_pixels_do_not_reach_the_chi2_loss(pairs):
    X, Y, ivar = pairs
    ivar = ivar.copy()
    ivar[:, 10:14] = 0
    garbage = Y.copy()
    garbage[:, 10:14] = 1e3

    def predict(flux):
        model = ImageToSpectrum(
            SpectralCAE(**TINY_AE),
            ImageRegressor(**{**MLP, "max_epochs": 5}),
            uncertainty_cv=None,
            random_state=0,
        )
        return model.fit(X, flux, ivar=ivar).predict(X[:5])

    assert_same_bits(predict(Y), predict(garbage))


def test_chi2_fit_keeps_the_regressor_alone(pairs):
    X, Y, ivar = pairs
    model = ImageToSpectrum(
        PCA(3), ImageRegressor(**{**MLP, "max_epochs": 3}), uncertainty_cv=2, random_state=0
    ).fit(X, Y, ivar=ivar)
    assert not hasattr(model, "_chi2_data")
    module = model.regressor_.net_.module_
    assert not any("decoder" in name for name, _ in module.named_modules())
    # predict_latent is the regressor's output in the spectrum model's units
    np.testing.assert_allclose(
        model.spectrum_model_.inverse_transform(model.predict_latent(X[:4])),
        model.predict(X[:4]),
        atol=1e-10,
    )
    _, std = model.predict(X[:4], return_std=True)
    assert np.all(std > 0)


def test_default_spectrum_model_is_capped_by_the_data(pairs):
    X, Y, ivar = pairs
    model = ImageToSpectrum(
        regressor=ImageRegressor(**{**MLP, "max_epochs": 1}), uncertainty_cv=None
    ).fit(X[:20], Y[:20, :30])
    assert isinstance(model.spectrum_model_, PCA)
    assert model.n_components_ == 20
