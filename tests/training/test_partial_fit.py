"""partial_fit on every neural estimator: continued training with a schedule over the stream."""

import numpy as np
import pytest
import torch

from skspectra import SpectralCAE
from skspectra.images import ImageAutoencoder, ImageRegressor
from skspectra.lines import GaussianLineFitter
from skspectra.spectra import SpectralVAE
from skspectra.training import stream_lr_factor

from _equality import assert_same_bits

SMALL = {"n_filters": 2, "depth": 1, "batch_size": 16, "random_state": 0}


def _unsupervised():
    return [
        SpectralCAE(n_components=2, **SMALL),
        SpectralVAE(n_components=2, **SMALL),
        ImageAutoencoder(n_components=2, image_shape=(1, 8, 8), **SMALL),
    ]


def _supervised():
    return [
        GaussianLineFitter(kernel_sizes=(3,), n_filters=2, n_blocks=1, hidden_size=8),
        ImageRegressor(hidden_layer_sizes=(8,), batch_size=16, random_state=0),
    ]


# what each estimator learns from the data before training (residual_scale_ is calibration)
_SCALING = {"mean_", "scale_", "input_mean_", "input_scale_", "target_mean_", "target_scale_"}
_SCALING |= {"target_loc_", "flux_scale_"}


def _batches(n_features=64, n=40):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(n, n_features))
    return a, a + 5.0  # the second batch has another mean


@pytest.mark.parametrize("est", _unsupervised() + _supervised(), ids=lambda e: type(e).__name__)
def test_each_call_trains_n_epochs_and_keeps_the_first_batch_scaling(est):
    first, second = _batches()
    supervised = isinstance(est, GaussianLineFitter | ImageRegressor)
    y = first[:, :2].sum(axis=1, keepdims=True) * [1.0, -1.0] if supervised else None
    args = () if y is None else (y,)
    est.partial_fit(first, *args)
    assert len(est.history_) == 1
    scaling = {k: np.copy(v) for k, v in vars(est).items() if k in _SCALING}
    assert scaling, "no fitted scaling found to check"
    weights = [p.detach().clone() for p in est.net_.module_.parameters()]
    est.partial_fit(second, *args, n_epochs=2)
    assert len(est.history_) == 3
    for name, value in scaling.items():  # the standardisation comes from the first batch only
        np.testing.assert_array_equal(getattr(est, name), value, err_msg=name)
    moved = [
        not torch.equal(a, b) for a, b in zip(weights, est.net_.module_.parameters(), strict=True)
    ]
    assert any(moved)  # the same net trained on, not a new one


def test_partial_fit_after_fit_continues_the_fitted_net(toy_spectra):
    X, _ = toy_spectra
    cae = SpectralCAE(n_components=2, max_epochs=3, **SMALL).fit(X)
    net, mean = cae.net_, cae.mean_.copy()
    cae.partial_fit(X + 1.0)
    assert cae.net_ is net
    assert len(cae.history_) == 4
    np.testing.assert_array_equal(cae.mean_, mean)


@pytest.mark.parametrize("policy", ["cosine", "onecycle"])
def test_schedule_spans_the_stream_not_each_call(toy_spectra, policy):
    X, _ = toy_spectra
    cae = SpectralCAE(n_components=2, max_epochs=4, lr=1e-2, lr_schedule=policy, **SMALL)
    for _ in range(4):
        cae.partial_fit(X[:64])  # 4 batches of 16 per call
    lrs = np.asarray(cae.history_[:, "event_lr"])
    # a schedule restarted at each call gives the same lr at the end of every call
    assert np.ptp(lrs) > 0.5 * 1e-2
    # event_lr is the lr of each call's last batch, at (k + 3/4) of the 4 planned epochs
    expected = [1e-2 * stream_lr_factor(policy, (k + 0.75) / 4) for k in range(4)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-6)


def test_schedule_matches_torch_schedulers():
    total = 1000
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    onecycle = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=total + 1)
    cosine_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(cosine_opt, T_max=total)
    for step in range(total):
        if step % 97 == 0:
            t = step / total
            assert stream_lr_factor("onecycle", t) == pytest.approx(
                opt.param_groups[0]["lr"], rel=0.02, abs=1e-4
            )
            assert stream_lr_factor("cosine", t) == pytest.approx(
                cosine_opt.param_groups[0]["lr"], abs=1e-9
            )
        opt.step()
        onecycle.step()
        cosine_opt.step()
        cosine.step()
    assert stream_lr_factor("constant", 0.7) == 1.0
    assert stream_lr_factor("cosine", 3.0) == 0.0  # beyond the plan: the final value


def test_same_stream_same_model(toy_spectra):
    X, _ = toy_spectra
    a, b = (SpectralCAE(n_components=2, max_epochs=2, **SMALL) for _ in range(2))
    for est in (a, b):
        est.partial_fit(X[:60]).partial_fit(X[60:])
    assert_same_bits(a.transform(X), b.transform(X))


@pytest.mark.parametrize("n_epochs", [0, 1.5, True])
def test_bad_n_epochs_raises(toy_spectra, n_epochs):
    with pytest.raises(ValueError, match="n_epochs must be an int >= 1"):
        SpectralCAE(**SMALL).partial_fit(toy_spectra[0], n_epochs=n_epochs)


@pytest.mark.parametrize("est", _supervised(), ids=lambda e: type(e).__name__)
def test_targets_of_another_width_raise(est):
    X, _ = _batches()
    est.partial_fit(X, X[:, :2])
    with pytest.raises(ValueError, match="y has 3 columns but the first batch had 2"):
        est.partial_fit(X, X[:, :3])


def test_image_batches_of_another_size_raise():
    rng = np.random.default_rng(0)
    ae = ImageAutoencoder(n_components=2, **SMALL).partial_fit(rng.normal(size=(20, 8, 8)))
    with pytest.raises(ValueError, match="X has 36 features, but ImageAutoencoder is expecting 64"):
        ae.partial_fit(rng.normal(size=(20, 6, 6)))


@pytest.mark.parametrize("est", _unsupervised(), ids=lambda e: type(e).__name__)
def test_sklearn_partial_fit_n_features_check_on_the_unsupervised_models(est):
    """sklearn runs this check for regressors, classifiers and clusterers only."""
    from sklearn.utils.estimator_checks import check_estimators_partial_fit_n_features

    if isinstance(est, ImageAutoencoder):
        est.set_params(image_shape=(1, 1, -1))  # as in test_common: rows are 1 x n images
    check_estimators_partial_fit_n_features(type(est).__name__, est)
