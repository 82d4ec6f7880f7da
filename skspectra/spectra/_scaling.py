"""Standardisation of spectra before a network sees them."""

import numpy as np

__all__ = ["StandardizationMixin"]


class StandardizationMixin:
    """Centre spectra on the mean training spectrum and divide by one global scale.

    Centring lets the network spend its capacity on how spectra differ,
    rather than on their common shape, as PCA does.
    """

    def _fit_standardization(self, X, weight):
        """Set ``mean_`` (ivar-weighted mean spectrum) and ``scale_`` (one number)."""
        # pixels masked in every spectrum fall back to the plain mean
        has_weight = np.any(weight > 0, axis=0)
        w = np.where(has_weight, weight, 1.0)
        mean = np.sum(w * X, axis=0) / np.sum(w, axis=0)
        self.mean_ = mean
        # over unmasked pixels only: masked flux must not matter
        scale = float(np.std((X - mean)[weight > 0]))
        self.scale_ = scale if scale > 0 else 1.0

    def _standardize(self, X, ivar=None):
        """``(X - mean_) / scale_``, with masked pixels (``ivar == 0``) set to 0.

        The network never sees the flux of a masked pixel: it sees the mean
        spectrum there, so garbage under a mask cannot leak into the latents.
        """
        Xs = (X - self.mean_) / self.scale_
        return Xs if ivar is None else np.where(ivar > 0, Xs, 0.0)

    def _unstandardize(self, Xs):
        return Xs * self.scale_ + self.mean_
