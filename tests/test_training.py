"""Training features of every estimator: progress display, divergence, warm start, checkpoints
that resume exactly (same bits on the same machine), mixed precision and CUDA."""

import os
import signal

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skspectra import SpectralCAE
from skspectra.images import ImageAutoencoder, ImageRegressor
from skspectra.lines import GaussianLineFitter
from skspectra.spectra import SpectralVAE
from skspectra.training import (
    TrainingCheckpoint,
    TrainingDivergedError,
    TrainingInterrupted,
    TrainingProgress,
)

from _equality import assert_same_bits

TINY_CAE = dict(n_components=3, n_filters=4, depth=2, batch_size=16, random_state=0)


def _cae(**kwargs):
    return SpectralCAE(**{**TINY_CAE, "max_epochs": 3, **kwargs})


# -- display -----------------------------------------------------------------------------------
def test_progress_shows_reduced_chi2_and_validation_line(toy_spectra, capsys):
    flux, ivar = toy_spectra
    _cae(verbose=1).fit(flux, ivar=ivar)
    err = capsys.readouterr().err
    assert "χ²/pix = reduced χ² of the fit" in err  # the unit, said once
    assert "SpectralCAE epoch 3/3 100%" in err  # one bar over epochs
    assert err.count("100%") <= 2  # not one bar per epoch (tqdm redraws the last state once)
    assert "validation (12 held-out samples): χ²/pix" in err
    assert "0.0000" not in err


@pytest.mark.parametrize(
    "estimator, data",
    [
        (SpectralVAE(n_components=2, n_filters=2, depth=1, max_epochs=2), "spectra"),
        (GaussianLineFitter(max_components=1, kernel_sizes=(3,), n_filters=2, n_blocks=1,
                            hidden_size=8, max_epochs=2), "regression"),
        (ImageRegressor(hidden_layer_sizes=(8,), max_epochs=2), "regression"),
        (ImageAutoencoder(n_components=2, n_filters=2, depth=1, max_epochs=2), "images"),
    ],
    ids=lambda e: type(e).__name__ if not isinstance(e, str) else e,
)  # fmt: skip
def test_every_estimator_shows_one_bar_and_a_summary(estimator, data, toy_spectra, capsys):
    flux, ivar = toy_spectra
    estimator.set_params(verbose=1)
    label = "MSE/var"
    if data == "spectra":
        estimator.fit(flux, ivar=ivar)
        label = "χ²/pix"
    elif data == "images":
        estimator.fit(np.random.default_rng(0).random((32, 1, 8, 8)))
    else:
        estimator.fit(flux, flux[:, :2].sum(axis=1))
    err = capsys.readouterr().err
    name = type(estimator).__name__
    assert f"{name} epoch 2/2 100%" in err
    assert f"{name}: {label} = " in err
    assert f"{name}: validation (" in err or f"{name}: no validation set" in err


def test_chi2_shown_is_the_reduced_chi2_of_the_reconstruction(toy_spectra):
    """The bar's unit, checked against χ² computed from the public reconstruction."""
    flux, ivar = toy_spectra
    ivar = ivar * np.random.default_rng(1).uniform(0.5, 2, ivar.shape)
    ivar[:, :5] = 0  # masked pixels do not count
    model = _cae(trim_fraction=0.0, verbose=1, validation_fraction=None).fit(flux, ivar=ivar)
    progress = next(cb for _, cb in model.net_.callbacks_ if isinstance(cb, TrainingProgress))
    term = progress.terms[0]
    weight = ivar / ivar[ivar > 0].mean()
    Xs = model._standardize(flux, ivar)
    y = torch.tensor(np.stack([Xs, weight], axis=1), dtype=torch.float32)
    module = model.net_.module_.eval()
    with torch.no_grad():
        loss = float(model.net_.criterion_(module(torch.tensor(Xs, dtype=torch.float32)), y))
    residual = flux - model.reconstruct(flux, ivar=ivar)
    chi2 = np.sum(ivar * residual**2) / np.sum(ivar > 0)
    assert term.factor * loss == pytest.approx(chi2, rel=1e-4)


# -- divergence --------------------------------------------------------------------------------
def test_diverging_training_raises_a_clear_error(toy_spectra):
    flux, _ = toy_spectra
    match = r"diverged: the training loss (became (nan|inf)|grew from).*lr=1e\+06 is too high"
    with pytest.raises(ValueError, match=match):
        _cae(lr=1e6, lr_schedule="constant").fit(flux)


