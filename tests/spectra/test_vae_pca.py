"""SpectralVAE's PCA start, early stopping and sampling default (issue #10)."""

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from skspectra.nn import ConvVAE1d
from skspectra.spectra.vae import SpectralVAE, _linear_init

TINY = dict(n_filters=4, depth=2, batch_size=32, random_state=0)


def _chi2(flux, model, ivar):
    return np.sum(ivar * (flux - model) ** 2, axis=1) / flux.shape[1]


@pytest.fixture(scope="module")
def split(toy_spectra):
    flux, ivar = toy_spectra
    return flux[:90], ivar[:90], flux[90:], ivar[90:]


def test_untrained_linear_path_is_pca(toy_spectra):
    """The PCA-initialised module reconstructs exactly as sklearn's PCA does."""
    flux, ivar = toy_spectra
    mean, scale = flux.mean(axis=0), flux.std(axis=0)
    Xs = (flux - mean) / scale
    encoder, decoder, logvar = _linear_init(Xs, ivar * scale**2, scale, 3)
    module = (
        ConvVAE1d(
            flux.shape[1],
            3,
            n_filters=4,
            depth=2,
            linear_encoder=encoder,
            linear_decoder=decoder,
            init_logvar=logvar,
        )
        .double()
        .eval()
    )
    with torch.no_grad():
        x_hat, z, lv = module(torch.from_numpy(Xs))
    n = len(flux)
    pca = PCA(3).fit(flux)
    expected = pca.inverse_transform(pca.transform(flux))
    np.testing.assert_allclose(x_hat.numpy() * scale + mean, expected, atol=1e-6)  # float32 weights
    # whitened latents: unit variance, each one a rescaled PCA score
    np.testing.assert_allclose(z.numpy().std(axis=0), 1.0, rtol=1e-6)
    np.testing.assert_allclose(
        np.abs(z.numpy() * np.sqrt(pca.explained_variance_ * (n - 1) / n)),
        np.abs(pca.transform(flux)),
        rtol=1e-5,
        atol=1e-7,
    )
    np.testing.assert_allclose(lv.numpy()[0], logvar, rtol=1e-6)
    assert np.all(logvar < 0)


def test_reconstruction_no_worse_than_pca_held_out(split):
    """Held-out χ² at the same k: the VAE starts at PCA and early stopping keeps the best.

    Tolerance 1e-6 relative: the PCA start is stored in float32 weights, which moves its χ²
    by ~1e-8. Here training reaches a held-out χ²/N of ~6 against PCA's ~22 (a moving line,
    which PCA fits badly), so the test fails if training or early stopping loses the start.
    """
    X_tr, W_tr, X_te, W_te = split
    vae = SpectralVAE(n_components=3, max_epochs=60, lr=1e-2, **TINY).fit(X_tr, ivar=W_tr)
    pca = PCA(3).fit(X_tr)
    chi2_pca = np.median(_chi2(X_te, pca.inverse_transform(pca.transform(X_te)), W_te))
    chi2_vae = np.median(_chi2(X_te, vae.reconstruct(X_te, ivar=W_te), W_te))
    assert chi2_vae <= (1 + 1e-6) * chi2_pca


def test_bad_training_falls_back_to_the_pca_start(split):
    """With a learning rate that makes every epoch worse (but does not diverge), the untrained
    (PCA) model is restored."""
    X_tr, W_tr, X_te, W_te = split
    vae = SpectralVAE(n_components=3, lr=0.05, max_epochs=3, n_iter_no_change=3, **TINY)
    vae.fit(X_tr, ivar=W_tr)
    assert all(np.array(vae.history_[:, "valid_objective"]) > 0)
    pca = PCA(3).fit(X_tr)
    expected = pca.inverse_transform(pca.transform(X_te))
    np.testing.assert_allclose(vae.reconstruct(X_te), expected, rtol=1e-4, atol=1e-4)


def test_diverging_training_raises_rather_than_restoring(split):
    """A learning rate that blows the loss up is reported, not silently papered over."""
    from skspectra.training import TrainingDivergedError

    X_tr, W_tr, _, _ = split
    with pytest.raises(TrainingDivergedError, match="learning rate"):
        SpectralVAE(n_components=3, lr=5.0, max_epochs=3, **TINY).fit(X_tr, ivar=W_tr)


def test_early_stopping_stops_and_restores_the_best_epoch(split):
    X_tr, W_tr, X_te, W_te = split
    vae = SpectralVAE(n_components=3, max_epochs=300, n_iter_no_change=3, lr=3e-2, **TINY)
    vae.fit(X_tr, ivar=W_tr)
    history = vae.history_
    assert len(history) < 300
    scores = np.array(history[:, "valid_objective"])
    # training stopped 3 epochs after the best one (or the start)
    assert np.all(scores[-3:] >= scores.min() * (1 - 1e-4))
    no_stop = SpectralVAE(n_components=3, max_epochs=4, validation_fraction=None, **TINY)
    assert len(no_stop.fit(X_tr, ivar=W_tr).history_) == 4


def test_pca_latent_means_carry_what_pca_scores_carry(split):
    X_tr, W_tr, X_te, _ = split
    vae = SpectralVAE(n_components=3, latent_mean="pca", max_epochs=5, **TINY)
    vae.fit(X_tr, ivar=W_tr)
    Z, Z_pca = vae.transform(X_te), PCA(3).fit(X_tr).transform(X_te)
    for k in range(3):  # each latent is an affine function of one PCA score
        assert abs(np.corrcoef(Z[:, k], Z_pca[:, k])[0, 1]) > 1 - 1e-6
    assert not vae.net_.module_.learn_mean
    learned = SpectralVAE(n_components=3, max_epochs=5, **TINY)  # the default
    assert learned.fit(X_tr, ivar=W_tr).net_.module_.learn_mean
    with pytest.raises(ValueError, match="pca_init"):
        SpectralVAE(pca_init=False, latent_mean="pca", **TINY).fit(X_tr, ivar=W_tr)


def test_random_start_has_no_linear_path(split):
    X_tr, W_tr, _, _ = split
    vae = SpectralVAE(n_components=3, pca_init=False, latent_mean="learned", max_epochs=2, **TINY)
    module = vae.fit(X_tr, ivar=W_tr).net_.module_
    assert module.linear_encoder is None and module.linear_decoder is None
    assert np.all(np.isfinite(vae.transform(X_tr)))
