"""One progress bar over all epochs, the loss in units a person can read, and a validation line."""

import math
import sys
from dataclasses import dataclass

from skorch.callbacks import Callback

__all__ = ["LossTerm", "TrainingProgress"]


@dataclass(frozen=True)
class LossTerm:
    """How to show one training metric: ``factor * history[f"{train|valid}_{key}"]``.

    Parameters
    ----------
    label : str
        Short name on the bar, e.g. ``"χ²/pix"``.
    key : str, default="loss"
        History key without its ``train_``/``valid_`` prefix.
    factor : float, default=1.0
        Converts the recorded value into the unit ``label`` names.
    description : str, default="the training criterion"
        One line printed before training that says what the unit is.
    """

    label: str
    key: str = "loss"
    factor: float = 1.0
    description: str = "the training criterion"


def _fmt(value):
    if value is None or not math.isfinite(value):
        return str(value)
    return f"{value:.4g}"


class TrainingProgress(Callback):
    """Progress of a skorch training run: one bar over epochs with ETA, then a validation line.

    The bar advances after every training batch and shows the epoch, the time
    elapsed and left, and the last epoch's train and validation loss in the
    units of ``terms``. Before training it prints what those units are; after,
    one line with the final and best validation loss.

    Parameters
    ----------
    terms : list of LossTerm, default=None
        What to show; the first one goes on the bar and the validation line.
        ``None`` shows the raw ``loss``.
    name : str, default="training"
        Label of the bar (the estimator's class name).
    verbose : int, default=1
        1: the bar and the summary lines; 2: also one line per epoch.
    file : file-like, default=None
        Where to write; ``None`` is ``sys.stderr``.
    """

    def __init__(self, terms=None, name="training", verbose=1, file=None):
        self.terms = terms
        self.name = name
        self.verbose = verbose
        self.file = file

    def initialize(self):
        self.bar_ = None
        self.first_epoch_ = 0
        self.total_epochs_ = None
        return self

    # -- helpers ------------------------------------------------------------
    def _terms(self):
        return list(self.terms or [LossTerm("loss")])

    def _out(self):
        return self.file if self.file is not None else sys.stderr

    def plan(self, first_epoch, total_epochs):
        """Make the bar start after ``first_epoch`` epochs done, of ``total_epochs``."""
        self.first_epoch_ = int(first_epoch)
        self.total_epochs_ = int(total_epochs)

    def _values(self, row, prefix):
        out = []
        for term in self._terms():
            value = row.get(f"{prefix}_{term.key}")
            out.append(None if value is None else term.factor * float(value))
        return out

    def _epoch_text(self, row):
        train, valid = self._values(row, "train"), self._values(row, "valid")
        parts = []
        for term, t, v in zip(self._terms(), train, valid, strict=True):
            shown = [f"{p} {_fmt(x)}" for p, x in (("train", t), ("valid", v)) if x is not None]
            if shown:
                parts.append(f"{term.label} " + ", ".join(shown))
        return "; ".join(parts)

    # -- skorch hooks -------------------------------------------------------
    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        out = self._out()
        if self.total_epochs_ is None:
            self.plan(len(net.history), len(net.history) + net.max_epochs)
        for term in self._terms():
            print(f"{self.name}: {term.label} = {term.description}", file=out)
        self.bar_ = tqdm(
            total=self.total_epochs_ - self.first_epoch_,
            file=out,
            desc=f"{self.name} epoch {self.first_epoch_}/{self.total_epochs_}",
            bar_format="{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]",
            dynamic_ncols=True,
            # a log file gets a line every 30 s, a terminal a smooth bar
            mininterval=0.2 if getattr(out, "isatty", lambda: False)() else 30.0,
            leave=True,
        )

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        n = len(dataset_train) if dataset_train is not None else 0
        batch_size = net.batch_size if net.batch_size and net.batch_size > 0 else max(n, 1)
        self.steps_ = max(1, -(-n // batch_size))

    def on_batch_end(self, net, training=False, **kwargs):
        if training and self.bar_ is not None:
            self.bar_.update(1.0 / self.steps_)

    def on_epoch_end(self, net, **kwargs):
        if self.bar_ is None:
            return
        epoch = len(net.history)
        row = net.history[-1]
        # snap to the epoch boundary: float sums of 1/steps drift
        self.bar_.n = epoch - self.first_epoch_
        self.bar_.set_description_str(f"{self.name} epoch {epoch}/{self.total_epochs_}", False)
        self.bar_.set_postfix_str(self._epoch_text(row), refresh=True)
        if self.verbose >= 2:
            self.bar_.write(
                f"{self.name} epoch {epoch}: {self._epoch_text(row)} ({row.get('dur', 0):.1f} s)",
                file=self._out(),
            )

    def on_train_end(self, net, **kwargs):
        self.close()
        if not len(net.history):
            return
        print(self.summary(net), file=self._out())

    def close(self):
        """Close the bar (also after an exception ended training)."""
        if self.bar_ is not None:
            self.bar_.close()
            self.bar_ = None

    def summary(self, net):
        """The validation line: final and best validation loss, and the final training loss."""
        history = net.history
        term = self._terms()[0]
        train = self._values(history[-1], "train")[0]
        valid_key = f"valid_{term.key}"
        valid = [
            (i + 1, term.factor * float(row[valid_key]))
            for i, row in enumerate(history)
            if row.get(valid_key) is not None
        ]
        if not valid:
            return (
                f"{self.name}: no validation set (validation_fraction=None or 0); "
                f"train {term.label} {_fmt(train)} after epoch {len(history)}"
            )
        last_epoch, last = valid[-1]
        finite = [(e, v) for e, v in valid if math.isfinite(v)]
        best_epoch, best = min(finite, key=lambda ev: ev[1]) if finite else (last_epoch, last)
        n_valid = history[-1].get("valid_batch_count")
        sizes = [b.get("valid_batch_size", 0) for b in history[-1].get("batches", [])]
        n_valid = sum(sizes) if sizes else n_valid
        return (
            f"{self.name}: validation ({n_valid} held-out samples): {term.label} {_fmt(last)} "
            f"after epoch {last_epoch} (best {_fmt(best)} at epoch {best_epoch}); "
            f"train {_fmt(train)}"
        )


def squared_error_terms(weight, variance=1.0, *, chi2=True, note=""):
    """The :class:`LossTerm` of a ``WeightedSquaredError`` loss, in χ² or variance units.

    That loss is ``½ mean(w / m · Δ²)`` over samples and pixels, with ``Δ`` the
    residual in the network's standardised units, ``w`` the weights and ``m``
    their mean over unmasked pixels.

    Parameters
    ----------
    weight : ndarray
        The weights before normalisation: inverse variances in data units⁻²
        (``chi2=True``) or a 0/1 mask.
    variance : float, default=1.0
        The square of the data unit of one standardised unit (``scale_**2``).
    chi2 : bool, default=True
        True: show the reduced χ², ``Σ ivar (x − x̂)²`` per unmasked pixel;
        False: the mean squared residual over the data's variance.
    note : str, default=""
        Appended to the description (e.g. what the loss leaves out).

    Returns
    -------
    terms : list of LossTerm
    """
    import numpy as np

    good = np.asarray(weight) > 0
    f_good = float(np.mean(good)) or 1.0
    m = float(np.mean(np.asarray(weight)[good])) if good.any() else 1.0
    if chi2:
        factor = 2.0 * m * float(variance) / f_good
        text = "reduced χ² of the fit, Σ ivar (x − x̂)² per unmasked pixel (≈ 1 at the noise level)"
        return [LossTerm("χ²/pix", "loss", factor, text + note)]
    text = (
        "mean squared residual per unmasked pixel over the data's variance about its mean "
        "(0 = perfect, 1 = no better than the mean)"
    )
    return [LossTerm("MSE/var", "loss", 2.0 / f_good, text + note)]
