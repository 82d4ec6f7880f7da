import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import LRScheduler

from skspectra.datasets import inject_anomalies
from skspectra.nn import ConvVAE1d, VAELoss, gaussian_kl, pixel_nll
from skspectra.spectra._vae_callbacks import KLWarmup
from skspectra.spectra.vae import SpectralVAE

from _equality import assert_same_bits

# Tiny nets: every fit here takes a fraction of a second on one thread.
SMALL = dict(n_components=3, n_filters=4, depth=2, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def fitted(toy_spectra):
    flux, ivar = toy_spectra
    vae = SpectralVAE(max_epochs=40, kl_warmup_epochs=3, lr=3e-3, **SMALL)
    return vae.fit(flux, ivar=ivar)


# -- torch pieces -------------------------------------------------------------
def test_module_shapes_and_eval_is_deterministic():
    module = ConvVAE1d(50, 4, n_filters=4, depth=2, kernel_size=5, attention=True)
    x = torch.randn(7, 50)
    module.train()
    x_hat, mean, logvar = module(x)
    assert x_hat.shape == (7, 50) and mean.shape == logvar.shape == (7, 4)
    module.eval()
    assert_same_bits(module(x)[0].detach(), module.decode(mean).detach())


def test_kl_and_nll_formulas():
    mean, logvar = torch.zeros(2, 3), torch.zeros(2, 3)
    np.testing.assert_allclose(gaussian_kl(mean, logvar), 0.0)
    np.testing.assert_allclose(gaussian_kl(torch.ones(1, 2), torch.zeros(1, 2)), [1.0])
    x, x_hat = torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 0.0]])
    w = torch.tensor([[4.0, 0.0]])
    np.testing.assert_allclose(pixel_nll(x_hat, x, w, "gaussian"), [[2.0, 0.0]])
    np.testing.assert_allclose(pixel_nll(x_hat, x, w, "laplace"), [[np.sqrt(8.0), 0.0]])
    with pytest.raises(ValueError, match="likelihood"):
        pixel_nll(x_hat, x, w, "poisson")


def test_loss_is_per_spectrum_sum_and_stays_finite():
    loss = VAELoss(beta=2.0)
    x_hat, target = torch.zeros(4, 10), torch.ones(4, 10)
    y_true = torch.stack([target, torch.full_like(target, 3.0)], dim=1)
    mean, logvar = torch.zeros(4, 2), torch.full((4, 2), 1e4)  # huge logvar is clamped
    module = ConvVAE1d(10, 2, n_filters=2, depth=1)
    logvar = module.encode(torch.full((4, 10), 1e30))[1]
    assert torch.isfinite(logvar).all()
    value = loss((x_hat, mean, torch.zeros(4, 2)), y_true)
    assert float(value) == pytest.approx(0.5 * 3.0 * 10)  # ½ Σ w r², summed over pixels
    assert loss.last_kl == 0.0 and loss.last_nll == pytest.approx(15.0)


