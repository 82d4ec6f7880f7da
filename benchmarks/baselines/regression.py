"""Spectra from features: tree ensembles that predict the PCA coefficients of a spectrum."""

from sklearn.decomposition import PCA
from sklearn.ensemble import ExtraTreesRegressor, HistGradientBoostingRegressor
from sklearn.multioutput import MultiOutputRegressor


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
