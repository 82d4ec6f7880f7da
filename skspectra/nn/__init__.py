"""Pure PyTorch modules and losses used by the skspectra estimators (no sklearn here)."""

from .conv1d import ConvAutoencoder1d, ConvDecoder1d, ConvEncoder1d, downsampled_lengths
from .losses import WeightedSquaredError

__all__ = [
    "ConvAutoencoder1d",
    "ConvDecoder1d",
    "ConvEncoder1d",
    "WeightedSquaredError",
    "downsampled_lengths",
]
