"""Spectra from stellar labels: The Cannon's quadratic-in-labels model."""

import numpy as np

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
