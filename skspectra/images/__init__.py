"""Estimators for images: regression from images (or photometry) to targets and to spectra."""

from .image_to_spectrum import ImageToSpectrum
from .regressor import ImageRegressor

__all__ = ["ImageRegressor", "ImageToSpectrum"]
