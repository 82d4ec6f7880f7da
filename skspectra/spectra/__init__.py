"""Deep models of 1-D spectra: autoencoders for latent spaces and anomaly detection."""

from ._regions import anomalous_regions
from .cae import SpectralCAE
from .vae import SpectralVAE

__all__ = ["SpectralCAE", "SpectralVAE", "anomalous_regions"]
