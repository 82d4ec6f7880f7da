"""SpectralCAE: a 1-D convolutional autoencoder for spectra, and its anomaly scores."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..base import NeuralEstimatorMixin, check_ivar
from ..nn import ConvAutoencoder1d, WeightedSquaredError
from ._outlier import CONTAMINATION_CONSTRAINT, ContaminationMixin, robust_scale
from ._scaling import StandardizationMixin

__all__ = ["SpectralCAE"]


class ReconstructionMixin:
    """Residual-based scores for an estimator with ``reconstruct(X)``.

    It needs ``_reconstruct`` (on validated arrays), ``residual_scale_`` (set
    by :meth:`_fit_residual_scale`), ``_validate_X``, and a module with
    ``decode`` for :meth:`inverse_transform`.
    """

    def _fit_residual_scale(self, X):
        self.residual_scale_ = robust_scale(X - self._reconstruct(X), axis=0)

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
        """Per-pixel reconstruction residual in units of its uncertainty.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X`` in flux⁻² (0 = masked). With it the
            residual is in σ: ``(x - x̂) * sqrt(ivar)``, and 0 at masked pixels.
            Without it the residual is divided by ``residual_scale_``, the
            robust per-pixel spread (1.4826 × MAD) of the training residuals.

        Returns
        -------
        z : ndarray of shape (n_samples, n_wavelengths)
            Signed residual; positive where the spectrum is above its
            reconstruction (emission), negative below (absorption, drop-out).

        Raises
        ------
        ValueError
            If ``X`` does not have the training number of pixels, or ``ivar``
            does not match ``X``.
        """
        X = self._validate_X(X)
        if ivar is None:
            return (X - self._reconstruct(X)) / self.residual_scale_
        ivar = check_ivar(ivar, X)
        return (X - self._reconstruct(X, ivar)) * np.sqrt(ivar)

    def score_samples(self, X, ivar=None):
        """Normality score: minus the χ² of the worst-fitted pixels of the reconstruction.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X`` (0 = masked). Without it, each pixel is
            weighted by the training residual spread (see :meth:`anomaly_map`).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``-mean(z**2)`` over the ``n_top_pixels`` largest ``z**2`` of each
            spectrum, ``z = anomaly_map(X, ivar)``; with ``n_top_pixels=None``,
            over all unmasked pixels (the reduced χ²). The lower, the more
            abnormal (sklearn convention).
        """
        z2 = self.anomaly_map(X, ivar=ivar) ** 2
        k = getattr(self, "n_top_pixels", None)
        if k is not None:
            k = min(k, z2.shape[1])
            return -np.mean(-np.partition(-z2, k - 1, axis=1)[:, :k], axis=1)
        if ivar is None:
            return -np.mean(z2, axis=1)
        n_used = np.count_nonzero(np.asarray(ivar) > 0, axis=1)
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
        X = self._validate_X(X)
        weight = check_ivar(ivar, X)
        residual = X - self._reconstruct(X, weight)
        return -float(np.sum(weight * residual**2) / np.sum(weight > 0))


class SpectralCAE(
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    ContaminationMixin,
    ReconstructionMixin,
    StandardizationMixin,
    NeuralEstimatorMixin,
    BaseEstimator,
):
    """Convolutional autoencoder for spectra, with anomaly scores from its residuals.

    A stack of strided 1-D convolutions encodes each spectrum into
    ``n_components`` numbers; a mirrored stack of interpolations and
    convolutions rebuilds it. Spectra the model reconstructs badly are
    anomalous: ``score_samples`` is minus their reduced χ².

    It is a transformer (``transform`` gives the latent vectors) and an
    outlier detector with :class:`~sklearn.ensemble.IsolationForest`'s
    conventions.

    Parameters
    ----------
    n_components : int, default=32
        Size of the latent vector.
    n_filters : int, default=16
        Convolution filters of the first level; each level doubles them.
    depth : int, default=3
        Number of stride-2 downsampling levels.
    kernel_size : int, default=5
        Convolution kernel size in pixels; must be odd.
    n_top_pixels : int or None, default=5
        ``score_samples`` averages the squared residuals (in σ) of this many
        worst-fitted pixels per spectrum, so that a narrow feature (a line, a
        cosmic ray) is not diluted over the whole spectrum. ``None`` averages
        over all unmasked pixels (the reduced χ²).
    contamination : 'auto' or float in (0, 0.5], default='auto'
        Expected fraction of outliers in the training set; sets ``offset_``.
        'auto' puts the threshold at Tukey's box-plot fence of the training
        scores, Q1 − 1.5 IQR.
    max_epochs : int, default=150
        Training epochs.
    batch_size : int, default=32
        Spectra per gradient step, and per inference batch.
    lr : float, default=2e-3
        Adam learning rate (the initial one with ``lr_schedule="cosine"``).
    lr_schedule : {"cosine", "constant"}, default="cosine"
        ``"cosine"`` anneals the learning rate from ``lr`` to 0 over
        ``max_epochs`` (skorch ``LRScheduler`` with ``CosineAnnealingLR``).
    validation_fraction : float in [0, 1) or None, default=0.1
        Fraction of the training spectra held out to report ``valid_loss``
        (for ``EarlyStopping``, say). ``None`` or 0 trains on all of them.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks (``EarlyStopping``, ``LRScheduler``,
        ``Checkpoint``...). They are deep-copied at ``fit``.
    device : str, default='cpu'
        PyTorch device to train and infer on, for example ``'cuda'``.
    inference_dtype : {'float64', 'float32'}, default='float64'
        Precision of inference. float64 makes results independent of how
        spectra are batched; float32 is about 2× faster.
    verbose : int, default=0
        0 trains silently; 1 prints skorch's epoch table and a progress bar.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split,
        without touching PyTorch's global random state.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is a
        :class:`skspectra.nn.ConvAutoencoder1d`.
    history_ : skorch.History
        Per-epoch training record (``train_loss``, ``valid_loss``, ``dur``).
    mean_ : ndarray of shape (n_features_in_,)
        The (ivar-weighted) mean training spectrum.
    scale_ : float
        Standard deviation of the training flux about ``mean_``. The network
        sees ``(X - mean_) / scale_``, so that it models the differences
        between spectra, in any flux unit; one scale for all pixels keeps
        their relative weights.
    residual_scale_ : ndarray of shape (n_features_in_,)
        Robust spread of the training residuals per pixel.
    offset_ : float
        Threshold on ``score_samples``, set from ``contamination``.
    n_features_in_ : int
        Number of wavelength pixels seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame.

    See Also
    --------
    sklearn.decomposition.PCA : The linear counterpart.
    sklearn.ensemble.IsolationForest : A model-free outlier detector.

    Notes
    -----
    The loss is the Gaussian negative log-likelihood
    ½ Σ ivar (x − x̂)², with ivar = 1 when none is given and masked pixels at
    weight 0 (Portillo et al. 2020; Melchior et al. 2023). With a
    ``StandardScaler`` before the model, ivar must be rescaled by the
    scaler's ``scale_**2`` to stay an inverse variance of what the model sees.

    References
    ----------
    .. [1] Portillo, S. K. N. et al. 2020, AJ 160, 45,
       "Dimensionality reduction of SDSS spectra with variational autoencoders".
    .. [2] The SpectralCNNAutoencoder seed project: anomaly detection in SDSS
       spectra from convolutional-autoencoder residuals.

    Examples
    --------
    >>> from skspectra import SpectralCAE
    >>> from skspectra.datasets import load_gaia_xp
    >>> data = load_gaia_xp()
    >>> cae = SpectralCAE(n_components=8, max_epochs=5, random_state=0)
    >>> cae.fit(data.flux[:500], ivar=data.ivar[:500])
    SpectralCAE(n_components=8, max_epochs=5, random_state=0)
    >>> cae.predict(data.flux[:5]).shape
    (5,)
    """

    _parameter_constraints = {
        **NeuralEstimatorMixin._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_filters": [Interval(Integral, 1, None, closed="left")],
        "depth": [Interval(Integral, 0, None, closed="left")],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "n_top_pixels": [Interval(Integral, 1, None, closed="left"), None],
        "lr_schedule": [StrOptions({"cosine", "constant"})],
        "contamination": CONTAMINATION_CONSTRAINT,
    }

    def __init__(
        self,
        n_components=32,
        *,
        n_filters=16,
        depth=3,
        kernel_size=5,
        n_top_pixels=5,
        contamination="auto",
        max_epochs=150,
        batch_size=32,
        lr=2e-3,
        lr_schedule="cosine",
        validation_fraction=0.1,
        callbacks=None,
        device="cpu",
        inference_dtype="float64",
        verbose=0,
        random_state=None,
    ):
        self.n_components = n_components
        self.n_filters = n_filters
        self.depth = depth
        self.kernel_size = kernel_size
        self.n_top_pixels = n_top_pixels
        self.contamination = contamination
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.validation_fraction = validation_fraction
        self.callbacks = callbacks
        self.device = device
        self.inference_dtype = inference_dtype
        self.verbose = verbose
        self.random_state = random_state

    # -- building blocks for NeuralEstimatorMixin ---------------------------
    def _build_module(self, n_features):
        return ConvAutoencoder1d(
            n_features, self.n_components, self.n_filters, self.depth, self.kernel_size
        )

    def _build_criterion(self):
        return WeightedSquaredError()

    @property
    def _n_features_out(self):
        return self.n_components

    # -- fitting ------------------------------------------------------------
    def fit(self, X, y=None, ivar=None):
        """Train the autoencoder on spectra.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux, all on one wavelength grid, in any unit.
        y : None
            Ignored.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X`` in flux⁻²; 0 marks masked pixels. It
            weights the loss and, when given, the training scores that set
            ``offset_``.

        Returns
        -------
        self : SpectralCAE
            The fitted estimator.

        Raises
        ------
        ValueError
            If ``X`` holds NaN or infinite values, ``ivar`` does not match
            ``X``, a spectrum is fully masked, ``kernel_size`` is even, or
            ``device`` names a GPU that is not there.
        """
        X = self._validate_fit_X(X)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {self.kernel_size}.")
        weight = check_ivar(ivar, X)
        self._fit_standardization(X, weight)
        Xs = self._standardize(X, weight)
        weight_norm = weight / np.mean(weight[weight > 0])
        self._fit_net(Xs, np.stack([Xs, weight_norm], axis=1))
        self._fit_residual_scale(X)
        self._set_offset(self.score_samples(X, ivar=ivar))
        return self

    # -- inference ----------------------------------------------------------
    def transform(self, X):
        """Encode spectra into latent vectors.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
        """
        X = self._validate_X(X)
        return self._infer(lambda m, x: m.encode(x), self._standardize(X))

    def reconstruct(self, X, ivar=None):
        """Encode then decode spectra in one pass.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance; the flux of masked pixels (ivar = 0) is not
            shown to the encoder, so whatever they hold does not matter.

        Returns
        -------
        flux : ndarray of shape (n_samples, n_wavelengths)
            The model's reconstruction, in the units of ``X``.
        """
        X = self._validate_X(X)
        return self._reconstruct(X, None if ivar is None else check_ivar(ivar, X))

    def _reconstruct(self, X, ivar=None):
        Xs = self._standardize(X, ivar)
        return self._unstandardize(self._infer(lambda m, x: m(x), Xs))
