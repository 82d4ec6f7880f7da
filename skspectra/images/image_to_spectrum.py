"""ImageToSpectrum: predict spectra from images or photometry through a spectral latent space."""

import inspect
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin, clone
from sklearn.model_selection import KFold
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import check_ivar, check_magnitude, mask_flux
from . import _uncertainty
from ._spectrum_loss import torch_decoder

__all__ = ["ImageToSpectrum"]


def _masked_targets(Y, ivar):
    """``Y`` with 0 at masked pixels (where it may be NaN or infinite), and the checked ivar.

    Raises a ValueError naming the rows if ``Y`` is NaN or infinite at unmasked pixels.
    """
    Y = check_array(Y, dtype=np.float64, ensure_2d=False, ensure_all_finite=False, input_name="Y")
    Y2 = Y.reshape(len(Y), -1)
    weight = check_ivar(ivar, Y2)
    return mask_flux(Y2, weight, "Y").reshape(Y.shape), weight


def _mask_kwargs(model, weight):
    """``{"ivar": weight}`` when ``model.transform`` takes the mask, else nothing."""
    if weight is None:
        return {}
    try:
        return {"ivar": weight} if "ivar" in inspect.signature(model.transform).parameters else {}
    except (TypeError, ValueError):
        return {}


def _accepts_ivar(estimator):
    """Whether ``estimator.fit`` takes an ``ivar`` keyword."""
    try:
        return "ivar" in inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):
        return False


def _seed_unset_random_states(estimator, rng):
    """Give every ``*random_state`` parameter of ``estimator`` left at None an int from ``rng``."""
    params = estimator.get_params(deep=True)
    seeds = {
        key: int(rng.randint(np.iinfo(np.int32).max))
        for key in sorted(params)
        if (key == "random_state" or key.endswith("__random_state")) and params[key] is None
    }
    return estimator.set_params(**seeds) if seeds else estimator


def _as_target(Zs):
    """Latents as a regression target: 1-D for a single latent (single-output regressors)."""
    return Zs[:, 0] if Zs.shape[1] == 1 else Zs


def _regressor_tag(regressor, name):
    try:
        return getattr(regressor.__sklearn_tags__().regressor_tags, name)
    except AttributeError:
        return False


#: The default spectrum model's latents (capped by the samples and pixels there are), and the
#: default regressor's settings: chosen on the dev split by
#: ``python -m benchmarks.search.image_to_spectrum`` (the apertures, which only images use, by
#: ``python -m benchmarks.search.image_to_spectrum_stamps_cnn``).
DEFAULT_N_COMPONENTS = 40
DEFAULT_REGRESSOR = {
    "hidden_layer_sizes": (256, 256, 256),
    "max_epochs": 300,
    "aperture_radii": (2.0, 3.0, 5.0),
}
#: The default regressor sees about this many samples in training (300 epochs of the 2,250
#: training stars it was tuned on): fewer epochs for more stars, so that ``fit`` time stays
#: flat; never fewer than ``MIN_DEFAULT_EPOCHS`` epochs nor more than 300.
DEFAULT_TRAINING_SAMPLES = 300 * 2250
MIN_DEFAULT_EPOCHS = 20


def default_epochs(n_samples):
    """Epochs of the default regressor for ``n_samples`` training samples."""
    epochs = round(DEFAULT_TRAINING_SAMPLES / max(n_samples, 1))
    return int(min(DEFAULT_REGRESSOR["max_epochs"], max(MIN_DEFAULT_EPOCHS, epochs)))


