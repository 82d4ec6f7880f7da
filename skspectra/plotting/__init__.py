"""Display objects in scikit-learn's style; matplotlib is imported only when plotting."""

from .latent import LatentDisplay
from .reconstruction import ReconstructionDisplay

__all__ = ["LatentDisplay", "ReconstructionDisplay"]