@pytest.mark.parametrize("path", ["conv", "linear", "linear_fixed_mean"])
def test_rescale_latents_keeps_output_and_moves_posterior(path):
    torch.manual_seed(0)
    linear = {}
    if path != "conv":  # a linear path, as SpectralVAE's PCA start builds; learn_mean=False
        # (latent_mean='pca') takes the posterior mean from it alone
        linear = dict(linear_encoder=torch.randn(3, 30), linear_decoder=torch.randn(30, 3))
        linear["learn_mean"] = path == "linear"
    module = ConvVAE1d(30, 3, n_filters=4, depth=2, **linear)
    with torch.no_grad():  # weights as after training: the PCA start zeroes the heads
        for p in module.parameters():
            p.add_(0.1 * torch.randn_like(p))
    module.eval()
    x = torch.randn(5, 30)
    before_x, before_mean, before_logvar = (t.detach().clone() for t in module(x))
    shift, scale = torch.tensor([0.5, -1.0, 2.0]), torch.tensor([2.0, 0.5, 3.0])
    module.rescale_latents(shift, scale)
    after_x, after_mean, after_logvar = module(x)
    torch.testing.assert_close(after_x, before_x, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(after_mean, (before_mean - shift) / scale, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(after_logvar, before_logvar - 2 * torch.log(scale))


def test_kl_warmup_schedule():
    cb = KLWarmup(beta=2.0, n_epochs=4)
    assert [cb.beta_at(e) for e in range(1, 7)] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]


# -- estimator ----------------------------------------------------------------
def test_shapes_and_fitted_attributes(fitted, toy_spectra):
    flux, _ = toy_spectra
    Z = fitted.transform(flux)
    mean, std = fitted.encode(flux)
    assert Z.shape == mean.shape == std.shape == (flux.shape[0], 3)
    assert_same_bits(Z, mean)
    assert np.all(std > 0)
    assert fitted.inverse_transform(Z).shape == flux.shape
    assert fitted.reconstruct(flux).shape == flux.shape
    assert fitted.mean_.shape == fitted.scale_.shape == (flux.shape[1],)
    names = fitted.get_feature_names_out().tolist()
    assert names == ["spectralvae0", "spectralvae1", "spectralvae2"]
    scores = fitted.score_samples(flux)
    assert scores.shape == (flux.shape[0],) and np.all(np.isfinite(scores))
    np.testing.assert_allclose(fitted.decision_function(flux), scores - fitted.offset_)
    assert set(np.unique(fitted.predict(flux))) <= {-1, 1}


def test_training_reconstructs_and_uses_the_latents(fitted, toy_spectra):
    flux, ivar = toy_spectra

    def chi2(model, Z=None):
        Z = model.transform(flux) if Z is None else Z
        return np.median(np.sum(ivar * (flux - model.inverse_transform(Z)) ** 2, axis=1)) / 64

    # The PCA start, calibrated as fit calibrates: one epoch at a learning rate of nothing.
    start = SpectralVAE(max_epochs=1, lr=1e-12, kl_warmup_epochs=3, **SMALL)
    start.fit(flux, ivar=ivar)
    chi2_mean = np.median(np.sum(ivar * (flux - flux.mean(axis=0)) ** 2, axis=1)) / 64
    assert chi2(fitted) < 0.2 * chi2_mean
    # Training improves on the PCA start (measured: median reduced χ² 20 → 6.8) ...
    assert chi2(fitted) < 0.5 * chi2(start)
    # ... and sharpens the posteriors, which the start already made far narrower than the
    # prior (median std 0.031 → 0.017): the latents do not collapse onto the prior.
    assert np.median(fitted.encode(flux)[1]) < 0.8 * np.median(start.encode(flux)[1])
    # The decoder uses them: another spectrum's latents reconstruct a spectrum badly.
    Z = fitted.transform(flux)
    shuffled = Z[np.random.default_rng(0).permutation(len(Z))]
    assert chi2(fitted) < 0.1 * chi2(fitted, shuffled)
    history = fitted.history_
    # it starts from PCA's reconstruction (so lower than from random weights) and improves
    assert history[-1, "train_loss"] < 0.5 * history[0, "train_loss"]


def test_history_records_elbo_terms_and_warmup(fitted):
    history = fitted.history_
    np.testing.assert_allclose(history[:, "beta"][:5], [0.0, 1 / 3, 2 / 3, 1.0, 1.0])
    assert fitted.net_.criterion_.beta == 1.0
    for epoch in (0, 10, -1):
        row = history[epoch]
        expected = row["train_nll"] + row["beta"] * row["train_kl"]
        assert row["train_loss"] == pytest.approx(expected, rel=1e-4)
        assert "valid_kl" in row and "valid_nll" in row


def test_no_warmup_keeps_beta(toy_spectra):
    flux, ivar = toy_spectra
    vae = SpectralVAE(beta=0.5, kl_warmup_epochs=0, max_epochs=2, **SMALL).fit(flux, ivar=ivar)
    assert "beta" not in vae.history_[-1]
    assert vae.net_.criterion_.beta == 0.5


def test_sample_shape_and_determinism(fitted, toy_spectra):
    flux, _ = toy_spectra
    a = fitted.sample(5, random_state=1)
    assert a.shape == (5, flux.shape[1])
    assert_same_bits(a, fitted.sample(5, random_state=1))
    assert not np.allclose(a, fitted.sample(5, random_state=2))
    rng = np.random.RandomState(3)
    np.testing.assert_allclose(
        fitted.sample(2, random_state=3, source="prior"),
        fitted.inverse_transform(rng.standard_normal((2, 3))),
    )
    # Sampled spectra look like the training set: continuum near 1.
    assert np.all(np.abs(np.median(a, axis=1) - 1) < 0.3)
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="n_samples"):
            fitted.sample(bad)


