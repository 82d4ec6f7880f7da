"""Display objects in scikit-learn's style; matplotlib is imported only when plotting."""

from .reconstruction import ReconstructionDisplay

__all__ = ["ReconstructionDisplay"]
