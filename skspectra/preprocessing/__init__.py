"""Preprocessing of spectra: resampling onto a wavelength grid and normalisation."""

from .grids import bin_edges, common_wavelength_grid, log_wavelength_grid
from .images import ImageNormalizer, normalize_images
from .normalize import SpectrumNormalizer, normalize_spectra
from .resample import resample_spectra

__all__ = [
    "ImageNormalizer",
    "SpectrumNormalizer",
    "bin_edges",
    "common_wavelength_grid",
    "log_wavelength_grid",
    "normalize_images",
    "normalize_spectra",
    "resample_spectra",
]
