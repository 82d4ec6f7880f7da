"""Regression networks: an MLP for tabular inputs and a CNN for images (pure torch, no sklearn).

Shapes use ``B`` for the batch, ``D`` for tabular features, ``C`` for bands
(channels), ``H`` × ``W`` for the image size in pixels and ``K`` for the
number of targets.
"""

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
    hidden layers and the output layer follow, with ReLU in between.

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

    Notes
    -----
    **Shapes.** ``forward``: ``(B, C, H, W)`` → ``(B, K)``.
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
    ):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        if not hidden:
            self.encoder = ConvEncoder2d(in_channels, image_size, n_outputs, n_filters, depth)
            self.head = nn.Identity()
            return
        self.encoder = ConvEncoder2d(in_channels, image_size, hidden[0], n_filters, depth)
        self.head = nn.Sequential(
            nn.ReLU(),
            nn.Dropout(dropout) if dropout > 0 else nn.Identity(),
            MLP(hidden[0], hidden[1:], n_outputs, dropout),
        )

    def forward(self, x):
        return self.head(self.encoder(x))