def test_regressor_divergence_is_a_value_error(toy_spectra):
    flux, _ = toy_spectra
    # lr=1e4 sends this loss to 1e19, still finite: the growth check catches it
    with pytest.raises(TrainingDivergedError, match="loss grew from .* too high"):
        ImageRegressor(hidden_layer_sizes=(8,), max_epochs=3, lr=1e4, random_state=0).fit(
            flux, flux[:, 0]
        )


def test_values_beyond_float32_are_rejected_before_training():
    from skspectra.base import _float32_for_training

    with pytest.raises(ValueError, match="beyond float32"), np.errstate(over="ignore"):
        _float32_for_training(np.array([[1.0, 1e300]]), "X")


# -- warm start --------------------------------------------------------------------------------
def test_warm_start_continues_training(toy_spectra):
    flux, ivar = toy_spectra
    params = dict(max_epochs=4, validation_fraction=None, pca_init=False, lr=1e-2)
    model = _cae(**params).fit(flux, ivar=ivar)
    net = model.net_
    first = [row["train_loss"] for row in model.history_]
    model.set_params(warm_start=True).fit(flux, ivar=ivar)
    assert model.net_ is net and len(model.history_) == 8
    more = [row["train_loss"] for row in model.history_[4:]]
    # it goes on from where it stopped (0.455 -> 0.182 here), not from a fresh start
    assert more[0] < 0.5 * first[0]
    assert more[0] < 1.2 * first[-1]
    assert more[-1] < first[-1]
    fresh = _cae(**params).fit(flux, ivar=ivar)
    assert len(fresh.history_) == 4  # warm_start=False trains anew
    assert fresh.history_[0]["train_loss"] == first[0]


def test_warm_start_with_other_features_says_so(toy_spectra):
    flux, ivar = toy_spectra
    model = _cae(warm_start=True, max_epochs=1).fit(flux, ivar=ivar)
    with pytest.raises(ValueError, match="warm_start=True continues training net_"):
        model.fit(flux[:, :32], ivar=ivar[:, :32])


# -- checkpoint and resume ---------------------------------------------------------------------
class _SignalAt(Callback):
    """Send ``signum`` to this process during training batch ``batch`` of epoch ``epoch``."""

    def __init__(self, signum, epoch, batch):
        self.signum, self.epoch, self.batch = signum, epoch, batch

    def on_batch_end(self, net, training=False, **kwargs):
        n = len(net.history[-1, "batches"])
        if training and len(net.history) == self.epoch and n == self.batch:
            os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize(
    "make, data, signum",
    [
        (lambda **kw: _cae(max_epochs=6, **kw), "spectra", signal.SIGTERM),
        # cosine schedule stepped per epoch, random flips drawn from torch's RNG
        (lambda **kw: ImageAutoencoder(n_components=2, n_filters=4, depth=1, max_epochs=6,
                                       batch_size=16, validation_fraction=0.2, random_state=0,
                                       **kw), "images", signal.SIGINT),
    ],
    ids=["SpectralCAE-onecycle-SIGTERM", "ImageAutoencoder-augment-SIGINT"],
)  # fmt: skip
def test_interrupted_training_resumes_with_the_same_bits(make, data, signum, toy_spectra, tmp_path):
    flux, ivar = toy_spectra
    images = np.random.default_rng(0).random((60, 8, 8))
    X, w = (flux, ivar) if data == "spectra" else (images, None)
    reference = make().fit(X, ivar=w)
    # signal in the middle of epoch 4: the checkpoint of epoch 2 (every=2) is on disk, the
    # state after epoch 3 in memory; it is that one that is saved
    killer = _SignalAt(signum, epoch=4, batch=2)
    with pytest.raises(TrainingInterrupted) as info:
        make(callbacks=[killer, TrainingCheckpoint(tmp_path, every=2)]).fit(X, ivar=w)
    assert info.value.epoch == 3 and info.value.exit_status == 128 + signum
    assert signal.getsignal(signum) is not None  # handlers put back
    resumed = make(callbacks=[TrainingCheckpoint(tmp_path, every=2, resume=True)]).fit(X, ivar=w)
    assert len(resumed.history_) == 6
    # same machine: the resumed run repeats the reference's computation batch for batch
    scores = resumed.score_samples(X, ivar=w)
    assert_same_bits(scores, reference.score_samples(X, ivar=w))
    assert_same_bits(resumed.transform(X), reference.transform(X))


