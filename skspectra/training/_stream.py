"""A learning-rate schedule that spans a stream of ``partial_fit`` calls."""

import math

from skorch.callbacks import Callback

__all__ = ["StreamLRSchedule", "stream_lr_factor"]

#: One-cycle constants, those of :class:`torch.optim.lr_scheduler.OneCycleLR`'s defaults:
#: the warm-up takes ``ONECYCLE_PCT_START`` of the stream and starts at ``lr / ONECYCLE_DIV``;
#: the annealing ends at ``lr / (ONECYCLE_DIV * ONECYCLE_FINAL_DIV)``.
ONECYCLE_PCT_START = 0.3
ONECYCLE_DIV = 25.0
ONECYCLE_FINAL_DIV = 1e4


def _cos_anneal(start, end, fraction):
    return end + (start - end) / 2.0 * (1.0 + math.cos(math.pi * fraction))


def stream_lr_factor(policy, position):
    """The learning rate, as a fraction of ``lr``, at ``position`` along the planned stream.

    Parameters
    ----------
    policy : {"constant", "cosine", "onecycle"}
        The estimator's ``lr_schedule``.
    position : float
        Epochs trained so far over the epochs planned (0 at the start, 1 at the end).
        Beyond 1 the schedule stays at its final value.

    Returns
    -------
    factor : float
        ``"constant"``: 1. ``"cosine"``: ``(1 + cos(π t)) / 2``, as
        :class:`~torch.optim.lr_scheduler.CosineAnnealingLR` to 0. ``"onecycle"``: a
        cosine warm-up from ``1/25`` to 1 over the first 30 %, then a cosine
        annealing to ``1/(25·10⁴)``, as :class:`~torch.optim.lr_scheduler.OneCycleLR`
        (without its momentum cycling).
    """
    t = min(max(float(position), 0.0), 1.0)
    if policy == "cosine":
        return _cos_anneal(1.0, 0.0, t)
    if policy == "onecycle":
        low = 1.0 / ONECYCLE_DIV
        if t <= ONECYCLE_PCT_START:
            return _cos_anneal(low, 1.0, t / ONECYCLE_PCT_START)
        rest = (t - ONECYCLE_PCT_START) / (1.0 - ONECYCLE_PCT_START)
        return _cos_anneal(1.0, low / ONECYCLE_FINAL_DIV, rest)
    return 1.0


def _base_lr(group):
    """A parameter group's base learning rate, recorded on first use: the peak of a one-cycle
    schedule that ``fit`` ran (``max_lr``), else the start of another torch schedule
    (``initial_lr``), else its learning rate."""
    if "stream_base_lr" not in group:
        group["stream_base_lr"] = group.get("max_lr", group.get("initial_lr", group["lr"]))
    return group["stream_base_lr"]


class StreamLRSchedule(Callback):
    """Set each batch's learning rate from its position along a stream of ``partial_fit`` calls.

    ``fit`` schedules the learning rate over its own ``max_epochs``; with
    ``partial_fit`` each call is a few epochs of a longer run, so the schedule
    is planned over ``total_epochs`` epochs counted across calls. The count
    lives on the net (``net.stream_epochs_``), so it survives pickling.

    Parameters
    ----------
    policy : {"constant", "cosine", "onecycle"}
        See :func:`stream_lr_factor`.
    total_epochs : int
        Epochs (one per ``partial_fit`` call, by default) the schedule spans.
    steps_per_epoch : int
        Training batches in one epoch of this call; positions within an epoch
        advance by ``1 / steps_per_epoch`` per batch.

    Notes
    -----
    Each optimizer parameter group keeps its own base learning rate, so
    groups trained at a multiple of ``lr`` keep that ratio.
    """

    def __init__(self, policy, total_epochs, steps_per_epoch):
        self.policy = policy
        self.total_epochs = total_epochs
        self.steps_per_epoch = steps_per_epoch

    def initialize(self):
        self.epoch_ = 0.0
        self.batch_ = 0
        return self

    def on_train_begin(self, net, **kwargs):
        self.epoch_ = float(getattr(net, "stream_epochs_", 0))

    def on_epoch_begin(self, net, **kwargs):
        self.batch_ = 0

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        position = (self.epoch_ + self.batch_ / max(self.steps_per_epoch, 1)) / self.total_epochs
        factor = stream_lr_factor(self.policy, position)
        for name in net._optimizers:
            for group in getattr(net, name + "_").param_groups:
                group["lr"] = _base_lr(group) * factor
        self.batch_ += 1

    def on_epoch_end(self, net, **kwargs):
        self.epoch_ += 1.0
        net.stream_epochs_ = int(self.epoch_)
        optimizer = getattr(net, net._optimizers[0] + "_")
        net.history.record("event_lr", optimizer.param_groups[0]["lr"])
