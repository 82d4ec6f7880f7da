"""Losses (pure torch, no sklearn)."""

from torch import nn

__all__ = ["WeightedSquaredError"]


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
