"""Losses (pure torch, no sklearn)."""

import math

from torch import nn

__all__ = ["WeightedBinaryCrossEntropy", "WeightedSquaredError"]


class WeightedSquaredError(nn.Module):
    r"""Inverse-variance weighted squared error, the Gaussian negative log-likelihood.

    .. math::

        \mathcal{L} = \frac{1}{2 B L}\sum_{b, \lambda}
                      w_{b\lambda}\,(x_{b\lambda} - \hat x_{b\lambda})^2

    with :math:`w = \mathrm{ivar}` (0 for masked pixels), as in Portillo et al.
    (2020, AJ 160, 45) and spender (Melchior et al. 2023).

    With ``trim_fraction > 0`` it is a trimmed loss (least trimmed squares,
    Rousseeuw 1984, per batch): the ``ceil(trim_fraction * B)`` spectra of the
    batch with the largest loss are left out, so that anomalies in the
    training set are not learned.

    Parameters
    ----------
    trim_fraction : float in [0, 0.5), default=0
        Fraction of each batch's worst-fitted spectra left out of the loss.

    Notes
    -----
    **Shapes.** ``y_pred``: ``(B, L)``; ``y_true``: ``(B, 2, L)`` holding the target flux
    in ``[:, 0]`` and its weights in ``[:, 1]``.
    """

    def __init__(self, trim_fraction=0.0):
        super().__init__()
        if not 0 <= trim_fraction < 0.5:
            raise ValueError(f"trim_fraction must be in [0, 0.5), got {trim_fraction!r}")
        self.trim_fraction = trim_fraction

    def forward(self, y_pred, y_true):
        target, weight = y_true[:, 0], y_true[:, 1]
        per_spectrum = 0.5 * (weight * (y_pred - target) ** 2).mean(dim=1)
        n_drop = math.ceil(self.trim_fraction * per_spectrum.shape[0])
        if n_drop and per_spectrum.shape[0] > n_drop:
            per_spectrum = per_spectrum.topk(per_spectrum.shape[0] - n_drop, largest=False).values
        return per_spectrum.mean()


class WeightedBinaryCrossEntropy(nn.Module):
    r"""Weighted binary cross-entropy for targets in [0, 1] (seed 004's loss).

    .. math::

        \mathcal{L} = -\frac{1}{N}\sum w\,[x \log \hat x + (1 - x)\log(1 - \hat x)]

    with :math:`\hat x` clipped to [1e-6, 1 − 1e-6] and ``w`` 0 for masked pixels.

    Notes
    -----
    **Shapes.** ``y_pred``: ``(B, ...)`` probabilities; ``y_true``: ``(B, 2, ...)`` holding
    the target in ``[:, 0]`` and its weights in ``[:, 1]``.
    """

    eps = 1e-6

    def forward(self, y_pred, y_true):
        target, weight = y_true[:, 0], y_true[:, 1]
        p = y_pred.clamp(self.eps, 1 - self.eps)
        return -(weight * (target * p.log() + (1 - target) * (1 - p).log())).mean()
