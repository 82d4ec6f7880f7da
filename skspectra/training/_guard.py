"""Stop training that diverges, with an error that names the likely cause."""

import math

import torch
from skorch.callbacks import Callback

__all__ = ["StopOnNonFiniteLoss", "TrainingDivergedError"]

#: Above this learning rate, Adam on these models is the first suspect of a divergence.
HIGH_LR = 1e-2
#: Inputs or targets larger than this (after the estimator's own scaling) count as unscaled.
LARGE_VALUE = 1e4


class TrainingDivergedError(ValueError):
    """The training loss or the network's weights became NaN or infinite."""


class StopOnNonFiniteLoss(Callback):
    """Raise :class:`TrainingDivergedError` as soon as the loss or a weight is NaN or infinite.

    It checks the loss of every batch (training and validation) and, at the
    end of every epoch, the module's parameters, so that a diverged model is
    never scored: its scores would be NaN.

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
        lr_hint = f"the learning rate lr={self.lr:g} is too high: try lr={self.lr / 10:g} or lower"
        (first if self.lr > HIGH_LR else rest).append(lr_hint)
        scale_hint = (
            f"the inputs are not scaled: values reach |x| = {self.max_input:.3g} after the "
            "model's own standardisation; normalise them first (SpectrumNormalizer, "
            "StandardScaler) or clip extreme values"
        )
        (first if self.max_input > LARGE_VALUE else rest).append(scale_hint)
        if self.amp:
            first.append("mixed precision (amp=True) overflowed float16: try amp=False")
        rest.append(
            "the data hold inf or huge values, or inverse variances spanning many decades "
            "(a few pixels then dominate the loss)"
        )
        return first + rest

    def _fail(self, what, epoch, batch=None):
        where = f"epoch {epoch}" + (f", batch {batch}" if batch is not None else "")
        causes = "; ".join(f"({i}) {c}" for i, c in enumerate(self.causes(), start=1))
        raise TrainingDivergedError(
            f"Training of {self.name} diverged: {what} at {where}. Likely causes: {causes}."
        )

    def on_batch_end(self, net, training=False, loss=None, **kwargs):
        if loss is None:
            return
        value = float(loss.detach()) if torch.is_tensor(loss) else float(loss)
        if not math.isfinite(value):
            batches = net.history[-1, "batches"]
            kind = "training" if training else "validation"
            self._fail(f"the {kind} loss became {value}", len(net.history), len(batches))

    def on_epoch_end(self, net, **kwargs):
        for name, param in net.module_.named_parameters():
            if not torch.isfinite(param).all():
                self._fail(f"weight {name!r} became NaN or infinite", len(net.history))