def test_latents_are_calibrated_to_the_prior(fitted, toy_spectra):
    flux, ivar = toy_spectra
    mean, std = fitted.encode(flux, ivar=ivar)
    np.testing.assert_allclose(mean.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(np.mean(mean**2 + std**2, axis=0), 1.0, rtol=1e-3)


def test_sample_from_the_aggregate_posterior(fitted, toy_spectra):
    flux, _ = toy_spectra
    a = fitted.sample(50, random_state=0, source="aggregate")
    assert a.shape == (50, flux.shape[1])
    assert_same_bits(a, fitted.sample(50, random_state=0, source="aggregate"))
    assert fitted.latent_mixture_.n_components == 10

    # Draws land near real spectra: no farther from the training set than prior draws.
    def nearest(F):
        return np.array([np.min(np.sum((flux - f) ** 2, axis=1)) for f in F])

    prior = fitted.sample(50, random_state=0, source="prior")
    assert np.median(nearest(a)) <= np.median(nearest(prior))
    # the default source is the aggregate posterior
    assert_same_bits(fitted.sample(50, random_state=0), a)
    with pytest.raises(ValueError, match="source"):
        fitted.sample(2, source="posterior")


def test_elbo_is_lower_for_injected_anomalies(fitted, toy_spectra):
    flux, ivar = toy_spectra
    X, is_anomaly = inject_anomalies(flux, kind="emission", fraction=0.25, random_state=0)
    scores = fitted.score_samples(X, ivar=ivar)
    assert np.median(scores[is_anomaly]) < np.median(scores[~is_anomaly])
    assert roc_auc_score(~is_anomaly, scores) > 0.9


def test_score_is_mean_elbo_and_masked_pixels_are_ignored(fitted, toy_spectra):
    flux, ivar = toy_spectra
    assert fitted.score(flux, ivar=ivar) == pytest.approx(fitted.score_samples(flux, ivar).mean())
    masked = ivar.copy()
    masked[:, 10:20] = 0
    junk = flux.copy()
    junk[:, 10:20] = 1e3
    np.testing.assert_allclose(
        fitted.score_samples(junk, ivar=masked), fitted.score_samples(flux, ivar=masked)
    )
    np.testing.assert_allclose(fitted.transform(junk, ivar=masked), fitted.transform(flux, masked))


def test_loss_does_not_depend_on_flux_unit(toy_spectra):
    flux, ivar = toy_spectra
    a = SpectralVAE(max_epochs=2, **SMALL).fit(flux, ivar=ivar)
    b = SpectralVAE(max_epochs=2, **SMALL).fit(1e3 * flux, ivar=1e-6 * ivar)
    np.testing.assert_allclose(a.history_[:, "train_loss"], b.history_[:, "train_loss"], rtol=1e-4)
    np.testing.assert_allclose(a.transform(flux), b.transform(1e3 * flux), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        a.score_samples(flux, ivar), b.score_samples(1e3 * flux, 1e-6 * ivar), rtol=1e-4
    )


def test_attention_trains(toy_spectra):
    flux, ivar = toy_spectra
    vae = SpectralVAE(attention=True, max_epochs=3, **SMALL).fit(flux, ivar=ivar)
    assert vae.net_.module_.attention is not None
    assert np.all(np.isfinite(vae.transform(flux)))
    assert vae.history_[-1, "train_loss"] < vae.history_[0, "train_loss"]


def test_laplace_likelihood(toy_spectra):
    flux, ivar = toy_spectra
    vae = SpectralVAE(likelihood="laplace", max_epochs=2, **SMALL).fit(flux, ivar=ivar)
    assert vae.net_.criterion_.likelihood == "laplace"
    assert np.all(np.isfinite(vae.score_samples(flux, ivar)))


def test_lr_scheduler_callback(toy_spectra):
    flux, ivar = toy_spectra
    sched = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
    vae = SpectralVAE(lr=1e-2, max_epochs=3, callbacks=[("lr", sched)], **SMALL)
    vae.fit(flux, ivar=ivar)
    np.testing.assert_allclose(vae.history_[:, "event_lr"], [1e-2, 5e-3, 2.5e-3])
    assert vae.callbacks[0][1] is sched  # the parameter itself is not mutated
    assert not hasattr(sched, "lr_scheduler_")


def test_pipeline_with_standard_scaler(toy_spectra):
    flux, _ = toy_spectra
    pipe = make_pipeline(StandardScaler(), SpectralVAE(max_epochs=3, **SMALL))
    pipe.fit(flux)
    assert pipe.transform(flux).shape == (flux.shape[0], 3)
    scores = pipe.score_samples(flux)
    assert scores.shape == (flux.shape[0],) and np.all(np.isfinite(scores))
    assert set(np.unique(pipe.predict(flux))) <= {-1, 1}
    np.testing.assert_allclose(pipe[-1].pixel_ivar_, 1.0)


def test_pickle_round_trip(fitted, toy_spectra):
    flux, ivar = toy_spectra
    restored = pickle.loads(pickle.dumps(fitted))
    assert_same_bits(restored.transform(flux), fitted.transform(flux))
    assert_same_bits(restored.sample(3, random_state=0), fitted.sample(3, 0))
    expected = fitted.score_samples(flux, ivar)
    assert_same_bits(restored.score_samples(flux, ivar), expected)


def test_fit_is_seeded_and_leaves_global_rng_alone(toy_spectra):
    flux, ivar = toy_spectra
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = SpectralVAE(max_epochs=2, **SMALL).fit(flux, ivar=ivar)
    assert torch.rand(1) == before
    b = clone(a).fit(flux, ivar=ivar)
    assert_same_bits(a.transform(flux), b.transform(flux))


@pytest.mark.parametrize(
    "kwargs, ivar_fn, match",
    [
        ({}, lambda f, w: w[:, :-1], "shape"),
        ({}, lambda f, w: -w, "negative"),
        ({}, lambda f, w: np.where(np.arange(f.shape[0])[:, None] == 0, 0.0, w), "masked"),
        ({"kernel_size": 4}, lambda f, w: w, "odd"),
        ({"likelihood": "poisson"}, lambda f, w: w, "likelihood"),
        ({"beta": -1.0}, lambda f, w: w, "beta"),
        ({"kl_warmup_epochs": -1}, lambda f, w: w, "kl_warmup_epochs"),
    ],
)
def test_bad_fit_inputs(toy_spectra, kwargs, ivar_fn, match):
    flux, ivar = toy_spectra
    with pytest.raises(ValueError, match=match):
        SpectralVAE(max_epochs=1, **{**SMALL, **kwargs}).fit(flux, ivar=ivar_fn(flux, ivar))


def test_bad_inputs_after_fit(fitted, toy_spectra):
    flux, ivar = toy_spectra
    with pytest.raises(ValueError, match="features"):
        fitted.transform(flux[:, :-1])
    with pytest.raises(ValueError, match="n_components"):
        fitted.inverse_transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="shape"):
        fitted.score_samples(flux, ivar=ivar[:-1])
    bad = flux.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fitted.score_samples(bad)
