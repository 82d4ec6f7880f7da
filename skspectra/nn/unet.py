"""Image autoencoder with optional U-Net skip connections (pure torch, no sklearn).

Shapes use ``B`` for the batch, ``C`` for bands (channels), ``H`` × ``W`` for
the image size in pixels and ``K`` for the number of latent components.

The encoder is :class:`~skspectra.nn.conv2d.ConvEncoder2d` (seed 004's
levels of two 3×3 convolutions and 2×2 max pooling). The decoder mirrors it:
a linear layer from the latent to the coarsest map, then at each level a
bilinear interpolation to the size that encoder level had, an optional
concatenation with that level's encoder map (the U-Net skip connection) and a
:class:`~skspectra.nn.conv2d.ConvBlock2d`. Interpolating to the stored sizes,
rather than doubling, makes any ``H`` × ``W`` work, not only powers of two.
"""

import torch
from torch import nn
from torch.nn import functional as F

from .conv2d import ConvBlock2d, ConvEncoder2d

__all__ = ["ImageAutoencoder2d"]

OUTPUTS = ("linear", "sigmoid")


class ImageAutoencoder2d(nn.Module):
    """Convolutional image autoencoder, optionally a U-Net (seed 004).

    Parameters
    ----------
    in_channels : int
        Bands per image ``C``.
    image_size : tuple of int
        ``(H, W)`` in pixels; any size >= 1.
    n_components : int
        Size of the latent vector ``K``.
    n_filters : int
        Filters of the first encoder level; each of the ``depth`` levels
        doubles them (16 → 32 → 64 → 128 in seed 004).
    depth : int
        Number of encoder (and decoder) levels.
    skip_connections : bool, default=False
        Concatenate each encoder level's map to the decoder's map of the same
        size (U-Net). The reconstruction then no longer passes only through
        the ``K`` latent numbers: the skips carry the image around them, so
        :meth:`decode` alone cannot rebuild an image.
    output : {"linear", "sigmoid"}, default="linear"
        Last activation: none (for a squared-error loss on standardised
        images) or a sigmoid (for binary cross-entropy on images in [0, 1]).

    Notes
    -----
    **Shapes.** ``encode``: ``(B, C, H, W)`` → ``(B, K)``.
    ``decode``: ``(B, K)`` → ``(B, C, H, W)``; only without skip connections.
    ``forward``: ``(B, C, H, W)`` → ``(B, C, H, W)``.
    """

    def __init__(
        self,
        in_channels,
        image_size,
        n_components,
        n_filters,
        depth,
        skip_connections=False,
        output="linear",
    ):
        super().__init__()
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        self.skip_connections = bool(skip_connections)
        self.output = output
        self.in_channels = in_channels
        self.encoder = ConvEncoder2d(in_channels, image_size, n_components, n_filters, depth)
        channels = self.encoder.channels
        self.sizes = self.encoder.sizes
        self.coarse_channels = channels[-1] if depth else in_channels
        h, w = self.sizes[-1]
        self.head = nn.Linear(n_components, self.coarse_channels * h * w)
        blocks = []
        c_prev = self.coarse_channels
        for level in range(depth - 1, -1, -1):
            c_skip = channels[level] if self.skip_connections else 0
            blocks.append(ConvBlock2d(c_prev + c_skip, channels[level]))
            c_prev = channels[level]
        self.blocks = nn.ModuleList(blocks)
        self.out = nn.Conv2d(c_prev, in_channels, 1)

    def _decode_from(self, z, skips):
        h0, w0 = self.sizes[-1]
        h = self.head(z).view(z.shape[0], self.coarse_channels, h0, w0)
        levels = range(len(self.blocks) - 1, -1, -1)
        for level, block in zip(levels, self.blocks, strict=True):
            size = self.sizes[level]
            if tuple(h.shape[-2:]) != size:
                h = F.interpolate(h, size=size, mode="bilinear", align_corners=False)
            if skips is not None:
                h = torch.cat([h, skips[level]], dim=1)
            h = block(h)
        x = self.out(h)
        return torch.sigmoid(x) if self.output == "sigmoid" else x

    def encode(self, x):
        """Latent vectors ``(B, K)`` of images ``(B, C, H, W)``."""
        return self.encoder(x)

    def decode(self, z):
        """Images ``(B, C, H, W)`` from latent vectors ``(B, K)`` (no skip connections only).

        Raises
        ------
        ValueError
            If the model has skip connections: its decoder also needs the
            encoder's maps, which a latent vector does not hold.
        """
        if self.skip_connections:
            raise ValueError(
                "this autoencoder has skip connections: its decoder needs the encoder's "
                "feature maps as well as the latent vector, so it cannot decode a latent alone."
            )
        return self._decode_from(z, None)

    def forward(self, x):
        """Reconstruct images ``(B, C, H, W)`` → ``(B, C, H, W)``."""
        h, skips = self.encoder.features(x)
        z = self.encoder.head(h.flatten(1))
        return self._decode_from(z, skips if self.skip_connections else None)
