"""2-D convolutional building blocks for images (pure torch, no sklearn).

Shapes use ``B`` for the batch, ``C`` for bands (channels), ``H`` × ``W`` for
the image size in pixels and ``K`` for the number of outputs.

The blocks follow the U-Net of seed 004 (two 3×3 convolutions per level, 2×2
max pooling, filters doubled at each level), with one change: GroupNorm
instead of BatchNorm, so that a last batch of one image, or a 1×1 map at the
coarsest level, never breaks training.
"""

import math

import torch
from torch import nn

__all__ = ["ConvBlock2d", "ConvEncoder2d", "pooled_sizes"]


def pooled_sizes(image_size, depth):
    """``(H, W)`` after each 2×2 max pooling (floor), starting with ``image_size``.

    A map with a side of 1 pixel is not pooled any further.
    """
    sizes = [tuple(int(s) for s in image_size)]
    for _ in range(depth):
        h, w = sizes[-1]
        sizes.append((h // 2, w // 2) if min(h, w) >= 2 else (h, w))
    return sizes


class _GroupNorm(nn.GroupNorm):
    """``nn.GroupNorm`` that accepts a group of one value (a batch of one 1×1 map).

    torch refuses to normalise a single value in training ("Expected more than 1 value per
    channel"); its normalised value is 0 whatever the input, so the output is the bias, as
    torch itself gives for the same map in a larger batch.
    """

    def forward(self, x):
        if x.shape[0] * (x.shape[1] // self.num_groups) * x.shape[2:].numel() == 1:
            bias = self.bias if self.affine else torch.zeros(x.shape[1], dtype=x.dtype)
            return x * 0 + bias.view(1, -1, *([1] * (x.dim() - 2)))
        return super().forward(x)


def _group_norm(channels):
    """GroupNorm with up to 8 groups that divide ``channels``."""
    return _GroupNorm(math.gcd(8, channels), channels)


class ConvBlock2d(nn.Sequential):
    """Two 3×3 convolutions, each followed by GroupNorm and ReLU (seed 004's block).

    Notes
    -----
    **Shapes.** ``forward``: ``(B, c_in, H, W)`` → ``(B, c_out, H, W)``.
    """

    def __init__(self, c_in, c_out):
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1),
            _group_norm(c_out),
            nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, padding=1),
            _group_norm(c_out),
            nn.ReLU(),
        )


class ConvEncoder2d(nn.Module):
    """Encode images into ``n_outputs`` numbers: ``depth`` levels of block + 2×2 max pooling.

    Parameters
    ----------
    in_channels : int
        Bands per image ``C``.
    image_size : tuple of int
        ``(H, W)`` in pixels.
    n_outputs : int
        Size of the output vector (a latent size, or a number of regression targets).
    n_filters : int
        Filters of the first level; each of the ``depth`` levels doubles them
        (16 → 32 → 64 → 128 in seed 004).
    depth : int
        Number of levels, each halving ``H`` and ``W``.

    Attributes
    ----------
    channels : list of int
        Filters per level.
    sizes : list of tuple
        ``(H, W)`` at the input of each level, then after the last pooling.

    Notes
    -----
    **Shapes.** ``forward``: ``(B, C, H, W)`` → ``(B, n_outputs)``.
    ``features``: ``(B, C, H, W)`` → ``(h, skips)``: the pooled map
    ``(B, channels[-1], *sizes[-1])`` and the list of each level's map before
    pooling (for skip connections).
    """

    def __init__(self, in_channels, image_size, n_outputs, n_filters, depth):
        super().__init__()
        for name, value in dict(
            in_channels=in_channels, n_outputs=n_outputs, n_filters=n_filters
        ).items():
            if value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.channels = [n_filters * 2**i for i in range(depth)]
        self.sizes = pooled_sizes(image_size, depth)
        c_in = [in_channels, *self.channels[:-1]]
        self.blocks = nn.ModuleList(
            ConvBlock2d(a, b) for a, b in zip(c_in, self.channels, strict=True)
        )
        self.pool = nn.MaxPool2d(2, ceil_mode=False)
        c_last = self.channels[-1] if depth else in_channels
        self.head = nn.Linear(c_last * self.sizes[-1][0] * self.sizes[-1][1], n_outputs)

    def features(self, x):
        skips = []
        for block in self.blocks:
            x = block(x)
            skips.append(x)
            if min(x.shape[-2:]) >= 2:
                x = self.pool(x)
        return x, skips

    def forward(self, x):
        h, _ = self.features(x)
        return self.head(h.flatten(1))
