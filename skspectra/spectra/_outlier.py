"""Outlier-detection conventions shared by the spectral autoencoders.

They follow :class:`sklearn.ensemble.IsolationForest`: ``score_samples`` is
higher for more normal spectra, ``decision_function = score_samples -
offset_`` and ``predict`` returns +1 for inliers and -1 for outliers.
"""

import warnings
from numbers import Real

import numpy as np
from scipy.stats import median_abs_deviation
from sklearn.base import OutlierMixin
from sklearn.utils._param_validation import Interval, StrOptions

__all__ = ["ContaminationMixin", "robust_scale", "robust_sigma"]

#: Tukey's box-plot fence: outliers lie below Q1 - 1.5 IQR of the training scores.
TUKEY_FENCE = 1.5

CONTAMINATION_CONSTRAINT = [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")]


def _zero(x, axis):
    return 0.0


def robust_sigma(values, axis=None, *, about_zero=False, ignore_nan=False):
    """Robust standard deviation: the median absolute deviation scaled to a Gaussian σ.

    :func:`scipy.stats.median_abs_deviation` with ``scale='normal'``, that is
    ``MAD / Φ⁻¹(3/4) ≈ 1.4826 MAD``: the σ of Gaussian data, barely moved by a
    minority of outliers.

    Parameters
    ----------
    values : array-like
        The sample.
    axis : int or None, default=None
        Axis along which to compute it; None flattens ``values``.
    about_zero : bool, default=False
        Measure the deviations from 0 instead of from the median (for
        differences of white noise, whose centre is known to be 0).
    ignore_nan : bool, default=False
        Leave NaN values out. A slice that is all NaN gives NaN (without a
        warning). False lets a NaN propagate to its slice's result.

    Returns
    -------
    sigma : float or ndarray
        The robust σ, in the units of ``values``, with ``axis`` removed.
    """
    with warnings.catch_warnings():  # all-NaN slices give NaN, which is what we say
        warnings.simplefilter("ignore", RuntimeWarning)
        return median_abs_deviation(
            values,
            axis=axis,
            center=_zero if about_zero else np.median,
            scale="normal",
            nan_policy="omit" if ignore_nan else "propagate",
        )


def robust_scale(residuals, axis=0):
    """Robust standard deviation (:func:`robust_sigma`) of residuals along ``axis``.

    Pixels whose scale is zero (for instance a constant pixel reconstructed
    exactly) get a floor of 1e-6 times the median scale, or 1e-12, so that
    dividing by the scale is always defined.
    """
    scale = robust_sigma(residuals, axis=axis)
    positive = scale[scale > 0]
    floor = 1e-6 * np.median(positive) if positive.size else 1e-12
    return np.maximum(scale, max(floor, 1e-12))


class ContaminationMixin(OutlierMixin):
    """``offset_``, ``decision_function`` and ``predict`` from ``score_samples``.

    The estimator defines ``score_samples(X, ivar=None)`` and a
    ``contamination`` parameter, and calls :meth:`_set_offset` with the
    training scores at the end of ``fit``; :meth:`calibrate_offset` sets it
    from any scores (those of every chunk of an out-of-core training).

    ``contamination="auto"`` puts the threshold at Tukey's box-plot fence of
    the training scores, Q1 − 1.5 IQR (Tukey 1977), so the training set itself decides how many
    outliers it holds; a float puts it at that quantile of the training scores.
    """

    def calibrate_offset(self, scores):
        """Set the anomaly threshold ``offset_`` from the scores of a whole data set.

        ``fit`` sets ``offset_`` from the training scores; ``partial_fit`` (and
        :func:`~skspectra.training.fit_in_chunks`) from those of the last batch. For a
        model trained chunk by chunk, score every chunk, gather the scores (one float
        per sample fits in memory) and call this, so that the threshold is the
        ``contamination`` quantile of all of them.

        Parameters
        ----------
        scores : array-like of shape (n_samples,)
            ``score_samples`` of the samples that define "normal" (typically the
            training set): the lower, the more anomalous.

        Returns
        -------
        self : estimator
            With ``offset_`` set: the ``contamination`` quantile of ``scores``, or
            with ``contamination="auto"`` Tukey's fence Q1 - 1.5 IQR.

        Raises
        ------
        ValueError
            If ``scores`` is empty, not 1-D, or holds NaN or infinite values.
        """
        scores = np.asarray(scores, dtype=float)
        if scores.ndim != 1:
            raise ValueError(
                f"scores must be 1-D (one score_samples value per sample), got shape "
                f"{scores.shape}."
            )
        if scores.size == 0:
            raise ValueError("no score given: pass the score_samples of at least one sample.")
        if not np.all(np.isfinite(scores)):
            raise ValueError(
                f"scores must be finite; {int(np.sum(~np.isfinite(scores)))} are NaN or "
                "infinite: score only spectra the model can use."
            )
        self._set_offset(scores)
        return self

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
