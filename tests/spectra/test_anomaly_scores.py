"""SpectralCAE's anomaly_score rules, trimmed loss and one-cycle learning rate."""

import numpy as np
import pytest
import torch

from skspectra import SpectralCAE
from skspectra.nn import WeightedSquaredError

SMALL = dict(n_components=4, n_filters=4, depth=2, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def fitted(toy_spectra):
    flux, ivar = toy_spectra
    return SpectralCAE(max_epochs=30, lr=3e-3, **SMALL).fit(flux, ivar=ivar)


def test_latent_rule_is_the_distance_to_the_nearest_latents(fitted, toy_spectra):
    flux, ivar = toy_spectra
    fitted.set_params(anomaly_score="latent")
    Z = fitted.transform(flux)
    Zs = (Z - Z.mean(axis=0)) / Z.std(axis=0)
    dist = np.sqrt(((Zs[:, None, :] - Zs[None, :, :]) ** 2).sum(axis=-1))
    k = 10
    # the training spectra themselves: their own latent (distance 0) is left out
    expected = -np.sort(dist, axis=1)[:, 1 : k + 1].mean(axis=1)
    np.testing.assert_allclose(fitted.score_samples(flux), expected, rtol=1e-6)
    # a new spectrum counts its k nearest
    new = flux[:5] * 1.01
    Zn = (fitted.transform(new) - Z.mean(axis=0)) / Z.std(axis=0)
    dn = np.sqrt(((Zn[:, None, :] - Zs[None, :, :]) ** 2).sum(axis=-1))
    np.testing.assert_allclose(
        fitted.score_samples(new), -np.sort(dn, axis=1)[:, :k].mean(axis=1), rtol=1e-6
    )
    fitted.set_params(anomaly_score="combined")


def test_combined_rule_is_the_worse_of_two_robust_z_scores(fitted, toy_spectra):
    flux, ivar = toy_spectra
    fitted.set_params(anomaly_score="residual")
    chi2 = -fitted.score_samples(flux, ivar=ivar)
    fitted.set_params(anomaly_score="latent")
    latent = fitted.score_samples(flux, ivar=ivar)
    fitted.set_params(anomaly_score="combined")

    def robust_z(values, reference):
        med = np.median(reference)
        return (values - med) / (1.482602218505602 * np.median(np.abs(reference - med)))

    # the training set is the reference of both z-scores
    expected = -np.maximum(
        robust_z(np.log(chi2), np.log(chi2)), robust_z(np.log(-latent), np.log(-latent))
    )
    np.testing.assert_allclose(fitted.score_samples(flux, ivar=ivar), expected, rtol=1e-6)


def test_combined_rule_flags_a_rare_but_well_reconstructed_spectrum(toy_spectra):
    """A constant offset is trivial to reconstruct (the latents shift) but puts a spectrum
    far from the others in latent space: the residual rule misses it, the combined one not."""
    flux, ivar = toy_spectra
    X = flux.copy()
    X[:3] += 0.6  # three spectra shifted far beyond the population's spread
    est = SpectralCAE(max_epochs=40, lr=3e-3, anomaly_score="combined", **SMALL).fit(X, ivar=ivar)
    combined = np.argsort(est.score_samples(X, ivar=ivar))[:6]
    assert set(range(3)) <= set(combined)
    est.set_params(anomaly_score="residual")
    rank = np.argsort(np.argsort(est.score_samples(X, ivar=ivar)))  # 0 = most anomalous
    # the residual rule alone misses them (measured: ranks 59, 11 and 29 of 120)
    assert np.all(rank[:3] >= 6)


def test_offset_follows_the_rule_at_fit(toy_spectra):
    flux, ivar = toy_spectra
    for rule in ("residual", "latent", "combined"):
        est = SpectralCAE(max_epochs=2, anomaly_score=rule, contamination=0.1, **SMALL)
        est.fit(flux, ivar=ivar)
        assert np.mean(est.predict(flux, ivar=ivar) == -1) == pytest.approx(0.1, abs=0.02)


def test_trimmed_loss_leaves_out_the_worst_spectra():
    target = torch.zeros(8, 2, 5)
    target[:, 1] = 1.0
    pred = torch.full((8, 5), 0.1)
    pred[0] = 100.0  # one spectrum fitted very badly
    plain = WeightedSquaredError()(pred, target)
    trimmed = WeightedSquaredError(trim_fraction=0.125)(pred, target)
    assert trimmed.item() == pytest.approx(0.5 * 0.1**2)
    assert plain.item() > 100
    with pytest.raises(ValueError, match="trim_fraction"):
        WeightedSquaredError(trim_fraction=0.5)


def test_trimmed_training_learns_the_anomalies_less(toy_spectra):
    flux, _ = toy_spectra
    X = flux.copy()
    X[:4, 30:34] += 1.0  # four strong features in the training set
    kw = dict(max_epochs=40, lr=3e-3, anomaly_score="residual", **SMALL)
    plain = SpectralCAE(**kw).fit(X)
    trimmed = SpectralCAE(trim_fraction=0.1, **kw).fit(X)
    res_plain = np.abs(X - plain.reconstruct(X))[:4, 30:34].mean()
    res_trimmed = np.abs(X - trimmed.reconstruct(X))[:4, 30:34].mean()
    assert res_trimmed > res_plain


def test_onecycle_warms_up_then_anneals(toy_spectra):
    flux, _ = toy_spectra
    est = SpectralCAE(max_epochs=6, lr=1e-2, lr_schedule="onecycle", **SMALL).fit(flux)
    lrs = [b["event_lr"] for e in est.history_ for b in e["batches"] if "event_lr" in b]
    peak = int(np.argmax(lrs))
    assert 0 < peak < len(lrs) - 1
    assert max(lrs) == pytest.approx(1e-2, rel=0.05)
    assert lrs[0] < 0.1 * max(lrs) and lrs[-1] < 0.01 * max(lrs)
