"""Image models and image tools: autoencoders for images, and regression from images (or
photometry) to targets and spectra."""

from .autoencoder import ImageAutoencoder
from .image_to_spectrum import ImageToSpectrum
from .photometry import aperture_photometry
from .regressor import ImageRegressor

__all__ = ["ImageAutoencoder", "ImageRegressor", "ImageToSpectrum", "aperture_photometry"]
