"""Outlier-detection conventions shared by the spectral autoencoders.

They follow :class:`sklearn.ensemble.IsolationForest`: ``score_samples`` is
higher for more normal spectra, ``decision_function = score_samples -
offset_`` and ``predict`` returns +1 for inliers and -1 for outliers.
"""

from numbers import Real

import numpy as np
from sklearn.base import OutlierMixin
from sklearn.utils._param_validation import Interval, StrOptions

__all__ = ["ContaminationMixin", "robust_scale"]

#: Tukey's box-plot fence: outliers lie below Q1 - 1.5 IQR of the training scores.
TUKEY_FENCE = 1.5

#: Converts a median absolute deviation into a Gaussian standard deviation.
MAD_TO_SIGMA = 1.482602218505602

CONTAMINATION_CONSTRAINT = [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")]


def robust_scale(residuals, axis=0):
    """Robust standard deviation (1.4826 × MAD) of residuals along ``axis``.

    Pixels whose scale is zero (for instance a constant pixel reconstructed
    exactly) get a floor of 1e-6 times the median scale, or 1e-12, so that
    dividing by the scale is always defined.
    """
    med = np.median(residuals, axis=axis, keepdims=True)
    scale = MAD_TO_SIGMA * np.median(np.abs(residuals - med), axis=axis)
    positive = scale[scale > 0]
    floor = 1e-6 * np.median(positive) if positive.size else 1e-12
    return np.maximum(scale, max(floor, 1e-12))


class ContaminationMixin(OutlierMixin):
    """``offset_``, ``decision_function`` and ``predict`` from ``score_samples``.

    The estimator defines ``score_samples(X, ivar=None)`` and a
    ``contamination`` parameter, and calls :meth:`_set_offset` with the
    training scores at the end of ``fit``.

    ``contamination="auto"`` puts the threshold at Tukey's box-plot fence of
    the training scores, Q1 − 1.5 IQR (Tukey 1977), so the training set itself decides how many
    outliers it holds; a float puts it at that quantile of the training scores.
    """

    def _set_offset(self, train_scores):
        if self.contamination == "auto":
            q1, q3 = np.percentile(train_scores, [25, 75])
            self.offset_ = float(q1 - TUKEY_FENCE * (q3 - q1))
        else:
            self.offset_ = float(np.percentile(train_scores, 100.0 * self.contamination))

    def decision_function(self, X, ivar=None):
        """Shifted anomaly score: negative for outliers, positive for inliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X`` (0 = masked), passed to ``score_samples``.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``score_samples(X, ivar) - offset_``.
        """
        return self.score_samples(X, ivar=ivar) - self.offset_

    def predict(self, X, ivar=None):
        """Label each spectrum as an inlier (+1) or an outlier (-1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X`` (0 = masked).

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            +1 for inliers, -1 for outliers (``decision_function < 0``).
        """
        decision = self.decision_function(X, ivar=ivar)
        labels = np.ones(decision.shape[0], dtype=int)
        labels[decision < 0] = -1
        return labels
