"""The fair baselines every skspectra benchmark compares against, defined once.

Rules (see benchmarks/README.md, "Fair baselines"):

- **Same inputs.** A baseline gets ``ivar`` whenever the skspectra model gets it.
- **Same scoring rule.** A PCA residual is scored by the package's own code: the spectral one
  by :class:`~skspectra.spectra._reconstruction.ReconstructionMixin` and
  :class:`~skspectra.spectra._latent_density.LatentDensityMixin` (the same per-pixel noise
  model, the same top-pixel pooling, the same latent-density term and the same ``combined``
  rule as :class:`~skspectra.SpectralCAE`), the image one by
  :class:`~skspectra.images.ImageAutoencoder`'s own ``score_samples``.
- **Same tuning budget.** PCA's ``n_components`` and pooling are searched on the dev seeds over
  at least as many settings as the model's defaults were (:data:`PCA_GRID`; the search is
  ``benchmarks/search/anomaly.py``).
- **Strongest usual settings** for the model-free detectors: IsolationForest (on the flux and on
  PCA(10)), LocalOutlierFactor and the mean distance to the k nearest neighbours; least squares
  + BIC with a greedy stop at the first BIC rise for line fitting (:func:`lsq_bic_greedy`);
  ExtraTrees and HistGradientBoosting on PCA(30) coefficients for spectra from photometry
  (:class:`PCACoefficientRegressor`).

Every anomaly detector here has ``fit(X, ivar=None)`` and ``anomaly(X, ivar=None)`` (higher =
more anomalous). ``anomaly`` on the very array passed to ``fit`` ranks the training set itself
(the transductive protocol): the nearest-neighbour detectors then leave each spectrum out of its
own neighbours, as the CAE's latent score does.

PyOD (ECOD, IForest, AutoEncoder, VAE) is not among them: ``pyod`` 3.6.7 requires ``numba``
(and with it ``llvmlite``), which the project's environment does not carry.
"""

import itertools

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.ensemble import ExtraTreesRegressor, HistGradientBoostingRegressor, IsolationForest
from sklearn.multioutput import MultiOutputRegressor
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.utils.validation import check_is_fitted, validate_data

from skspectra.base import check_ivar, mask_flux
from skspectra.images import ImageAutoencoder
from skspectra.lines._refine import _default_sigmas, _Problem, _robust_noise
from skspectra.spectra._latent_density import LatentDensityMixin
from skspectra.spectra._reconstruction import ReconstructionMixin

__all__ = [
    "CANNON_ALPHAS",
    "CAE_RULE_GRID",
    "CannonQuadratic",
    "PCA_GRID",
    "ImagePCAResidual",
    "IsolationForestDetector",
    "KNNDistance",
    "LOFDetector",
    "PCACoefficientRegressor",
    "PCAResidual",
    "anomaly_detectors",
    "extra_trees_pca",
    "hist_gradient_boosting_pca",
    "lsq_bic_greedy",
    "lsq_bic_greedy_batch",
]

#: Pooling of the per-pixel χ² searched for both the CAE and PCA: the mean of the top 1, 5 or
#: 20 pixels, or all pixels (None, the reduced χ²).
POOLINGS = (1, 5, 20, None)
#: The settings the CAE's anomaly defaults are chosen from (benchmarks/search/anomaly.py):
#: every (n_top_pixels, anomaly_score) pair, 8 settings, scored on one fit.
CAE_RULE_GRID = [
    {"n_top_pixels": k, "anomaly_score": rule}
    for k, rule in itertools.product(POOLINGS, ("residual", "combined"))
]
#: The settings PCA's residual detector is tuned over on the dev seeds: 4 × 4 × 2 = 32, more than
#: the CAE's 8.
PCA_GRID = [
    {"n_components": k, "n_top_pixels": p, "anomaly_score": rule}
    for k, p, rule in itertools.product((10, 20, 40, 80), POOLINGS, ("residual", "combined"))
]