def test_resume_on_other_data_says_so(toy_spectra, tmp_path):
    flux, ivar = toy_spectra
    _cae(max_epochs=2, callbacks=[TrainingCheckpoint(tmp_path)]).fit(flux, ivar=ivar)
    resume = [TrainingCheckpoint(tmp_path, resume=True)]
    with pytest.raises(ValueError, match=r"data of shape \(120, 64\).*on \(100, 64\)"):
        _cae(max_epochs=4, callbacks=resume).fit(flux[:100], ivar=ivar[:100])


def test_checkpoint_every_n_epochs_writes_skorch_files(toy_spectra, tmp_path):
    flux, ivar = toy_spectra
    checkpoint = TrainingCheckpoint(tmp_path / "cp", every=2)
    _cae(max_epochs=3, callbacks=[checkpoint]).fit(flux, ivar=ivar)
    names = {p.name for p in (tmp_path / "cp").iterdir()}
    assert {"params.pt", "optimizer.pt", "history.json", "train_state.pt"} <= names
    state = torch.load(tmp_path / "cp" / "train_state.pt", weights_only=True)
    assert state["epoch"] == 2  # every 2 epochs: epoch 3 was not saved


# -- mixed precision and devices ---------------------------------------------------------------
class _RecordDtype(Callback):
    def initialize(self):
        self.dtypes_ = set()
        return self

    def on_batch_end(self, net, y_pred=None, training=False, **kwargs):
        if training:
            self.dtypes_.add(y_pred.dtype)


def test_amp_on_cpu_trains_in_bfloat16(toy_spectra):
    flux, ivar = toy_spectra
    model = _cae(amp=True, max_epochs=4, callbacks=[_RecordDtype()]).fit(flux, ivar=ivar)
    recorder = next(cb for _, cb in model.net_.callbacks_ if isinstance(cb, _RecordDtype))
    assert recorder.dtypes_ == {torch.bfloat16}
    losses = [row["train_loss"] for row in model.history_]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    plain = _cae(max_epochs=4).fit(flux, ivar=ivar)
    scores = model.score_samples(flux, ivar=ivar)
    plain_scores = plain.score_samples(flux, ivar=ivar)
    assert np.all(np.isfinite(scores))
    assert np.corrcoef(scores, plain_scores)[0, 1] > 0.9


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("amp", [False, True])
def test_cuda_end_to_end(amp, toy_spectra, tmp_path):
    flux, ivar = toy_spectra
    cpu = _cae(max_epochs=4).fit(flux, ivar=ivar)
    gpu = _cae(max_epochs=4, device="cuda", amp=amp).fit(flux, ivar=ivar)
    assert next(gpu.net_.module_.parameters()).is_cuda
    if amp:
        assert gpu.net_.grad_scaler_ is not None
    scores = gpu.score_samples(flux, ivar=ivar)
    assert np.all(np.isfinite(scores)) and scores.dtype == np.float64
    assert np.corrcoef(scores, cpu.score_samples(flux, ivar=ivar))[0, 1] > 0.9
    images = np.random.default_rng(0).random((32, 1, 8, 8))
    ae = ImageAutoencoder(n_components=2, max_epochs=2, device="cuda", amp=amp, random_state=0)
    assert np.all(np.isfinite(ae.fit(images).score_samples(images)))
    # a checkpoint written on the GPU resumes there too
    cp = TrainingCheckpoint(tmp_path, every=1)
    _cae(max_epochs=2, device="cuda", amp=amp, callbacks=[cp]).fit(flux, ivar=ivar)
    resume = [TrainingCheckpoint(tmp_path, resume=True)]
    resumed = _cae(max_epochs=3, device="cuda", amp=amp, callbacks=resume).fit(flux, ivar=ivar)
    assert len(resumed.history_) == 3


def test_cuda_without_gpu_is_a_clear_error(toy_spectra):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    flux, _ = toy_spectra
    with pytest.raises(ValueError, match="no CUDA GPU"):
        _cae(device="cuda").fit(flux)
