"""Image models and image tools."""

from .photometry import aperture_photometry

__all__ = ["aperture_photometry"]