# -- spectra: PCA scored exactly like SpectralCAE -------------------------------------------------
class PCAResidual(ReconstructionMixin, LatentDensityMixin, BaseEstimator):
    """PCA reconstruction residual, scored by SpectralCAE's own scoring code.

    The reconstruction is PCA's (masked pixels, ``ivar == 0``, are replaced by the mean spectrum
    before projection, as the CAE hides them from its encoder); everything after it is the
    package's: the per-pixel noise model ``σ_ij = a_i b_j`` fitted by median polish when there is
    no ivar (``residual_scale_``), ``(x - x̂) √ivar`` when there is, the mean of the
    ``n_top_pixels`` largest ``z²``, the latent term (mean distance to the 10 nearest
    standardised PCA coefficients of the training set) and the ``combined`` rule.

    Parameters
    ----------
    n_components : int, default=40
        Principal components kept.
    n_top_pixels : int or None, default=5
        Pixels whose ``z²`` are averaged (None: all, the reduced χ²).
    anomaly_score : {"combined", "residual", "latent"}, default="combined"
        As :class:`~skspectra.SpectralCAE`'s.
    noise : {"auto", "estimate"}, default="auto"
        As :class:`~skspectra.SpectralCAE`'s: ``"estimate"`` uses ivar only as a mask.

    Attributes
    ----------
    pca_ : sklearn.decomposition.PCA
        Fitted on the training flux (masked pixels filled with ``mean_``).
    mean_ : ndarray of shape (n_wavelengths,)
        Mean training spectrum.
    residual_scale_ : ndarray of shape (n_wavelengths,)
        Per-pixel noise scale ``b_j`` of the training residuals, in flux units.
    """

    def __init__(self, n_components=40, *, n_top_pixels=5, anomaly_score="combined", noise="auto"):
        self.n_components = n_components
        self.n_top_pixels = n_top_pixels
        self.anomaly_score = anomaly_score
        self.noise = noise

    def _fill(self, X, ivar):
        return X if ivar is None else np.where(ivar > 0, X, self.mean_)

    def _validate_X(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=np.float64)

    def _validate_flux(self, X, ivar=None):
        """The CAE's validation of flux and ivar on a fitted model (the scoring mixins call
        it): masked flux may be NaN or infinite, and is replaced by 0."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite=False)
        ivar = None if ivar is None else check_ivar(ivar, X)
        return mask_flux(X, ivar), ivar

    def fit(self, X, y=None, ivar=None):
        """Fit PCA, the noise model and the latent neighbours.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        y : None
            Ignored.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance in flux⁻² (0 = masked).

        Returns
        -------
        self : PCAResidual

        Raises
        ------
        ValueError
            If ``n_components`` exceeds the number of spectra or pixels, or ``ivar`` does not
            match ``X``.
        """
        X = validate_data(self, X, dtype=np.float64)
        if not 1 <= self.n_components <= min(X.shape):
            raise ValueError(
                f"n_components={self.n_components} must lie in [1, {min(X.shape)}] for "
                f"{X.shape[0]} spectra of {X.shape[1]} pixels; lower n_components."
            )
        ivar = None if ivar is None else check_ivar(ivar, X)
        self.mean_ = X.mean(axis=0) if ivar is None else np.average(X, 0, (ivar > 0) + 1e-12)
        self.pca_ = PCA(self.n_components, svd_solver="full").fit(self._fill(X, ivar))
        self._fit_residual_scale(X, ivar)
        self._fit_anomaly_scores(X, ivar)
        return self

    def _reconstruct(self, X, ivar=None):
        Xf = self._fill(X, ivar)
        return self.pca_.inverse_transform(self.pca_.transform(Xf))

    def _encode(self, X, ivar=None):
        return self.pca_.transform(self._fill(X, ivar))

    def score_samples(self, X, ivar=None):
        """Normality score by the ``anomaly_score`` rule (lower = more abnormal).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance (0 = masked).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return self._anomaly_scores(X, ivar)

    def anomaly(self, X, ivar=None):
        """Anomaly score, higher = more anomalous: ``-score_samples(X, ivar)``."""
        return -self.score_samples(X, ivar)


