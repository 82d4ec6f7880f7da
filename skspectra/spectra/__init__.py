"""Deep models of 1-D spectra: autoencoders for latent spaces and anomaly detection."""

from ._regions import anomalous_regions
from .cae import SpectralCAE

__all__ = ["SpectralCAE", "anomalous_regions"]
