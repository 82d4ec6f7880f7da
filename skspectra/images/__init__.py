"""Estimators for astronomical images."""

from .autoencoder import ImageAutoencoder

__all__ = ["ImageAutoencoder"]
