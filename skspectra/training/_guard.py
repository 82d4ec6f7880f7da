"""Stop training that diverges, with an error that names the likely cause."""

import math

import torch
from skorch.callbacks import Callback

__all__ = ["StopOnNonFiniteLoss", "TrainingDivergedError"]

#: Above this learning rate, Adam on these models is the first suspect of a divergence.
HIGH_LR = 1e-2
#: Inputs or targets larger than this (after the estimator's own scaling) count as unscaled.
LARGE_VALUE = 1e4
#: A training loss this many times its first batch's, and above ``LARGE_LOSS``, has diverged,
#: even if still finite. (The floor keeps a near-zero first loss from making noise look like
#: a divergence.)
GROWTH = 1e8
LARGE_LOSS = 1e6


class TrainingDivergedError(ValueError):
    """The training loss or the network's weights became NaN or infinite."""


class StopOnNonFiniteLoss(Callback):
    """Raise :class:`TrainingDivergedError` as soon as the loss or a weight is NaN or infinite.

    It checks the loss of every batch (training and validation) and, at the
    end of every epoch, the module's parameters, so that a diverged model is
    never scored: its scores would be NaN. A training loss that grows to
    ``GROWTH`` (1e8) times that of the run's first batch, and above
    ``LARGE_LOSS`` (1e6), has diverged too.

    Parameters
    ----------
    lr : float
        The learning rate, quoted in the hint.
    max_input : float, default=0.0
        Largest ``|value|`` of what the network trains on (inputs and
        targets, after the estimator's own scaling).
    amp : bool, default=False
        Whether training ran in mixed precision.
    name : str, default="the model"
        The estimator, for the message.
    """

    def __init__(self, lr, max_input=0.0, amp=False, name="the model"):
        self.lr = lr
        self.max_input = max_input
        self.amp = amp
        self.name = name

    def causes(self):
        """Likely causes of a divergence, most likely first."""
        first, rest = [], []
        lr_hint = (
            f"the learning rate lr={self.lr:g} is too high (Adam's usual range is 1e-4 to "
            f"1e-2): try lr={min(self.lr / 10, 1e-3):g}"
        )
        (first if self.lr > HIGH_LR else rest).append(lr_hint)
        if self.max_input > LARGE_VALUE:
            first.append(
                f"the inputs are not scaled: values reach |x| = {self.max_input:.3g} after the "
                "model's own standardisation; normalise them first (SpectrumNormalizer, "
                "StandardScaler) or clip extreme values"
            )
        if self.amp:
            first.append("mixed precision (amp=True) overflowed float16: try amp=False")
        rest.append(
            "the data hold huge values or outliers, or inverse variances spanning many "
            "decades (a few pixels then dominate the loss)"
        )
        return first + rest

    def _fail(self, what, epoch, batch=None):
        where = f"epoch {epoch}" + (f", batch {batch}" if batch is not None else "")
        causes = "; ".join(f"({i}) {c}" for i, c in enumerate(self.causes(), start=1))
        raise TrainingDivergedError(
            f"Training of {self.name} diverged: {what} at {where}. Likely causes: {causes}."
        )

    def initialize(self):
        self.first_loss_ = None
        return self

    def on_batch_end(self, net, training=False, loss=None, **kwargs):
        if loss is None:
            return
        value = float(loss.detach()) if torch.is_tensor(loss) else float(loss)
        n_batches = len(net.history[-1, "batches"])
        if not math.isfinite(value):
            kind = "training" if training else "validation"
            self._fail(f"the {kind} loss became {value}", len(net.history), n_batches)
        if not training:
            return
        if self.first_loss_ is None:
            self.first_loss_ = value
        elif value > max(GROWTH * self.first_loss_, LARGE_LOSS):
            self._fail(
                f"the training loss grew from {self.first_loss_:.3g} to {value:.3g}",
                len(net.history),
                n_batches,
            )

    def on_epoch_end(self, net, **kwargs):
        for name, param in net.module_.named_parameters():
            if not torch.isfinite(param).all():
                self._fail(f"weight {name!r} became NaN or infinite", len(net.history))
