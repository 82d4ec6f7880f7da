"""Losses (pure torch, no sklearn)."""

from torch import nn

__all__ = ["WeightedBinaryCrossEntropy", "WeightedSquaredError"]


class WeightedSquaredError(nn.Module):
    r"""Inverse-variance weighted squared error, the Gaussian negative log-likelihood.

    .. math::

        \mathcal{L} = \frac{1}{2 B L}\sum_{b, \lambda}
                      w_{b\lambda}\,(x_{b\lambda} - \hat x_{b\lambda})^2

    with :math:`w = \mathrm{ivar}` (0 for masked pixels), as in Portillo et al.
    (2020, AJ 160, 45) and spender (Melchior et al. 2023).

    Shapes
    ------
    ``y_pred``: ``(B, L)``; ``y_true``: ``(B, 2, L)`` holding the target flux
    in ``[:, 0]`` and its weights in ``[:, 1]``.
    """

    def forward(self, y_pred, y_true):
        target, weight = y_true[:, 0], y_true[:, 1]
        return 0.5 * (weight * (y_pred - target) ** 2).mean()


class WeightedBinaryCrossEntropy(nn.Module):
    r"""Weighted binary cross-entropy for targets in [0, 1] (seed 004's loss).

    .. math::

        \mathcal{L} = -\frac{1}{N}\sum w\,[x \log \hat x + (1 - x)\log(1 - \hat x)]

    with :math:`\hat x` clipped to [1e-6, 1 − 1e-6] and ``w`` 0 for masked pixels.

    Shapes
    ------
    ``y_pred``: ``(B, ...)`` probabilities; ``y_true``: ``(B, 2, ...)`` holding
    the target in ``[:, 0]`` and its weights in ``[:, 1]``.
    """

    eps = 1e-6

    def forward(self, y_pred, y_true):
        target, weight = y_true[:, 0], y_true[:, 1]
        p = y_pred.clamp(self.eps, 1 - self.eps)
        return -(weight * (target * p.log() + (1 - target) * (1 - p).log())).mean()