# -- spectra: model-free detectors --------------------------------------------------------------
class KNNDistance:
    """Mean Euclidean distance to the ``n_neighbors`` nearest training spectra.

    Parameters
    ----------
    n_neighbors : int, default=10
    """

    def __init__(self, n_neighbors=10):
        self.n_neighbors = n_neighbors

    def fit(self, X, ivar=None):
        self.X_ = X
        self.nn_ = NearestNeighbors(n_neighbors=self.n_neighbors).fit(X)
        return self

    def anomaly(self, X, ivar=None):
        """Higher = more anomalous; the spectrum itself is left out when ``X`` is the fit set."""
        dist, _ = self.nn_.kneighbors() if X is self.X_ else self.nn_.kneighbors(X)
        return dist.mean(axis=1)


class LOFDetector:
    """:class:`~sklearn.neighbors.LocalOutlierFactor` (``novelty=True``).

    Parameters
    ----------
    n_neighbors : int, default=20
        sklearn's default.
    """

    def __init__(self, n_neighbors=20):
        self.n_neighbors = n_neighbors

    def fit(self, X, ivar=None):
        self.X_ = X
        self.lof_ = LocalOutlierFactor(n_neighbors=self.n_neighbors, novelty=True).fit(X)
        return self

    def anomaly(self, X, ivar=None):
        """Higher = more anomalous (the training factors when ``X`` is the fit set)."""
        if X is self.X_:
            return -self.lof_.negative_outlier_factor_
        return -self.lof_.score_samples(X)


class IsolationForestDetector:
    """:class:`~sklearn.ensemble.IsolationForest` (200 trees), optionally on PCA coefficients.

    Parameters
    ----------
    n_pca : int or None, default=None
        Fit the forest on this many principal components instead of the flux.
    random_state : int, default=0
    """

    def __init__(self, n_pca=None, random_state=0):
        self.n_pca = n_pca
        self.random_state = random_state

    def fit(self, X, ivar=None):
        forest = IsolationForest(n_estimators=200, random_state=self.random_state)
        self.model_ = make_pipeline(PCA(self.n_pca), forest) if self.n_pca else forest
        self.model_.fit(X)
        return self

    def anomaly(self, X, ivar=None):
        """Higher = more anomalous."""
        return -self.model_.score_samples(X)


def anomaly_detectors(pca_params, seed):
    """The spectral anomaly baselines, name → unfitted detector.

    Parameters
    ----------
    pca_params : dict
        ``PCAResidual`` parameters chosen on the dev seeds (one entry of :data:`PCA_GRID`). The
        names do not depend on them, so that tables line up across protocols.
    seed : int
        Seed of the randomised detectors.
    """
    return {
        "PCA residual, tuned on dev seeds": PCAResidual(**pca_params),
        "PCA(40) residual, the CAE's defaults": PCAResidual(40),
        "kNN distance (k=10)": KNNDistance(10),
        "LOF (k=20)": LOFDetector(20),
        "IsolationForest, flux": IsolationForestDetector(None, seed),
        "IsolationForest, PCA(10)": IsolationForestDetector(10, seed),
    }


