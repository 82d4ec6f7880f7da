"""Pure PyTorch modules and losses used by the skspectra estimators (no sklearn here)."""

from .attention import SelfAttention1d
from .conv1d import ConvAutoencoder1d, ConvDecoder1d, ConvEncoder1d, downsampled_lengths
from .conv2d import ConvBlock2d, ConvEncoder2d, pooled_sizes
from .lines import (
    DenseLineLoss,
    GaussianLineDetector,
    GaussianLineLoss,
    GaussianLineNet,
    MultiScaleRegressor1d,
)
from .losses import WeightedBinaryCrossEntropy, WeightedSquaredError
from .regressor2d import MLP, ConvRegressor2d
from .unet import ImageAutoencoder2d
from .vae import ConvVAE1d, VAELoss, gaussian_kl, pixel_nll

__all__ = [
    "ConvAutoencoder1d",
    "ConvBlock2d",
    "ConvDecoder1d",
    "ConvEncoder1d",
    "ConvEncoder2d",
    "ConvRegressor2d",
    "ConvVAE1d",
    "DenseLineLoss",
    "GaussianLineDetector",
    "GaussianLineLoss",
    "GaussianLineNet",
    "MLP",
    "ImageAutoencoder2d",
    "MultiScaleRegressor1d",
    "SelfAttention1d",
    "VAELoss",
    "WeightedBinaryCrossEntropy",
    "WeightedSquaredError",
    "downsampled_lengths",
    "gaussian_kl",
    "pixel_nll",
    "pooled_sizes",
]
