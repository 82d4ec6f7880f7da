"""skspectra: scikit-learn estimators for deep models of astronomical spectra and images.

Each model is an ordinary scikit-learn estimator that trains a PyTorch module
through skorch. Heavy imports (matplotlib) happen only when a plot is asked for.
"""

from .images import ImageAutoencoder, ImageRegressor, ImageToSpectrum
from .lines import GaussianLineFitter
from .pipeline import SpectralPipeline, make_spectral_pipeline
from .spectra import SpectralCAE, SpectralVAE

__version__ = "0.1.0.dev0"

__all__ = [
    "GaussianLineFitter",
    "ImageAutoencoder",
    "ImageRegressor",
    "ImageToSpectrum",
    "SpectralCAE",
    "SpectralPipeline",
    "SpectralVAE",
    "__version__",
    "make_spectral_pipeline",
]