# -- images: PCA scored by ImageAutoencoder's rule -----------------------------------------------
class ImagePCAResidual(ImageAutoencoder):
    """PCA on flattened images, scored by :class:`~skspectra.images.ImageAutoencoder`'s own code.

    Only the reconstruction differs from the autoencoder's: ``score_samples``, ``anomaly_map``
    and the fit of what they need (``_fit_scores``) are the autoencoder's methods, so the
    residual is divided by the same per-pixel robust spread of the training residuals (or
    multiplied by √ivar) and pooled by the same rule (``pooling``), calibrated on the training
    images as the autoencoder's is.

    Parameters
    ----------
    n_components : int, default=8
        Principal components kept.
    pooling : {'detectors', 'top_pixels'}, default='detectors'
        As :class:`~skspectra.images.ImageAutoencoder`'s (its default).
    n_top_pixels : int or None, default=2
        As :class:`~skspectra.images.ImageAutoencoder`'s (its default).
    image_shape : tuple of int or None, default=None
        ``(C, H, W)`` for flat input.
    contamination : 'auto' or float, default='auto'
    """

    def __init__(
        self,
        n_components=8,
        *,
        pooling="detectors",
        n_top_pixels=2,
        image_shape=None,
        contamination="auto",
    ):
        self.n_components = n_components
        self.pooling = pooling
        self.n_top_pixels = n_top_pixels
        self.image_shape = image_shape
        self.contamination = contamination

    def fit(self, X, y=None, ivar=None):
        """Fit PCA on the images (masked pixels at 0), then the autoencoder's noise scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, C, H, W), (n_samples, H, W) or (n_samples, C*H*W)
        y : None
            Ignored.
        ivar : array-like of the shape of X, default=None

        Returns
        -------
        self : ImagePCAResidual
        """
        images, weight, _ = self._validate_images(X, ivar, reset=True)
        self.pca_ = PCA(self.n_components, svd_solver="full").fit(images.reshape(len(images), -1))
        return self._fit_scores(images, weight, ivar is not None)

    def _reconstruct(self, images, weight):
        flat = images.reshape(len(images), -1)
        return self.pca_.inverse_transform(self.pca_.transform(flat)).reshape(images.shape)


