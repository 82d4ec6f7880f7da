"""Fair baselines of the benchmarks, defined once: each bench imports its baselines from here."""

# == Line fitting, image to spectrum (bench_lines, bench_image_to_spectrum) ==========
#
# Least squares + BIC with a greedy stop, and the tree ensembles that predict PCA
# coefficients of a spectrum. Kept below the anomaly and image baselines.

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import ExtraTreesRegressor, HistGradientBoostingRegressor
from sklearn.multioutput import MultiOutputRegressor

from skspectra.lines._refine import _default_sigmas, _Problem


def lsq_bic_greedy(y, max_components=3, continuum="linear"):
    """Least squares + BIC, adding lines one at a time until the BIC rises.

    Fits 0 lines (the continuum alone), then adds the line that a matched filter of
    the residual finds best and refits every parameter by least squares, and so on;
    it stops at the first fit whose BIC is not lower than the previous one's (the
    greedy stop), or at ``max_components`` lines. It uses the same least-squares
    problem, noise estimate, BIC and matched filter as ``GaussianLineFitter(refine=
    True)``, so that the two are timed alike.

    Parameters
    ----------
    y : ndarray of shape (n_channels,)
        One spectrum, in flux units; channels at ``0, 1, ..., n_channels - 1``.
    max_components : int, default=3
        Most lines to fit.
    continuum : {'linear', 'constant'} or None, default='linear'
        Polynomial continuum fitted with the lines.

    Returns
    -------
    components : ndarray of shape (k, 3)
        ``(amplitude, mean, sigma)`` of the kept lines by increasing mean; amplitude in
        flux units, mean and sigma in channels.
    n_fits : int
        Non-linear least-squares fits made (at most ``max_components``).
    """
    problem = _Problem(np.asarray(y, dtype=np.float64), None, None, continuum)
    sigmas = _default_sigmas(problem.x_full)
    fit = problem.fit(np.empty((0, 3)), np.empty(0))
    best = problem.bic(fit)
    n_fits = 0
    for _ in range(max_components):
        new, _ = problem.best_new_line(fit, sigmas)
        trial = problem.fit(np.vstack([fit.components, new]), fit.continuum)
        n_fits += 1
        criterion = problem.bic(trial)
        if criterion >= best:
            break
        fit, best = trial, criterion
    order = np.argsort(fit.components[:, 1], kind="stable")
    return fit.components[order], n_fits


class PCACoefficientRegressor:
    """A regressor from features to the PCA coefficients of a spectrum, decoded back.

    The usual strong baseline for spectra from photometry: reduce the training spectra to
    ``n_components`` PCA coefficients, regress them on the features, and predict the
    spectrum as the PCA reconstruction of the predicted coefficients.

    Parameters
    ----------
    regressor : sklearn regressor
        Multi-output regressor of the coefficients (cloned by ``fit`` through sklearn).
    n_components : int, default=30
        PCA coefficients per spectrum.
    """

    def __init__(self, regressor, n_components=30):
        self.regressor = regressor
        self.n_components = n_components

    def fit(self, X, Y):
        """Fit the PCA on ``Y`` (n, n_pixels), then the regressor on ``X`` (n, n_features)."""
        from sklearn.base import clone

        self.pca_ = PCA(self.n_components, random_state=0).fit(Y)
        self.regressor_ = clone(self.regressor).fit(X, self.pca_.transform(Y))
        return self

    def predict(self, X):
        """Predicted spectra, shape (n, n_pixels), in the flux units of the training ``Y``."""
        return self.pca_.inverse_transform(self.regressor_.predict(X))


def extra_trees_pca(n_components=30, random_state=0):
    """ExtraTrees(300) → PCA(``n_components``) coefficients (issue 17's fair baseline)."""
    return PCACoefficientRegressor(
        ExtraTreesRegressor(300, n_jobs=1, random_state=random_state), n_components
    )


def hist_gradient_boosting_pca(n_components=30, random_state=0):
    """HistGradientBoosting → PCA(``n_components``) coefficients, one booster per coefficient."""
    return PCACoefficientRegressor(
        MultiOutputRegressor(HistGradientBoostingRegressor(random_state=random_state)),
        n_components,
    )
