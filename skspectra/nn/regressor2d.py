"""Regression networks: an MLP for tabular inputs and a CNN for images (pure torch, no sklearn).

Shapes use ``B`` for the batch, ``D`` for tabular features, ``C`` for bands
(channels), ``H`` × ``W`` for the image size in pixels and ``K`` for the
number of targets.
"""

import torch
from torch import nn

from .conv2d import ConvEncoder2d

__all__ = ["ConvRegressor2d", "MLP"]


class MLP(nn.Sequential):
    """Fully connected network: ``Linear → ReLU → Dropout`` per hidden layer, then ``Linear``.

    Parameters
    ----------
    n_inputs : int
        Input size ``D``.
    hidden_layer_sizes : sequence of int
        Width of each hidden layer (as in sklearn's ``MLPRegressor``); empty
        gives a linear model.
    n_outputs : int
        Output size ``K``.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.

    Notes
    -----
    **Shapes.** ``forward``: ``(B, D)`` → ``(B, K)``.
    """

    def __init__(self, n_inputs, hidden_layer_sizes, n_outputs, dropout=0.0):
        layers = []
        width = n_inputs
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, n_outputs))
        super().__init__(*layers)


class ConvRegressor2d(nn.Module):
    """Images to a vector of targets: :class:`ConvEncoder2d`, then an :class:`MLP` head.

    The encoder's linear head gives ``hidden_layer_sizes[0]`` features (or
    ``n_outputs`` directly when ``hidden_layer_sizes`` is empty); the remaining
    hidden layers and the output layer follow, with ReLU in between. With
    ``apertures``, the first dense layer also reads the mean of each band over
    each aperture (aperture photometry of the input).

    Parameters
    ----------
    in_channels : int
        Bands per image ``C``.
    image_size : tuple of int
        ``(H, W)`` in pixels.
    n_outputs : int
        Number of targets ``K``.
    n_filters : int
        Filters of the encoder's first level (doubled at each level).
    depth : int
        Encoder levels (each halves ``H`` and ``W``).
    hidden_layer_sizes : sequence of int
        Widths of the dense layers after the convolutions.
    dropout : float, default=0.0
        Dropout probability after each dense hidden layer.
    apertures : array-like of shape (R, H, W) or None, default=None
        Pixel weights of ``R`` apertures, each summing to 1 (a weighted mean).
        Needs a non-empty ``hidden_layer_sizes``.

    Raises
    ------
    ValueError
        If ``apertures`` is given with empty ``hidden_layer_sizes``, or its
        shape is not ``(R, H, W)``.

    Notes
    -----
    **Shapes.** ``forward``: ``(B, C, H, W)`` → ``(B, K)``; the first dense
    layer reads ``hidden_layer_sizes[0] + C * R`` features.
    """

    def __init__(
        self,
        in_channels,
        image_size,
        n_outputs,
        n_filters,
        depth,
        hidden_layer_sizes,
        dropout=0.0,
        apertures=None,
    ):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.register_buffer("apertures", _aperture_buffer(apertures, image_size, hidden))
        if not hidden:
            self.encoder = ConvEncoder2d(in_channels, image_size, n_outputs, n_filters, depth)
            self.head = nn.Identity()
            return
        self.encoder = ConvEncoder2d(in_channels, image_size, hidden[0], n_filters, depth)
        n_photometry = 0 if self.apertures is None else in_channels * len(self.apertures)
        self.head = nn.Sequential(
            nn.ReLU() if self.apertures is None else nn.Identity(),
            nn.Dropout(dropout) if dropout > 0 else nn.Identity(),
            MLP(hidden[0] + n_photometry, hidden[1:], n_outputs, dropout),
        )

    def forward(self, x):
        features = self.encoder(x)
        if self.apertures is None:
            return self.head(features)
        photometry = torch.einsum("bchw,rhw->brc", x, self.apertures).flatten(1)
        return self.head(torch.cat([torch.relu(features), photometry], dim=1))


def _aperture_buffer(apertures, image_size, hidden):
    """``apertures`` as a float32 tensor of shape (R, H, W), checked; None stays None."""
    if apertures is None:
        return None
    weights = torch.as_tensor(apertures, dtype=torch.float32)
    if weights.ndim != 3 or tuple(weights.shape[1:]) != tuple(image_size):
        raise ValueError(
            f"apertures must have shape (n_apertures, {image_size[0]}, {image_size[1]}), "
            f"got {tuple(weights.shape)}."
        )
    if not hidden:
        raise ValueError(
            "apertures join the first dense layer; give at least one hidden layer in "
            "hidden_layer_sizes."
        )
    return weights