# -- line fitting, image to spectrum (bench_lines, bench_image_to_spectrum) ---------------------
# Least squares + BIC with a greedy stop, and the tree ensembles that predict PCA coefficients
# of a spectrum.
def lsq_bic_greedy(y, max_components=3, continuum="linear", noise=None):
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
    noise : float or None, default=None
        The white-noise sigma of ``y``, estimated from a batch of spectra at once as
        ``GaussianLineFitter(refine=True)`` does (``_robust_noise``); None estimates it
        from ``y``.

    Returns
    -------
    components : ndarray of shape (k, 3)
        ``(amplitude, mean, sigma)`` of the kept lines by increasing mean; amplitude in
        flux units, mean and sigma in channels.
    n_fits : int
        Non-linear least-squares fits made (at most ``max_components``).
    """
    problem = _Problem(np.asarray(y, dtype=np.float64), None, None, continuum, noise=noise)
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


def lsq_bic_greedy_batch(X, max_components=3, continuum="linear"):
    """:func:`lsq_bic_greedy` on each spectrum of a batch, the noise of the whole batch
    estimated at once (one vectorised call), as ``GaussianLineFitter(refine=True)`` does.

    Parameters
    ----------
    X : ndarray of shape (n_spectra, n_channels)
        Spectra in flux units.
    max_components, continuum
        As for :func:`lsq_bic_greedy`.

    Returns
    -------
    components : list of ndarray of shape (k_i, 3)
        Each spectrum's lines, by increasing mean.
    """
    noise = _robust_noise(X)
    return [
        lsq_bic_greedy(x, max_components, continuum, noise=s)[0]
        for x, s in zip(X, noise, strict=True)
    ]


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


# -- spectra from stellar labels: The Cannon's model ---------------------------------------------
#: Ridge penalties searched by :class:`CannonQuadratic` (per-pixel weights normalised to mean 1,
#: so an alpha is on the scale of sklearn's ``Ridge`` with unit sample weights, divided by n).
CANNON_ALPHAS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
#: Alternations of the per-pixel fit and the intrinsic-scatter estimate.
CANNON_SCATTER_ITER = 3


class CannonQuadratic:
    """The Cannon's spectral model: each pixel's flux a quadratic polynomial in the labels.

    The training step of The Cannon (Ness et al. 2015): labels (e.g. Teff, logg, [Fe/H]) are
    standardised and expanded into ``PolynomialFeatures(2)`` (1, the labels, their squares and
    cross products: 10 terms for 3 labels); at each pixel ``j`` the coefficients ``θ_j`` are an
    ivar-weighted least-squares fit with a ridge penalty on the non-constant terms, and, as in
    The Cannon, a per-pixel intrinsic scatter ``s_j`` is added to the noise:
    ``w_nj = 1 / (1 / ivar_nj + s_j²)``. The Cannon fits ``s_j`` by maximum likelihood; here
    ``s_j²`` is the mean excess of the squared residuals over the noise variance (clipped at 0),
    alternated with the fit ``CANNON_SCATTER_ITER`` times. Stars the quadratic cannot follow
    (e.g. hot stars among cool ones) inflate that scatter until the fit is nearly unweighted,
    so by default the scatter is kept only where it validates better. The ridge ``alpha_``
    (and, with ``scatter='auto'``, whether to fit the scatter) is chosen by ``cv``-fold
    cross-validation on the training stars (median held-out ``Σ ivar (ŷ − y)² / N``).
    Written here because the PyPI package ``thecannon`` (TheCannon 0.7.3, 2018) declares no
    dependencies and imports matplotlib at import time.

    Parameters
    ----------
    alphas : sequence of float, default=CANNON_ALPHAS
        Ridge penalties tried (the weights of each pixel are normalised to mean 1).
    cv : int, default=5
        Folds of the search (none when there is one setting to try).
    scatter : {'auto', True, False}, default='auto'
        Fit the per-pixel intrinsic scatter (needs ``ivar``); 'auto': with and without,
        chosen by the cross-validation.

    Attributes
    ----------
    alpha_ : float
        The chosen penalty.
    use_scatter_ : bool
        Whether the intrinsic scatter was fitted.
    cv_loss_ : dict
        ``(alpha, scatter)`` → mean over folds of the median held-out χ²/N (mean squared
        error without ivar); empty when there was one setting.
    coef_ : ndarray of shape (n_wavelengths, n_terms)
        Per-pixel coefficients of the polynomial terms, in flux units.
    scatter_ : ndarray of shape (n_wavelengths,)
        Intrinsic scatter ``s_j`` in flux units (zeros when it was not fitted).

    References
    ----------
    .. [1] Ness, M., Hogg, D. W., Rix, H.-W., Ho, A. Y. Q., & Zasowski, G. 2015, ApJ 808, 16,
       "The Cannon: a data-driven approach to stellar label determination".
    """

    def __init__(self, alphas=CANNON_ALPHAS, cv=5, scatter="auto"):
        self.alphas = alphas
        self.cv = cv
        self.scatter = scatter

    def _design(self, labels):
        return self.poly_.transform(self.scaler_.transform(labels))

    @staticmethod
    def _solve(A, Y, W, alpha):
        """Per-pixel weighted ridge: θ_j = argmin mean_n w̃_nj (y_nj − A_n θ)² + α |θ_1:|²."""
        scale = W.mean(axis=0)
        W = W / np.where(scale > 0, scale, 1.0)
        n, k = A.shape
        outer = (A[:, :, None] * A[:, None, :]).reshape(n, k * k)
        gram = (W.T @ outer).reshape(-1, k, k) / n
        penalty = np.full(k, alpha)
        penalty[0] = 1e-12  # the constant term is not shrunk; keeps fully masked pixels solvable
        gram += np.diag(penalty)
        rhs = (W * Y).T @ A / n
        return np.linalg.solve(gram, rhs[..., None])[..., 0]

    def _fit_once(self, A, Y, ivar, alpha, scatter):
        if ivar is None:
            return self._solve(A, Y, np.ones_like(Y), alpha), np.zeros(Y.shape[1])
        good = ivar > 0
        variance = np.where(good, 1.0 / np.where(good, ivar, 1.0), 0.0)
        s2 = np.zeros(Y.shape[1])
        for _ in range(CANNON_SCATTER_ITER if scatter else 1):
            W = np.where(good, 1.0 / np.where(good, variance + s2, 1.0), 0.0)
            coef = self._solve(A, Y, W, alpha)
            if not scatter:
                break
            excess = np.where(good, (Y - A @ coef.T) ** 2 - variance, 0.0)
            s2 = np.maximum(excess.sum(axis=0) / np.maximum(good.sum(axis=0), 1), 0.0)
        return coef, np.sqrt(s2)

    @staticmethod
    def _loss(Y_pred, Y, ivar):
        if ivar is None:
            return float(np.mean((Y_pred - Y) ** 2))
        chi2 = np.sum(ivar * (Y_pred - Y) ** 2, axis=1) / np.maximum(
            np.count_nonzero(ivar > 0, axis=1), 1
        )
        return float(np.median(chi2))

    def fit(self, labels, Y, ivar=None):
        """Fit the per-pixel quadratic model.

        Parameters
        ----------
        labels : array-like of shape (n_samples, n_labels)
            Stellar labels, e.g. Teff (K), logg (dex), [Fe/H] (dex); finite.
        Y : array-like of shape (n_samples, n_wavelengths)
            Flux. Masked pixels (``ivar == 0``) may hold any value, NaN included: they carry
            no weight.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``Y`` in flux⁻² (0 = masked); None: unit weights, no scatter.

        Returns
        -------
        self : CannonQuadratic

        Raises
        ------
        ValueError
            If the shapes disagree, labels, flux (where ``ivar > 0``) or ivar are not finite,
            ivar is negative, or ``scatter`` is unknown.
        """
        from sklearn.model_selection import KFold
        from sklearn.preprocessing import PolynomialFeatures, StandardScaler
        from sklearn.utils import check_array

        labels = check_array(labels, dtype=np.float64)
        Y = check_array(Y, dtype=np.float64, ensure_all_finite=ivar is None)
        if len(labels) != len(Y):
            raise ValueError(
                f"labels and Y must have the same number of rows, got {len(labels)} and {len(Y)}."
            )
        if ivar is not None:
            ivar = check_array(ivar, dtype=np.float64)
            if ivar.shape != Y.shape or np.any(ivar < 0):
                raise ValueError(
                    f"ivar must be non-negative with Y's shape {Y.shape}, got shape {ivar.shape}."
                )
            if not np.all(np.isfinite(Y[ivar > 0])):
                raise ValueError("Y must be finite where ivar > 0; set ivar to 0 at bad pixels.")
            Y = np.where(ivar > 0, Y, 0.0)
        self.scaler_ = StandardScaler().fit(labels)
        self.poly_ = PolynomialFeatures(2).fit(self.scaler_.transform(labels))
        A = self._design(labels)
        if self.scatter not in ("auto", True, False):
            raise ValueError(f"scatter must be 'auto', True or False, got {self.scatter!r}.")
        scatters = [False] if ivar is None else [self.scatter]
        if scatters == ["auto"]:
            scatters = [False, True]
        grid = [(alpha, scatter) for scatter in scatters for alpha in self.alphas]
        self.cv_loss_ = {}
        if len(grid) > 1:
            folds = list(KFold(self.cv, shuffle=True, random_state=0).split(A))
            for alpha, scatter in grid:
                losses = []
                for tr, te in folds:
                    sub = None if ivar is None else ivar[tr]
                    coef, _ = self._fit_once(A[tr], Y[tr], sub, alpha, scatter)
                    Y_pred = A[te] @ coef.T
                    losses.append(self._loss(Y_pred, Y[te], None if ivar is None else ivar[te]))
                self.cv_loss_[(alpha, scatter)] = float(np.mean(losses))
            self.alpha_, self.use_scatter_ = min(self.cv_loss_, key=self.cv_loss_.get)
        else:
            self.alpha_, self.use_scatter_ = grid[0]
        self.coef_, self.scatter_ = self._fit_once(A, Y, ivar, self.alpha_, self.use_scatter_)
        return self

    def predict(self, labels):
        """Model spectra for the given labels.

        Parameters
        ----------
        labels : array-like of shape (n_samples, n_labels)
            Labels in the units used by ``fit``.

        Returns
        -------
        Y_pred : ndarray of shape (n_samples, n_wavelengths)
            Predicted flux, in the units of the training ``Y``.
        """
        from sklearn.utils import check_array

        return self._design(check_array(labels, dtype=np.float64)) @ self.coef_.T