class ImageToSpectrum(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Predict spectra from images or photometry through the latent space of a spectrum model.

    A meta-estimator shaped like sklearn's
    :class:`~sklearn.compose.TransformedTargetRegressor`: ``spectrum_model``
    (any transformer with ``inverse_transform``: :class:`SpectralVAE`,
    :class:`SpectralCAE`, :class:`~sklearn.decomposition.PCA`) encodes the
    training spectra into a few latents; ``regressor`` (any regressor) learns
    the map from images or photometry to those latents; predicted latents are
    decoded back into spectra with ``spectrum_model.inverse_transform``. By
    default the regressor is trained for the spectrum rather than for the
    latents: through the frozen decoder, on the ivar-weighted χ² of the
    decoded spectrum (``loss``).

    Parameters
    ----------
    spectrum_model : transformer with ``inverse_transform`` or None, default=None
        Model of the spectra. ``None`` uses
        :class:`~sklearn.decomposition.PCA` with 40 components (fewer when
        there are fewer samples or pixels), which gave a lower held-out χ²
        than ``SpectralVAE(n_components=6)`` on the development split (see
        ``loss``). It is cloned in ``fit``.
    regressor : regressor or None, default=None
        Map from ``X`` to the (standardised) latents. ``None`` uses
        :class:`ImageRegressor` ``(hidden_layer_sizes=(256, 256, 256),
        aperture_radii=(2.0, 3.0, 5.0))``: for images, a CNN whose dense
        layers also read each band's mean within 2, 3 and 5 px of the centre
        (on the simulated ugriz stamps of
        ``python -m benchmarks run image_to_spectrum_stamps``, this aperture
        photometry took the development seed's held-out χ²/N from 9.26 to
        6.55; one 3 px aperture gave 7.20, one of 5 px 7.06;
        ``python -m benchmarks.search.image_to_spectrum_stamps_cnn``); for
        tabular ``X``, an MLP. It is trained for
        ``max_epochs = round(675,000 / n_samples)`` epochs, within [20, 300]:
        300 up to 2,250 samples, then a constant number of gradient steps, so
        that ``fit`` takes about as long on 20,000 samples as on 2,250. On the
        development split of 20,000 Gaia XP stars, on two cores, 34 epochs
        (this rule) gave a held-out χ²/N of 3.83 with a 102 s ``fit``, and 68
        epochs 3.67 with 166 s
        (``python -m benchmarks.search.image_to_spectrum_scale``). It is
        cloned in ``fit``; it must accept a 2-D target.
    loss : {"auto", "chi2", "latent"}, default="auto"
        What the regressor is trained to minimise.

        - ``"chi2"``: the misfit of the *decoded spectrum*. The regressor
          (an :class:`ImageRegressor`) is trained end to end through a frozen
          copy of the spectrum model's decoder, on the mean over spectra of
          ``log(1 + χ²/N)``, ``χ²/N = Σ ivar (ŷ − y)² / N`` (unit weights
          without ``ivar``). Latents then count as much as they change the
          spectrum. Needs a decoder skspectra can differentiate: PCA or a
          spectral autoencoder of this package.
        - ``"latent"``: the regressor's own loss on the standardised latents
          (squared error for the default), as in [1]_ and [3]_; the only
          choice for regressors that are not an :class:`ImageRegressor`
          (forests, boosting, kNN).
        - ``"auto"``: ``"chi2"`` when both conditions hold, else ``"latent"``.

        The defaults (this loss, the spectrum model, the regressor's size)
        were chosen on the development split of the photometry → Gaia XP
        benchmark by ``python -m benchmarks.search.image_to_spectrum``;
        ``benchmarks/bench_image_to_spectrum.py`` reports them on other
        splits.
    standardize_latents : bool, default=True
        Give the regressor latents with zero mean and unit variance per
        component, so that each counts alike in its loss.
    uncertainty_cv : int >= 2 or None, default=3
        Folds of the cross-validation whose out-of-fold residuals set the
        band of ``predict(X, return_std=True)`` (see Notes). ``fit`` then
        trains the regressor ``uncertainty_cv`` extra times. ``None`` skips
        it (and ``return_std``).
    n_neighbors : int >= 2, default=50
        Training samples whose out-of-fold errors set the uncertainty of a
        prediction: the nearest ones in predicted-latent space (see Notes).
        Capped at the number of training samples.
    n_draws : int, default=64
        Latent draws decoded per sample for ``return_std``.
    random_state : int, RandomState instance or None, default=None
        Seeds the cross-validation folds, the latent draws of ``return_std``,
        and every ``random_state`` of the sub-estimators that is left at
        None (as sklearn's ensembles do); those set explicitly are kept.

    Attributes
    ----------
    spectrum_model_ : estimator
        The fitted clone of ``spectrum_model``.
    loss_ : {"chi2", "latent"}
        The loss the regressor was trained on (``loss`` with ``"auto"`` resolved).
    regressor_ : estimator
        The fitted clone of ``regressor``, trained on all the data.
    latent_mean_, latent_scale_ : ndarray of shape (n_components,)
        Standardisation of the training latents (0 and 1 with
        ``standardize_latents=False``).
    oof_latent_ : ndarray of shape (n_samples, n_components) or None
        Out-of-fold predicted latents of the training samples (standardised
        units); ``None`` with ``uncertainty_cv=None``.
    oof_residual_ : ndarray of shape (n_samples, n_components) or None
        Their residuals, predicted − true (standardised units).
    reconstruction_residual_ : ndarray of shape (n_samples, `n_outputs_`) or None
        Residual of the spectrum model's reconstruction of each training
        spectrum (flux units): the part of the error no latent can remove.
    reconstruction_variance_ : ndarray of shape (n_samples, `n_outputs_`) or None
        ``reconstruction_residual_ ** 2``, less ``1 / ivar`` when ``fit`` got
        ``ivar`` (flux² units; NaN at masked pixels; may be negative per
        pixel, as the noise scatters): the reconstruction term of the band.
    std_scale_ : float or None
        Calibration factor of ``return_std``'s band (see Notes); ``None``
        with ``uncertainty_cv=None``.
    n_components_ : int
        Number of latents.
    n_outputs_ : int
        Number of spectral pixels (``n_wavelengths``).
    n_features_in_ : int
        ``X.shape[1]`` in ``fit`` (bands for image arrays, columns for 2-D).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` was a DataFrame.

    See Also
    --------
    ImageRegressor : The default regressor.
    skspectra.SpectralVAE : A non-linear spectrum model, for ``spectrum_model``.
    sklearn.compose.TransformedTargetRegressor : The same pattern with an
        element-wise transform of the target.

    Notes
    -----
    **Uncertainty.** ``predict(X, return_std=True)`` returns a per-pixel
    standard deviation from *out-of-fold residuals*, taken locally. At
    ``fit``, the data are split into ``uncertainty_cv`` folds; a clone of
    ``regressor`` trained on the other folds predicts the latents of each
    fold (``oof_latent_``, residuals ``oof_residual_``). For a new sample
    with predicted latents ``ẑ``, the ``n_neighbors`` training samples whose
    out-of-fold predictions are nearest to ``ẑ`` give a local residual
    covariance ``Σ(ẑ)`` and a local reconstruction variance per pixel
    (``reconstruction_variance_``: the squared reconstruction residual, less
    the noise ``1 / ivar`` when ``fit`` got ``ivar``). ``n_draws`` latents
    ``z ~ N(ẑ, Σ(ẑ))`` are decoded with ``spectrum_model.inverse_transform``;
    their per-pixel variance plus the local reconstruction variance, times
    ``std_scale_²``, is the returned variance. The band thus holds what the
    regressor does not know, what ``X`` cannot tell (spectra that differ
    though their images or photometry agree), and what the spectrum model
    cannot represent, each as it was for similar training samples;
    neighbours are found in latent space, so this works for images and
    tabular ``X`` alike.

    ``std_scale_`` calibrates the band at ``fit``, as split-conformal methods
    do: on up to 2,000 training samples, each predicted by the fold model that
    did not see it and given the band of its neighbours (itself left out), it
    is the factor that puts 68.3 % of pixels within 1σ. With ``ivar`` at
    ``fit``, the band excludes the observation noise and the calibration adds
    ``1 / ivar`` in quadrature: add ``1 / ivar`` likewise to compare with
    observed spectra. Without ``ivar``, the reconstruction term holds the
    training spectra's noise, and the band is one for observed spectra of
    that noise level. Out-of-fold models see less data than ``regressor_``,
    so the band errs wide; only the 1σ level is calibrated, and the 2σ level
    covers less than 95 % when errors have heavier tails than a Gaussian.
    ``benchmarks/bench_image_to_spectrum.py`` measures both on held-out stars.

    The point prediction is the decoded predicted latent, not the mean of the
    draws.

    **Scores.** ``score`` is the R² of the predicted spectra, averaged over
    pixels (sklearn's regressor convention). :meth:`chi2_score` gives the
    median reduced χ² against observed spectra with inverse variances.

    References
    ----------
    .. [1] Wu, J. F., & Peek, J. E. G. 2020, arXiv:2009.12318, "Predicting
       galaxy spectra from images with hybrid convolutional neural networks".
    .. [2] Portillo, S. K. N. et al. 2020, AJ 160, 45 (VAE latents of SDSS
       spectra).
    .. [3] The seed project "Converting multi-colour images into spectra
       using deep learning" (VAE latents as labels for a CNN).

    Examples
    --------
    Gaia XP spectra from six magnitudes, with the RandomForest baseline in one line:

    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from skspectra.images import ImageToSpectrum
    >>> from skspectra.datasets import load_gaia_xp
    >>> data = load_gaia_xp()
    >>> mags = data.photometry[["G", "BP", "RP", "J", "H", "K"]].to_numpy()
    >>> ok = np.isfinite(mags).all(axis=1)
    >>> X, Y, ivar = mags[ok][:500], data.flux[ok][:500], data.ivar[ok][:500]
    >>> model = ImageToSpectrum(PCA(6), RandomForestRegressor(50, random_state=0))
    >>> model.fit(X, Y).predict(X[:3]).shape
    (3, 343)
    >>> flux, flux_std = model.predict(X[:3], return_std=True)
    >>> model.chi2_score(X, Y, ivar) > 0
    True
    """

    _parameter_constraints = {
        "spectrum_model": [HasMethods(["fit", "transform", "inverse_transform"]), None],
        "regressor": [HasMethods(["fit", "predict"]), None],
        "loss": [StrOptions({"auto", "chi2", "latent"})],
        "standardize_latents": ["boolean"],
        "uncertainty_cv": [Interval(Integral, 2, None, closed="left"), None],
        "n_neighbors": [Interval(Integral, 2, None, closed="left")],
        "n_draws": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        spectrum_model=None,
        regressor=None,
        *,
        loss="auto",
        standardize_latents=True,
        uncertainty_cv=3,
        n_neighbors=50,
        n_draws=64,
        random_state=None,
    ):
        self.spectrum_model = spectrum_model
        self.regressor = regressor
        self.loss = loss
        self.standardize_latents = standardize_latents
        self.uncertainty_cv = uncertainty_cv
        self.n_neighbors = n_neighbors
        self.n_draws = n_draws
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        if self.regressor is not None:
            # A regressor that declares itself unable to reach the checks' R² bar passes that on.
            tags.regressor_tags.poor_score = _regressor_tag(self.regressor, "poor_score")
        return tags

    # -- sub-estimators -----------------------------------------------------
    def _make_spectrum_model(self):
        if self.spectrum_model is None:
            from sklearn.decomposition import PCA

            return PCA(n_components=DEFAULT_N_COMPONENTS)
        return clone(self.spectrum_model)

    def _make_regressor(self, n_samples):
        if self.regressor is None:
            from .regressor import ImageRegressor

            params = {**DEFAULT_REGRESSOR, "max_epochs": default_epochs(n_samples)}
            return ImageRegressor(**params)
        return clone(self.regressor)

    # -- fitting ------------------------------------------------------------
    def fit(self, X, Y, ivar=None):
        """Fit the spectrum model on ``Y``, then the regressor from ``X`` to its latents.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_bands, H, W)
            Photometry, other tabular features, or images; whatever
            ``regressor`` takes.
        Y : array-like of shape (n_samples, n_wavelengths)
            Spectra on one wavelength grid (flux in any unit). A 1-D ``Y`` is
            treated as one pixel, and predictions are then 1-D. With a
            ``spectrum_model`` that takes ``ivar``, masked pixels
            (``ivar == 0``) may hold NaN or infinity: they are not used.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``Y`` in flux⁻² (0 = masked). Passed to
            ``spectrum_model.fit`` when that takes an ``ivar`` argument
            (SpectralVAE, SpectralCAE), ignored otherwise (PCA).

        Returns
        -------
        self : ImageToSpectrum
            The fitted estimator.

        Raises
        ------
        ValueError
            If ``X`` or ``Y`` hold NaN or infinite values (in ``Y``, at
            pixels that ``ivar`` does not mask; the message names the rows),
            their numbers of
            samples differ, there are fewer samples than ``uncertainty_cv``,
            ``ivar`` does not match ``Y``, ``spectrum_model`` lacks
            ``inverse_transform`` or ``regressor`` lacks ``predict``.
        """
        self._validate_params()
        rng = check_random_state(self.random_state)
        spectrum_model = _seed_unset_random_states(self._make_spectrum_model(), rng)
        weight = None
        if ivar is not None and _accepts_ivar(spectrum_model):
            Y, weight = _masked_targets(Y, ivar)  # masked flux may be NaN: never used
        X, Y = validate_data(
            self,
            X,
            Y,
            multi_output=True,
            y_numeric=True,
            allow_nd=True,
            dtype=[np.float64, np.float32],
        )
        check_magnitude(X)
        check_magnitude(Y, "Y", allow_nan=False)
        regressor = _seed_unset_random_states(self._make_regressor(len(X)), rng)
        cv_seed = int(rng.randint(np.iinfo(np.int32).max))
        Y = np.asarray(Y, dtype=np.float64)
        self._single_output_ = Y.ndim == 1
        Y2 = Y.reshape(len(Y), -1)
        n_samples = len(Y2)
        if self.spectrum_model is None:  # the default PCA: no more components than data allow
            spectrum_model.set_params(n_components=min(DEFAULT_N_COMPONENTS, *Y2.shape))
        if self.uncertainty_cv is not None and n_samples < self.uncertainty_cv:
            raise ValueError(
                f"uncertainty_cv={self.uncertainty_cv} folds need at least that many samples, got "
                f"n_samples = {n_samples}; give more samples or set uncertainty_cv=None."
            )
        fit_params = {}
        if ivar is not None:
            weight = check_ivar(ivar, Y2)
            if _accepts_ivar(spectrum_model):
                fit_params["ivar"] = weight
        self.spectrum_model_ = spectrum_model.fit(Y2, None, **fit_params)
        Z = np.asarray(
            self.spectrum_model_.transform(Y2, **_mask_kwargs(self.spectrum_model_, weight)),
            dtype=np.float64,
        )
        self.n_components_ = Z.shape[1]
        self.n_outputs_ = Y2.shape[1]
        if self.standardize_latents:
            self.latent_mean_ = Z.mean(axis=0)
            std = Z.std(axis=0)
            self.latent_scale_ = np.where(std > 0, std, 1.0)
        else:
            self.latent_mean_ = np.zeros(Z.shape[1])
            self.latent_scale_ = np.ones(Z.shape[1])
        Zs = (Z - self.latent_mean_) / self.latent_scale_
        self.oof_latent_ = self.oof_residual_ = self.reconstruction_residual_ = None
        self.reconstruction_variance_ = self.std_scale_ = None
        decoder = torch_decoder(self.spectrum_model_, self.latent_mean_, self.latent_scale_)
        self.loss_ = self._resolve_loss(regressor, decoder)
        if self.loss_ == "chi2":
            flux_weight = np.ones_like(Y2) if weight is None else weight
            self._chi2_data = (Y2, flux_weight, decoder)
        try:
            self._fit_regressors(regressor, X, Y2, Z, Zs, weight, fit_params, cv_seed)
        finally:
            self.__dict__.pop("_chi2_data", None)  # the decoder copy is not kept
        return self

    def _resolve_loss(self, regressor, decoder):
        """``"chi2"`` or ``"latent"``: what the regressor is trained to minimise."""
        from .regressor import ImageRegressor

        neural = isinstance(regressor, ImageRegressor)
        if self.loss == "chi2" and not neural:
            raise ValueError(
                f"loss='chi2' trains the regressor through the decoder, which needs an "
                f"ImageRegressor (the default), got {type(regressor).__name__}; use "
                "loss='latent' (or 'auto') for other regressors."
            )
        if self.loss == "chi2" and decoder is None:
            raise ValueError(
                f"loss='chi2' trains through the spectrum model's decoder, but "
                f"{type(self.spectrum_model_).__name__} has none that skspectra can "
                "differentiate (PCA and the spectral autoencoders have); use loss='latent'."
            )
        if self.loss == "auto":
            return "chi2" if neural and decoder is not None else "latent"
        return self.loss

    def _fit_regressor(self, regressor, X, Zs, rows=slice(None)):
        """Fit ``regressor`` on ``X[rows]``: to the latents, or through the decoder (χ²)."""
        if self.loss_ == "chi2":
            flux, flux_weight, decoder = self._chi2_data
            return regressor._fit_through_decoder(
                X[rows], Zs[rows], flux[rows], flux_weight[rows], decoder
            )
        return regressor.fit(X[rows], _as_target(Zs[rows]))

    def _fit_regressors(self, regressor, X, Y2, Z, Zs, weight, fit_params, cv_seed):
        if self.uncertainty_cv is not None:
            self.oof_latent_ = self._oof_latents(regressor, X, Zs, cv_seed)
            self.oof_residual_ = self.oof_latent_ - Zs
            reconstruction = np.asarray(self.spectrum_model_.inverse_transform(Z))
            self.reconstruction_residual_ = Y2 - reconstruction
            if fit_params:  # masked pixels carry no residual
                self.reconstruction_residual_[weight == 0] = np.nan
            self.reconstruction_variance_ = _uncertainty.excess_variance(
                self.reconstruction_residual_, weight
            )
            self.std_scale_ = _uncertainty.calibration_scale(self, Y2, weight, cv_seed)
        self.regressor_ = self._fit_regressor(regressor, X, Zs)

    def _oof_latents(self, regressor, X, Zs, seed):
        """Out-of-fold predicted latents (standardised units)."""
        folds = KFold(self.uncertainty_cv, shuffle=True, random_state=seed)
        oof = np.empty_like(Zs)
        for train, test in folds.split(X):
            fold_model = self._fit_regressor(clone(regressor), X, Zs, train)
            oof[test] = self._regress(fold_model, X[test])
        return oof

    # -- inference ----------------------------------------------------------
    def _validate_X(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, allow_nd=True, dtype=[np.float64, np.float32])
        return check_magnitude(X)

    def _regress(self, regressor, X):
        Zs = np.asarray(regressor.predict(X), dtype=np.float64)
        return Zs.reshape(len(X), -1)

    def _decode(self, Zs):
        Z = Zs * self.latent_scale_ + self.latent_mean_
        return np.asarray(self.spectrum_model_.inverse_transform(Z), dtype=np.float64)

    def predict_latent(self, X):
        """Predict the latents of the spectra, in the spectrum model's units.

        Parameters
        ----------
        X : array-like
            Same layout as in ``fit``.

        Returns
        -------
        Z : ndarray of shape (n_samples, `n_components_`)
            What ``spectrum_model_.transform`` would give for the (unseen)
            spectra.
        """
        X = self._validate_X(X)
        return self._regress(self.regressor_, X) * self.latent_scale_ + self.latent_mean_

    def predict(self, X, return_std=False):
        """Predict spectra.

        Parameters
        ----------
        X : array-like
            Same layout as in ``fit``.
        return_std : bool, default=False
            Also return a per-pixel standard deviation (see Notes).

        Returns
        -------
        Y_pred : ndarray of shape (n_samples, n_wavelengths), float64
            Decoded predicted latents, in the units of the training spectra
            (1-D when ``fit`` got a 1-D ``Y``).
        Y_std : ndarray of shape (n_samples, n_wavelengths), float64
            Only with ``return_std=True``: the standard deviation of the
            decoded spectra of ``n_draws`` latents drawn around the prediction
            with the out-of-fold residual covariance, and the spectrum model's
            reconstruction variance, in quadrature, times ``std_scale_`` (see
            Notes). Non-negative. Without the observation noise when ``fit``
            got ``ivar``.

        Raises
        ------
        ValueError
            If ``X`` does not have the training layout, or ``return_std=True``
            with a model fitted with ``uncertainty_cv=None``.
        """
        X = self._validate_X(X)
        Zs = self._regress(self.regressor_, X)
        Y_pred = self._decode(Zs)
        if not return_std:
            return Y_pred[:, 0] if self._single_output_ else Y_pred
        if self.oof_latent_ is None:
            raise ValueError(
                "return_std=True needs the out-of-fold residuals computed in fit; this model was "
                "fitted with uncertainty_cv=None. Refit with uncertainty_cv=3 (say)."
            )
        Y_std = self._predictive_std(Zs)
        if self._single_output_:
            return Y_pred[:, 0], Y_std[:, 0]
        return Y_pred, Y_std

    def _predictive_std(self, Zs):
        var = _uncertainty.band_variance(self, Zs, _uncertainty.neighbours(self, Zs))
        return self.std_scale_ * np.sqrt(var)

    def chi2_score(self, X, Y, ivar):
        """Median reduced χ² of the predicted spectra against observed ones (lower is better).

        Parameters
        ----------
        X : array-like
            Same layout as in ``fit``.
        Y : array-like of shape (n_samples, n_wavelengths)
            Observed spectra; NaN or infinite where ``ivar == 0`` is allowed.
        ivar : array-like of shape (n_samples, n_wavelengths)
            Inverse variance of ``Y`` in flux⁻² (0 = masked).

        Returns
        -------
        chi2 : float
            Median over samples of ``Σ ivar (ŷ − y)² / N``, ``N`` the number of
            unmasked pixels of each spectrum. 1 means predictions as close as
            the noise.

        Raises
        ------
        ValueError
            If ``Y`` or ``ivar`` do not match the predictions, or a spectrum
            is fully masked.
        """
        Y_pred = np.asarray(self.predict(X)).reshape(len(Y), -1)
        Y = check_array(Y, dtype=np.float64, ensure_2d=False, ensure_all_finite=False)
        Y = Y.reshape(len(Y_pred), -1)
        if Y.shape != Y_pred.shape:
            raise ValueError(
                f"Y has shape {Y.shape} but the model predicts spectra of shape {Y_pred.shape}."
            )
        weight = check_ivar(np.reshape(ivar, Y.shape), Y)
        Y = mask_flux(Y, weight, "Y")  # masked flux may be NaN: it counts for nothing
        chi2 = np.sum(weight * (Y_pred - Y) ** 2, axis=1) / np.count_nonzero(weight > 0, axis=1)
        return float(np.median(chi2))
