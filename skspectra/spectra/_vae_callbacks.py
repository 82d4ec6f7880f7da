"""skorch callbacks of :class:`~skspectra.spectra.SpectralVAE`: KL warm-up, ELBO-term logging,
early stopping on the validation objective."""

from copy import deepcopy

import numpy as np
from skorch.callbacks import Callback, EarlyStopping

__all__ = ["ELBOTermsLogger", "KLWarmup", "ObjectiveLogger", "ValidEarlyStopping"]


class KLWarmup(Callback):
    """Raise the KL weight ``beta`` of the criterion linearly at the start of each epoch.

    At epoch ``e`` (1-based) the criterion's ``beta`` becomes
    ``beta * min(1, (e - 1) / n_epochs)``: 0 in the first epoch (a plain
    autoencoder, which lets the decoder learn before the KL term pulls the
    posteriors onto the prior), ``beta`` from epoch ``n_epochs + 1`` on. This
    avoids posterior collapse early in training (Bowman et al. 2016). The
    value is recorded in the history as ``beta``.

    Parameters
    ----------
    beta : float
        Final KL weight.
    n_epochs : int
        Length of the warm-up, in epochs (>= 1).
    """

    def __init__(self, beta, n_epochs):
        self.beta = beta
        self.n_epochs = n_epochs

    def beta_at(self, epoch):
        """KL weight at ``epoch`` (1-based)."""
        return float(self.beta) * min(1.0, (epoch - 1) / self.n_epochs)

    def on_epoch_begin(self, net, **kwargs):
        beta = self.beta_at(len(net.history))
        net.criterion_.beta = beta
        net.history.record("beta", beta)


class ELBOTermsLogger(Callback):
    """Record the two terms of the VAE loss, per epoch, in the history.

    It reads ``last_nll`` and ``last_kl`` of the criterion (a
    :class:`~skspectra.nn.VAELoss`) after every batch and writes their
    sample-weighted epoch means as ``train_nll``/``train_kl`` and, with a
    validation set, ``valid_nll``/``valid_kl`` (nats per spectrum). A KL near
    zero means the latents carry no information (posterior collapse).
    """

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        prefix = "train" if training else "valid"
        net.history.record_batch(f"{prefix}_nll", net.criterion_.last_nll)
        net.history.record_batch(f"{prefix}_kl", net.criterion_.last_kl)

    def on_epoch_end(self, net, **kwargs):
        batches = net.history[-1, "batches"]
        for prefix in ("train", "valid"):
            rows = [b for b in batches if f"{prefix}_kl" in b]
            if not rows:
                continue
            sizes = np.array([b[f"{prefix}_batch_size"] for b in rows], dtype=float)
            for term in ("nll", "kl"):
                values = np.array([b[f"{prefix}_{term}"] for b in rows], dtype=float)
                net.history.record(f"{prefix}_{term}", float(np.average(values, weights=sizes)))


class ObjectiveLogger(Callback):
    """Record ``valid_objective``: the validation loss at the final KL weight ``beta``.

    During a KL warm-up ``valid_loss`` is computed with a growing ``beta`` and rises
    even while the model improves; ``valid_nll + beta * valid_kl`` does not, so early
    stopping can watch it from the first epoch. It runs after
    :class:`ELBOTermsLogger`, whose ``valid_nll`` and ``valid_kl`` it reads.

    Parameters
    ----------
    beta : float
        Final KL weight.
    """

    def __init__(self, beta):
        self.beta = beta

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        if "valid_nll" in row and "valid_kl" in row:
            objective = row["valid_nll"] + float(self.beta) * row["valid_kl"]
            net.history.record("valid_objective", objective)


class ValidEarlyStopping(EarlyStopping):
    """skorch's :class:`~skorch.callbacks.EarlyStopping` on ``valid_objective``, where the
    untrained model competes too.

    Before the first epoch it scores the initial module on the validation split
    (``valid_nll + beta * valid_kl``, as :class:`ObjectiveLogger` does) and counts it as
    epoch 0. With a PCA-initialised module and ``load_best=True``, training then ends on
    a model whose validation objective is no worse than the linear model it started
    from. With ``validation_fraction=None`` (or too few spectra to split) the monitored
    key is never recorded, and training simply runs ``max_epochs`` epochs.

    Parameters
    ----------
    beta : float
        Final KL weight.
    **kwargs
        Passed to :class:`~skorch.callbacks.EarlyStopping`.
    """

    def __init__(self, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.beta = beta

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self.initial_score_ = None
        if X is None or y is None:
            return
        _, dataset_valid = net.get_split_datasets(X, y)
        if dataset_valid is None:
            return
        self.initial_score_ = self._score(net, dataset_valid)
        self.dynamic_threshold_ = self._calc_new_threshold(self.initial_score_)
        self.best_epoch_ = 0
        if self.load_best:
            self.best_model_weights_ = deepcopy(net.module_.state_dict())

    def _score(self, net, dataset):
        criterion, beta = net.criterion_, net.criterion_.beta
        total, count = 0.0, 0
        try:
            for batch in net.get_iterator(dataset, training=False):
                Xi, yi = batch
                y_pred = net.evaluation_step(batch, training=False)
                criterion(y_pred, yi.to(net.device))
                n = len(yi)
                total += n * (criterion.last_nll + float(self.beta) * criterion.last_kl)
                count += n
        finally:
            criterion.beta = beta
        return total / count

    def on_epoch_end(self, net, **kwargs):
        if self.monitor in net.history[-1]:
            super().on_epoch_end(net, **kwargs)
