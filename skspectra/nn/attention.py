"""Self-attention over a sequence of convolutional features (pure torch, no sklearn).

Shapes use ``B`` for the batch, ``C`` for channels and ``L`` for the length of
the (downsampled) feature sequence.
"""

import math

import torch
from torch import nn

__all__ = ["SelfAttention1d"]


class SelfAttention1d(nn.Module):
    r"""Residual multi-head self-attention across the positions of a feature map.

    Each of the ``L`` positions of a convolutional feature map (a stretch of
    the spectrum) attends to every other one, so that, for example, the depth
    of one absorption line can inform the features at another. The block is
    pre-normalised and residual,

    .. math::

        h = x + \mathrm{MHA}(\mathrm{LN}(x + p)),

    with :math:`p` a learned position embedding initialised at zero, so an
    untrained block starts close to the identity.

    Parameters
    ----------
    n_channels : int
        Channels ``C`` of the feature map (the attention's embedding size).
    length : int
        Number of positions ``L``; sets the size of the position embedding.
    n_heads : int or None, default=None
        Attention heads; must divide ``n_channels``. None takes
        ``gcd(n_channels, 4)``.
    dropout : float, default=0.0
        Dropout on the attention weights during training.

    Notes
    -----
    **Shapes.** ``forward``: ``(B, C, L)`` → ``(B, C, L)``.
    """

    def __init__(self, n_channels, length, n_heads=None, dropout=0.0):
        super().__init__()
        n_heads = math.gcd(int(n_channels), 4) if n_heads is None else int(n_heads)
        if n_channels % n_heads:
            raise ValueError(f"n_heads={n_heads} must divide n_channels={n_channels}.")
        self.position = nn.Parameter(torch.zeros(1, int(length), int(n_channels)))
        self.norm = nn.LayerNorm(int(n_channels))
        self.attention = nn.MultiheadAttention(
            int(n_channels), n_heads, dropout=dropout, batch_first=True
        )

    def forward(self, x):
        h = x.transpose(1, 2)  # (B, L, C)
        q = self.norm(h + self.position)
        a, _ = self.attention(q, q, q, need_weights=False)
        return (h + a).transpose(1, 2)
