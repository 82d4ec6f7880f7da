"""Image models and image tools: regression from images (or photometry) to targets and spectra."""

from .image_to_spectrum import ImageToSpectrum
from .photometry import aperture_photometry
from .regressor import ImageRegressor

__all__ = ["ImageRegressor", "ImageToSpectrum", "aperture_photometry"]
