"""1-D convolutional encoder and decoder for spectra (pure torch, no sklearn).

Shapes use ``B`` for the batch, ``L`` for the number of wavelength pixels and
``K`` for the number of latent components.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["ConvDecoder1d", "ConvEncoder1d", "downsampled_lengths"]


def downsampled_lengths(n_features, depth, kernel_size):
    """Spectrum length after each stride-2 convolution, starting with ``n_features``.

    A stride-2 convolution with padding ``kernel_size // 2`` maps a length
    ``L`` to ``floor((L + 2 * (kernel_size // 2) - kernel_size) / 2) + 1``,
    which is ``ceil(L / 2)`` for odd kernels and never drops below 1.
    """
    lengths = [int(n_features)]
    pad = kernel_size // 2
    for _ in range(depth):
        lengths.append(max(1, (lengths[-1] + 2 * pad - kernel_size) // 2 + 1))
    return lengths


def _channels(n_filters, depth):
    """Filters per level: ``n_filters`` doubled at each downsampling."""
    return [n_filters * 2**i for i in range(depth)]


def _conv_block(c_in, c_out, kernel_size, stride=1):
    pad = "same" if stride == 1 else kernel_size // 2
    return nn.Sequential(nn.Conv1d(c_in, c_out, kernel_size, stride=stride, padding=pad), nn.GELU())


class ConvEncoder1d(nn.Module):
    """Encode spectra into ``n_outputs`` numbers with strided 1-D convolutions.

    Parameters
    ----------
    n_features : int
        Number of wavelength pixels ``L``; any length >= 1 works.
    n_outputs : int
        Size of the output vector (the latent size, or twice it for a VAE).
    n_filters : int
        Filters of the first level; each of the ``depth`` levels doubles them.
    depth : int
        Number of stride-2 downsampling levels.
    kernel_size : int
        Convolution kernel size in pixels (odd).

    Notes
    -----
    **Shapes.** ``forward``: ``(B, L)`` → ``(B, n_outputs)``.
    """

    def __init__(self, n_features, n_outputs, n_filters, depth, kernel_size):
        super().__init__()
        channels = [1, *_channels(n_filters, depth)]
        self.lengths = downsampled_lengths(n_features, depth, kernel_size)
        self.features = nn.Sequential(
            *(
                nn.Sequential(
                    _conv_block(channels[i], channels[i + 1], kernel_size),
                    _conv_block(channels[i + 1], channels[i + 1], kernel_size, stride=2),
                )
                for i in range(depth)
            )
        )
        self.head = nn.Linear(channels[-1] * self.lengths[-1], n_outputs)

    def forward(self, x):
        h = self.features(x.unsqueeze(1))  # (B, C, L_depth)
        return self.head(h.flatten(1))


class ConvDecoder1d(nn.Module):
    """Decode ``n_inputs`` numbers into spectra of ``n_features`` pixels.

    It mirrors :class:`ConvEncoder1d`: a linear layer to the coarsest level,
    then at each level an interpolation to the encoder's length at that level
    followed by a convolution, and a last linear convolution to one channel.

    Parameters
    ----------
    n_features, n_filters, depth, kernel_size : int
        As for :class:`ConvEncoder1d`.
    n_inputs : int
        Size of the latent vector.

    Notes
    -----
    **Shapes.** ``forward``: ``(B, n_inputs)`` → ``(B, L)``.
    """

    def __init__(self, n_features, n_inputs, n_filters, depth, kernel_size):
        super().__init__()
        channels = _channels(n_filters, depth)
        self.lengths = downsampled_lengths(n_features, depth, kernel_size)
        self.n_coarse = channels[-1]
        self.head = nn.Linear(n_inputs, channels[-1] * self.lengths[-1])
        ups = []
        for level in range(depth, 0, -1):
            c_in = channels[level - 1]
            c_out = channels[max(level - 2, 0)]
            ups.append(_conv_block(c_in, c_out, kernel_size))
        self.ups = nn.ModuleList(ups)
        self.out = nn.Conv1d(channels[0], 1, kernel_size, padding="same")

    def forward(self, z):
        h = self.head(z).view(z.shape[0], self.n_coarse, self.lengths[-1])
        for level, block in zip(range(len(self.ups), 0, -1), self.ups, strict=True):
            h = F.interpolate(h, size=self.lengths[level - 1], mode="linear", align_corners=False)
            h = block(h)
        return self.out(h).squeeze(1)


def _check_positive(**kwargs):
    for name, value in kwargs.items():
        if value < 1 or math.floor(value) != value:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


class ConvAutoencoder1d(nn.Module):
    """Convolutional autoencoder: :class:`ConvEncoder1d` then :class:`ConvDecoder1d`.

    With ``linear_basis`` (``K`` orthonormal rows, for example the first ``K``
    principal components of the training spectra) it also has a linear path,
    ``z = z_conv + V x`` and ``x̂ = x̂_conv + Vᵀ z``, and the last layer of each
    convolutional path starts at zero: training then starts from the linear
    model's reconstruction (PCA's, for principal components) and the
    convolutions learn the non-linear correction.

    Notes
    -----
    **Shapes.** ``encode``: ``(B, L)`` → ``(B, K)``; ``decode``: ``(B, K)`` → ``(B, L)``;
    ``forward``: ``(B, L)`` → ``(B, L)``; ``linear_basis``: ``(K, L)``.
    """

    def __init__(
        self, n_features, n_components, n_filters=16, depth=3, kernel_size=5, linear_basis=None
    ):
        super().__init__()
        _check_positive(n_features=n_features, n_components=n_components, n_filters=n_filters)
        self.encoder = ConvEncoder1d(n_features, n_components, n_filters, depth, kernel_size)
        self.decoder = ConvDecoder1d(n_features, n_components, n_filters, depth, kernel_size)
        self.linear_encoder = self.linear_decoder = None
        if linear_basis is not None:
            basis = torch.as_tensor(linear_basis, dtype=torch.float32)
            if basis.shape != (n_components, n_features):
                raise ValueError(
                    f"linear_basis must have shape (n_components, n_features) = "
                    f"({n_components}, {n_features}), got {tuple(basis.shape)}"
                )
            self.linear_encoder = nn.Linear(n_features, n_components, bias=False)
            self.linear_decoder = nn.Linear(n_components, n_features, bias=False)
            with torch.no_grad():
                self.linear_encoder.weight.copy_(basis)
                self.linear_decoder.weight.copy_(basis.T)
                for layer in (self.encoder.head, self.decoder.out):
                    layer.weight.zero_()
                    layer.bias.zero_()

    def encode(self, x):
        z = self.encoder(x)
        return z if self.linear_encoder is None else z + self.linear_encoder(x)

    def decode(self, z):
        x = self.decoder(z)
        return x if self.linear_decoder is None else x + self.linear_decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))
