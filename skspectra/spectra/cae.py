"""SpectralCAE: a 1-D convolutional autoencoder for spectra, and its anomaly scores."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import NeuralEstimatorMixin, check_ivar
from ..nn import ConvAutoencoder1d, WeightedSquaredError
from ..training import squared_error_terms
from ._latent_density import LatentDensityMixin
from ._outlier import CONTAMINATION_CONSTRAINT, ContaminationMixin
from ._reconstruction import ReconstructionMixin
from ._scaling import StandardizationMixin

__all__ = ["SpectralCAE"]


def _principal_axes(Xs, n_components):
    """The first ``n_components`` principal axes of centred spectra, ``(K, L)``, zero-padded
    when there are fewer spectra or pixels than components."""
    _, _, vt = np.linalg.svd(Xs - Xs.mean(axis=0), full_matrices=False)
    basis = np.zeros((n_components, Xs.shape[1]))
    k = min(n_components, vt.shape[0])
    basis[:k] = vt[:k]
    return basis


def _check_n_components(n_components, n_features):
    """A latent vector longer than a spectrum is an identity map, not a compression: refuse it.

    The message names ``n_features=...`` as scikit-learn's common checks expect.
    """
    if n_components > n_features:
        raise ValueError(
            f"n_components={n_components} is larger than the number of wavelengths in X "
            f"(n_features={n_features}); the latent vector cannot hold more numbers than a "
            f"spectrum has pixels. Choose n_components <= {n_features}."
        )


class SpectralCAE(
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    ContaminationMixin,
    LatentDensityMixin,
    ReconstructionMixin,
    StandardizationMixin,
    NeuralEstimatorMixin,
    BaseEstimator,
):
    """Convolutional autoencoder for spectra, with anomaly scores from its residuals.

    A stack of strided 1-D convolutions encodes each spectrum into
    ``n_components`` numbers; a mirrored stack of interpolations and
    convolutions rebuilds it. Spectra the model reconstructs badly are
    anomalous, and so are spectra whose latent vector lies where few others
    do (``anomaly_score``).

    It is a transformer (``transform`` gives the latent vectors) and an
    outlier detector with :class:`~sklearn.ensemble.IsolationForest`'s
    conventions.

    Parameters
    ----------
    n_components : int, default=40
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
    anomaly_score : {"combined", "residual", "latent"}, default="combined"
        What ``score_samples`` measures: ``"residual"``, the χ² of the
        worst-fitted pixels; ``"latent"``, the mean distance to the nearest
        training latent vectors (rare spectra that are reconstructed well, such
        as hot stars among cool ones); ``"combined"``, the worse of the two,
        each in robust σ units of its training distribution. See Notes.
    noise : {"auto", "estimate"}, default="auto"
        How residuals are put in σ units. ``"auto"`` uses ``ivar`` where it is
        given and estimates the noise from the residuals where it is not;
        ``"estimate"`` always estimates it and uses ``ivar`` only as a mask
        (for inverse variances you do not trust). See Notes.
    trim_fraction : float in [0, 0.5), default=0.05
        Fraction of each training batch's worst-fitted spectra left out of the
        loss (least trimmed squares), so that anomalies in the training set
        are learned less. The default comes from an earlier single-seed run
        of the transductive anomaly benchmark whose results were not kept;
        ``python -m benchmarks.search.anomaly --cae`` searches the scoring
        defaults on the dev seeds.
    pca_init : bool, default=True
        Give the autoencoder a linear encoder and decoder path initialised
        from the first ``n_components`` principal axes of the training
        spectra, with the convolutional paths starting at zero: training
        starts from PCA's reconstruction and learns a non-linear correction,
        so it converges in far fewer epochs.
    contamination : 'auto' or float in (0, 0.5], default='auto'
        Expected fraction of outliers in the training set; sets ``offset_``.
        'auto' puts the threshold at Tukey's box-plot fence of the training
        scores, Q1 − 1.5 IQR.
    max_epochs : int, default=20
        Training epochs. With ``pca_init`` training starts from PCA's
        reconstruction, so a few tens of epochs are enough.
    batch_size : int, default=64
        Spectra per gradient step, and per inference batch.
    lr : float, default=1e-3
        Adam learning rate (the peak one with ``lr_schedule="onecycle"``, the
        initial one with ``"cosine"``).
    lr_schedule : {"onecycle", "cosine", "constant"}, default="onecycle"
        ``"onecycle"`` warms the learning rate up to ``lr`` over the first 30 %
        of the steps, then anneals it (``OneCycleLR``, stepped each batch);
        ``"cosine"`` anneals it from ``lr`` to 0 over ``max_epochs``
        (``CosineAnnealingLR``). Both through skorch's ``LRScheduler``.
    validation_fraction : float in [0, 1) or None, default=0.1
        Fraction of the training spectra held out to report ``valid_loss``
        (for ``EarlyStopping``, say). ``None`` or 0 trains on all of them.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks (``EarlyStopping``, ``LRScheduler``,
        ``Checkpoint``...). They are deep-copied at ``fit``.
    device : str, default='cpu'
        PyTorch device to train and infer on, for example ``'cuda'``.
    inference_dtype : {'float64', 'float32'}, default='float64'
        Precision of inference. float64 makes results agree, to float64
        rounding, however spectra are batched; float32 is faster.
    verbose : int, default=0
        0 trains silently; 1 shows a progress bar over epochs with ETA and
        the loss in readable units, then a validation line; 2 also prints
        one line per epoch (:class:`skspectra.training.TrainingProgress`).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split,
        without touching PyTorch's global random state.
    warm_start : bool, default=False
        When True and the estimator is fitted, ``fit`` continues training
        ``net_`` (weights, Adam state, history) for ``max_epochs`` more
        epochs, with the learning-rate schedule restarted; the
        standardisation statistics are recomputed from the new ``X``, so use
        it with data like the first. False trains a new network.
    amp : bool, default=False
        Automatic mixed precision in training: float16 autocast with a
        gradient scaler on CUDA, bfloat16 autocast on CPU, where its speed
        depends on the CPU's bfloat16 support. Inference follows
        ``inference_dtype``. See :class:`skspectra.training.TrainingNet`.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is a
        :class:`skspectra.nn.ConvAutoencoder1d`.
    history_ : skorch.History
        Per-epoch training record (``train_loss``, ``valid_loss``, ``dur``).
    mean_ : ndarray of shape (`n_features_in_`,)
        The (ivar-weighted) mean training spectrum.
    scale_ : float
        Standard deviation of the training flux about ``mean_``. The network
        sees ``(X - mean_) / scale_``, so that it models the differences
        between spectra, in any flux unit; one scale for all pixels keeps
        their relative weights.
    residual_scale_ : ndarray of shape (`n_features_in_`,)
        Per-pixel noise scale ``b_j`` of the training residuals (see Notes),
        in flux units: the residual σ at each pixel of a typical spectrum.
    latent_scaler_ : sklearn.preprocessing.StandardScaler
        Standardises the latent vectors for the latent score.
    latent_neighbors_ : sklearn.neighbors.NearestNeighbors
        Fitted on the standardised training latent vectors; used by the
        ``"latent"`` and ``"combined"`` scores.
    latent_self_distance_ : float
        A training latent vector closer than this to a scored one is that
        spectrum itself (1e-4 of the median neighbour distance), and is not
        counted as its neighbour.
    score_stats_ : dict
        Median and robust σ (1.4826 MAD) of the training ``log χ²`` and latent
        anomaly scores, which put them on one scale for ``"combined"``.
    offset_ : float
        Threshold on ``score_samples``, set from ``contamination`` with the
        ``anomaly_score`` rule used at ``fit``.
    n_features_in_ : int
        Number of wavelength pixels seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` was a DataFrame.

    See Also
    --------
    sklearn.decomposition.PCA : The linear counterpart.
    sklearn.ensemble.IsolationForest : A model-free outlier detector.
    skspectra.SpectralPipeline : A Pipeline that rescales ``ivar`` through
        scaling steps before this model.

    Notes
    -----
    The loss is the Gaussian negative log-likelihood
    ½ Σ ivar (x − x̂)², with ivar = 1 when none is given and masked pixels at
    weight 0 (Portillo et al. 2020; Melchior et al. 2023). With a
    ``StandardScaler`` before the model, ivar must be rescaled by the
    scaler's ``scale_**2`` to stay an inverse variance of what the model sees:
    :class:`~skspectra.SpectralPipeline` does this.

    *Noise without ivar.* The residual ``r_ij = x_ij − x̂_ij`` is modelled as
    Gaussian with ``σ_ij = a_i b_j``: one level per spectrum (its S/N) times
    one shape along the wavelength grid. ``b_j`` (``residual_scale_``) is
    fitted on the training residuals by Tukey's median polish of
    ``log|r_ij|``; ``a_i`` is re-estimated for every scored spectrum as
    ``median_j(|r_ij| / b_j) / 0.6745``. Medians make both robust: a line or a
    cosmic ray covers a few pixels and cannot inflate them. Then
    ``anomaly_map`` is in σ whether or not ivar was given.

    *Scores.* The residual anomaly is the mean of the ``n_top_pixels`` largest
    ``z²``. The latent anomaly is the mean distance of the standardised latent
    vector to its 10 nearest training latent vectors (a neighbour at distance
    0 is the spectrum itself and is skipped, so a training set can be ranked
    by its own model). ``"combined"`` maps the ``log`` of both
    anomaly scores to robust z-scores over the training set and takes the
    larger.

    References
    ----------
    .. [1] Portillo, S. K. N. et al. 2020, AJ 160, 45,
       "Dimensionality reduction of SDSS spectra with variational autoencoders".
    .. [2] The SpectralCNNAutoencoder seed project: anomaly detection in SDSS
       spectra from convolutional-autoencoder residuals.
    .. [3] Tukey, J. W. 1977, "Exploratory Data Analysis" (median polish).
    .. [4] Rousseeuw, P. J. 1984, JASA 79, 871, "Least median of squares
       regression" (trimmed losses).
    .. [5] Smith, L. N. & Topin, N. 2019, "Super-convergence" (one-cycle
       learning rate).

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
        "anomaly_score": [StrOptions({"residual", "latent", "combined"})],
        "noise": [StrOptions({"auto", "estimate"})],
        "trim_fraction": [Interval(Real, 0, 0.5, closed="left")],
        "pca_init": ["boolean"],
        "lr_schedule": [StrOptions({"onecycle", "cosine", "constant"})],
        "contamination": CONTAMINATION_CONSTRAINT,
    }

    def __init__(
        self,
        n_components=40,
        *,
        n_filters=16,
        depth=3,
        kernel_size=5,
        n_top_pixels=5,
        anomaly_score="combined",
        noise="auto",
        trim_fraction=0.05,
        pca_init=True,
        contamination="auto",
        max_epochs=20,
        batch_size=64,
        lr=1e-3,
        lr_schedule="onecycle",
        validation_fraction=0.1,
        callbacks=None,
        device="cpu",
        inference_dtype="float64",
        verbose=0,
        random_state=None,
        warm_start=False,
        amp=False,
    ):
        self.n_components = n_components
        self.n_filters = n_filters
        self.depth = depth
        self.kernel_size = kernel_size
        self.n_top_pixels = n_top_pixels
        self.anomaly_score = anomaly_score
        self.noise = noise
        self.trim_fraction = trim_fraction
        self.pca_init = pca_init
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
        self.warm_start = warm_start
        self.amp = amp

    # -- building blocks for NeuralEstimatorMixin ---------------------------
    def _module_rebuild_kwargs(self, module):
        """``_build_module`` arguments that rebuild ``module``'s layout (for load_model)."""
        if getattr(module, "linear_encoder", None) is None:
            return {}
        return {"linear_basis": np.zeros(tuple(module.linear_encoder.weight.shape))}

    def _build_module(self, n_features, linear_basis=None):
        return ConvAutoencoder1d(
            n_features,
            self.n_components,
            self.n_filters,
            self.depth,
            self.kernel_size,
            linear_basis=linear_basis,
        )

    def _build_criterion(self):
        return WeightedSquaredError(trim_fraction=self.trim_fraction)

    @property
    def _n_features_out(self):
        return self.n_components

    # -- fitting ------------------------------------------------------------
    def fit(self, X, y=None, ivar=None):
        """Train the autoencoder on spectra.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux, all on one wavelength grid, in any unit. Masked pixels
            (``ivar == 0``) may hold NaN or infinity: their flux is never used.
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
            If ``X`` holds NaN or infinite values at unmasked pixels (the
            message names the rows), ``ivar`` does not match ``X``, a spectrum
            is fully masked, ``n_components`` exceeds the number of
            wavelengths, ``kernel_size`` is even, or ``device`` names a GPU
            that is not there.
        """
        X, ivar = self._validate_flux(X, ivar, reset=True)
        _check_n_components(self.n_components, X.shape[1])
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {self.kernel_size}.")
        weight = check_ivar(ivar, X)
        if not self._uses_ivar_as_sigma(ivar):
            weight = (weight > 0).astype(np.float64)  # ivar only masks
        if self._initialising():
            self._fit_standardization(X, weight)
        Xs = self._standardize(X, weight)
        weight_norm = weight / np.mean(weight[weight > 0])
        basis = None
        if self.pca_init and self._initialising():
            basis = _principal_axes(Xs, self.n_components)
        terms = squared_error_terms(
            weight,
            np.square(self.scale_),
            chi2=self._uses_ivar_as_sigma(ivar),
            note=f"; leaves out the worst {self.trim_fraction:.0%} of each batch"
            if self.trim_fraction
            else "",
        )
        self._fit_net(Xs, np.stack([Xs, weight_norm], axis=1), linear_basis=basis, loss_terms=terms)
        self._fit_residual_scale(X, ivar)
        self._fit_anomaly_scores(X, ivar)
        self._set_offset(self.score_samples(X, ivar=ivar))
        return self

    def partial_fit(self, X, y=None, ivar=None, *, n_epochs=1):
        """Continue training on one batch of spectra (out-of-core and streamed training).

        The first call on an unfitted estimator sets the standardisation
        (``mean_``, ``scale_``) and, with ``pca_init``, the PCA start from this
        first batch, so make it representative. Each call then trains
        ``n_epochs`` epochs over the batch, with no validation split, the
        learning-rate schedule planned over ``max_epochs`` epochs in all the
        calls (see :class:`~skspectra.training.StreamLRSchedule`), and
        recalibrates the anomaly scores (noise scale, latent reference set,
        ``offset_``) on the batch. After :meth:`fit` it continues from the fitted
        model. :func:`~skspectra.training.fit_in_chunks` drives it over arrays
        larger than memory.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            A batch of flux, on the wavelength grid of the first batch.
        y : None
            Ignored.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X`` in flux⁻² (0 = masked), as in :meth:`fit`.
        n_epochs : int, default=1
            Epochs over this batch.

        Returns
        -------
        self : SpectralCAE
            The estimator, trained further.

        Raises
        ------
        ValueError
            As :meth:`fit`, and if ``X`` does not have the number of pixels of
            the first batch or ``n_epochs`` is not a positive int.
        """
        return self._partial_fit(self.fit, X, y, ivar, n_epochs=n_epochs)

    def score_samples(self, X, ivar=None):
        """Normality score of each spectrum, by the rule ``anomaly_score`` names.

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
            The lower, the more abnormal (sklearn convention):

            - ``"residual"``: ``-mean(z**2)`` over the ``n_top_pixels`` largest
              ``z**2`` of each spectrum, ``z = anomaly_map(X, ivar)`` (over all
              unmasked pixels, the reduced χ², with ``n_top_pixels=None``);
            - ``"latent"``: minus the mean distance of the standardised latent
              vector to its 10 nearest training latent vectors;
            - ``"combined"``: minus the larger of the two anomaly scores, each in
              robust σ units of its training distribution.

        Raises
        ------
        ValueError
            If ``X`` does not have the training number of pixels, or ``ivar``
            does not match ``X``.
        """
        return self._anomaly_scores(X, ivar)

    def _encode(self, X, ivar=None):
        """Latent vectors of validated flux, masked pixels hidden from the encoder."""
        return self._infer(lambda m, x: m.encode(x), self._standardize(X, ivar))

    # -- inference ----------------------------------------------------------
    def transform(self, X, ivar=None):
        """Encode spectra into latent vectors.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X``; only its mask is used: the flux of
            pixels with ``ivar == 0`` (which may be NaN) is not shown to the
            encoder, as in ``fit``.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)

        Raises
        ------
        ValueError
            If ``X`` does not have the training number of pixels, holds NaN or
            infinite flux at unmasked pixels, or ``ivar`` does not match ``X``.
        """
        return self._encode(*self._validate_flux(X, ivar))

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
        return self._reconstruct(*self._validate_flux(X, ivar))

    def _reconstruct(self, X, ivar=None):
        Xs = self._standardize(X, ivar)
        return self._unstandardize(self._infer(lambda m, x: m(x), Xs))
