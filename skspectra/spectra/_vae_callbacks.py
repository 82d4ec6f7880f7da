"""skorch callbacks of :class:`~skspectra.spectra.SpectralVAE`: KL warm-up and ELBO-term logging."""

import numpy as np
from skorch.callbacks import Callback

__all__ = ["ELBOTermsLogger", "KLWarmup"]


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
