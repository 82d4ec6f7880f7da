"""Residual-based anomaly scores shared by the spectral autoencoders (SpectralCAE, SpectralVAE)."""

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from ..base import check_ivar
from ._noise import fit_pixel_noise, spectrum_noise

__all__ = ["ReconstructionMixin"]


class ReconstructionMixin:
    """Residual-based scores for an estimator with ``reconstruct(X)``.

    It needs ``_reconstruct`` (on validated arrays), ``residual_scale_`` (set
    by :meth:`_fit_residual_scale`), ``_validate_X``, and a module with
    ``decode`` for :meth:`inverse_transform`. An estimator with a ``noise``
    parameter can set it to ``"estimate"`` to use ``ivar`` only as a mask.

    Without ivar the noise is estimated from the residuals themselves, as
    ``sigma_ij = a_i * b_j`` (see :mod:`skspectra.spectra._noise`): ``b_j =
    residual_scale_`` is fitted on the training residuals, and ``a_i``, the
    spectrum's own noise level, is the median over its pixels of
    ``|r_ij| / b_j`` (divided by 0.6745), so that a narrow feature cannot
    inflate it.
    """

    def _fit_residual_scale(self, X, ivar=None):
        mask = None if ivar is None else ivar > 0
        self.residual_scale_ = fit_pixel_noise(X - self._reconstruct(X, ivar), mask)

    def _uses_ivar_as_sigma(self, ivar):
        return ivar is not None and getattr(self, "noise", "auto") != "estimate"

    def inverse_transform(self, X):
        """Decode latent vectors into spectra.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent vectors, as returned by :meth:`transform`.

        Returns
        -------
        flux : ndarray of shape (n_samples, n_wavelengths)
            In the units of the training flux.

        Raises
        ------
        ValueError
            If ``X`` does not have ``n_components`` columns.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=np.float64)
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"inverse_transform expects latent vectors with {self.n_components} "
                f"columns (n_components), got {Z.shape[1]}."
            )
        return self._unstandardize(self._infer(lambda m, z: m.decode(z), Z))

    def anomaly_map(self, X, ivar=None):
        """Per-pixel reconstruction residual in units of its uncertainty (σ).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X`` in flux⁻² (0 = masked). With it the
            residual is ``(x - x̂) * sqrt(ivar)``, and 0 at masked pixels.
            Without it (or with ``noise="estimate"``, where ivar is only a
            mask) the residual is divided by the noise estimated from the
            residuals, ``a_i * residual_scale_``: the spectrum's own robust
            noise level times the per-pixel shape fitted in training.

        Returns
        -------
        z : ndarray of shape (n_samples, n_wavelengths)
            Signed residual in σ; positive where the spectrum is above its
            reconstruction (emission), negative below (absorption, drop-out).

        Raises
        ------
        ValueError
            If ``X`` does not have the training number of pixels, or ``ivar``
            does not match ``X``.
        """
        X, ivar = self._validate_flux(X, ivar)
        residual = X - self._reconstruct(X, ivar)
        if self._uses_ivar_as_sigma(ivar):
            return residual * np.sqrt(ivar)
        mask = None if ivar is None else ivar > 0
        sigma = spectrum_noise(residual, self.residual_scale_, mask)[:, None] * self.residual_scale_
        z = residual / sigma
        return z if mask is None else np.where(mask, z, 0.0)

    def score_samples(self, X, ivar=None):
        """Normality score: minus the χ² of the worst-fitted pixels of the reconstruction.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X`` (0 = masked). Without it, the noise is
            estimated from the residuals (see :meth:`anomaly_map`).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``-mean(z**2)`` over the ``n_top_pixels`` largest ``z**2`` of each
            spectrum, ``z = anomaly_map(X, ivar)``; with ``n_top_pixels=None``,
            over all unmasked pixels (the reduced χ²). The lower, the more
            abnormal (sklearn convention).
        """
        return self._residual_scores(X, ivar)

    def _residual_scores(self, X, ivar=None):
        z2 = self.anomaly_map(X, ivar=ivar) ** 2
        k = getattr(self, "n_top_pixels", None)
        if k is not None:
            k = min(k, z2.shape[1])
            return -np.mean(-np.partition(-z2, k - 1, axis=1)[:, :k], axis=1)
        if ivar is None:
            return -np.mean(z2, axis=1)
        n_used = np.count_nonzero(check_ivar(ivar, z2) > 0, axis=1)
        return -np.sum(z2, axis=1) / n_used

    def score(self, X, y=None, ivar=None):
        """Mean reconstruction quality, for model selection (higher is better).

        Unlike :meth:`score_samples`, this does not divide by the model's own
        training residual spread, so models with different hyper-parameters
        (for example in :class:`~sklearn.model_selection.GridSearchCV`) are
        compared on the same scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        y : None
            Ignored.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance (0 = masked); weights the squared residuals.

        Returns
        -------
        score : float
            Minus the (ivar-weighted) mean squared reconstruction residual.
        """
        X, ivar = self._validate_flux(X, ivar)
        weight = check_ivar(ivar, X)
        residual = X - self._reconstruct(X, weight)
        return -float(np.sum(weight * residual**2) / np.sum(weight > 0))
