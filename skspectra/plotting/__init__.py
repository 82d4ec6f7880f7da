"""Display objects in scikit-learn's style; matplotlib is imported only when plotting."""

from .images import ImageReconstructionDisplay
from .latent import LatentDisplay
from .reconstruction import ReconstructionDisplay

__all__ = ["ImageReconstructionDisplay", "LatentDisplay", "ReconstructionDisplay"]
