"""ImageAutoencoder: a convolutional (optionally U-Net) image autoencoder and its anomaly scores."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..base import NeuralEstimatorMixin
from ..nn import ImageAutoencoder2d, WeightedBinaryCrossEntropy, WeightedSquaredError
from ..spectra._outlier import (
    CONTAMINATION_CONSTRAINT,
    ContaminationMixin,
    robust_scale,
    robust_sigma,
)
from ._augment import RandomDihedral
from ._input import ImageInputMixin
from ._pooling import (
    extended_statistic,
    log_min_tail,
    point_statistic,
    pooled_statistics,
    tail_spread,
)

__all__ = ["ImageAutoencoder"]


def _masked_robust_scale(residuals, good):
    """Per-pixel robust spread (:func:`~skspectra.spectra._outlier.robust_sigma`) of ``residuals``
    over the samples where ``good``.

    Without masked pixels this is :func:`skspectra.spectra._outlier.robust_scale`; with them,
    the same statistic over each pixel's unmasked values (a pixel masked everywhere gets the
    floor).
    """
    if np.all(good):
        return robust_scale(residuals, axis=0)
    r = np.where(good, residuals, np.nan)
    # a pixel masked in every image gives NaN, and its scale is the floor
    scale = np.nan_to_num(robust_sigma(r, axis=0, ignore_nan=True), nan=0.0)
    positive = scale[scale > 0]
    floor = 1e-6 * np.median(positive) if positive.size else 1e-12
    return np.maximum(scale, max(floor, 1e-12))


class ImageAutoencoder(
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    ContaminationMixin,
    ImageInputMixin,
    NeuralEstimatorMixin,
    BaseEstimator,
):
    """Convolutional autoencoder for images, optionally a U-Net, with anomaly scores.

    Levels of two 3×3 convolutions and 2×2 max pooling encode each image
    into ``n_components`` numbers; a mirrored decoder (bilinear upsampling to
    each encoder level's size, then two convolutions) rebuilds it. Images the
    model reconstructs badly are anomalous: ``score_samples`` pools the
    residual, in units of its expected spread, by three detectors (its worst
    pixels, the strongest line through it, its mean) and scores the least
    probable of them among the training images (see ``pooling``).

    It is a transformer (``transform`` gives the latent vectors) and an
    outlier detector with :class:`~sklearn.ensemble.IsolationForest`'s
    conventions.

    Parameters
    ----------
    n_components : int, default=8
        Size of the latent vector.
    skip_connections : bool, default=False
        Add U-Net skip connections (seed 004): each decoder level also sees
        the encoder's map of the same size. The reconstruction then **no
        longer passes only through the latent vector** — the skips carry the
        image around it — so reconstructions say nothing about how well
        ``n_components`` numbers describe an image, and
        :meth:`inverse_transform` raises a ``ValueError``.
    n_filters : int, default=16
        Convolution filters of the first level; each level doubles them.
        Seed 004 used 16 (16 → 32 → 64 → 128 with ``depth=4``). Chosen by
        ``python -m benchmarks.search.images_filters`` on 32 × 32 Hubble
        stamps (dev seeds 10-12, the other defaults): held-out MSE
        0.85× PCA-8's with 8 filters, 0.76× with 16 and 0.77× with 32, the
        anomaly ROC-AUC unchanged (0.90), each fit of 486 stamps taking
        about 75, 145 and 375 s on one CPU thread. (3 levels were chosen
        for these stamps on an earlier run whose results were not kept.)
    depth : int, default=3
        Number of encoder levels, each halving ``H`` and ``W`` (down to 1).
    loss : {'mse', 'bce'}, default='mse'
        ``'mse'``: ivar-weighted squared error on images standardised per
        band (any pixel unit), linear output. ``'bce'``: weighted binary
        cross-entropy with a sigmoid output, as in seed 004; pixels must
        lie in [0, 1] (see ``ImageNormalizer``) and are not standardised.
    augment : bool, default=True
        During training only, apply a random flip and 90° rotation to each
        image (and identically to its weight map). On Hubble stamps it cut
        the held-out MSE from 6.5e-3 to 4.1e-3 with 8 filters (less
        overfitting). Rotations need square
        images; non-square images get flips (and 180° turns) only. Inference
        never augments.
    image_shape : tuple of 3 int or None, default=None
        ``(C, H, W)`` of flat input rows (``(n_samples, C*H*W)``, for instance
        after a ``StandardScaler``). One entry may be -1, inferred as in
        :func:`numpy.reshape`. Flat input without ``image_shape`` raises a
        ``ValueError``; 3-D and 4-D input carries its own shape.
    pooling : {'detectors', 'top_pixels'}, default='detectors'
        How :meth:`score_samples` pools the anomaly map ``z`` (residual in σ)
        of an image. ``'top_pixels'``: minus the mean ``z²`` of its
        ``n_top_pixels`` worst pixel values. ``'detectors'``: three
        statistics, each matched to one kind of defect — the mean ``z²`` of
        the ``n_top_pixels`` worst pixel values (cosmic rays, hot pixels), the
        largest line integral of ``z`` clipped at ±3σ and summed over bands,
        per √length (satellite trails: the maximum of its Radon transform,
        Nir et al. 2018), and the mean ``z²`` over all pixels (blended
        neighbours, wrong shapes) — each turned into its upper-tail
        probability among the training images, and the score is the log of
        the smallest (see Notes). ``'detectors'`` and ``n_top_pixels=2`` were
        chosen by ``python -m benchmarks.search.images_pooling`` on Hubble
        stamps (dev seeds 10-12): for PCA-8 and the autoencoder with and
        without skips, the mean ROC-AUC of injected cosmic rays, satellite
        trails and blends rose from 0.69-0.79 (``'top_pixels'``, 16 pixels)
        to 0.86-0.89, mostly on trails.
    n_top_pixels : int or None, default=2
        Number of worst-fitted pixel values per image (over all bands) whose
        squared residuals (in σ) are averaged, so that a small defect (a
        cosmic ray) is not diluted over the whole image. ``None`` averages
        over all unmasked pixels. :meth:`fit` calibrates the scores with
        ``pooling`` and ``n_top_pixels``: scoring after either has changed
        raises a ``ValueError`` until the model is fitted again.
    contamination : 'auto' or float in (0, 0.5], default='auto'
        Expected fraction of outliers in the training set; sets ``offset_``.
        'auto' puts the threshold at Tukey's fence of the training scores,
        Q1 − 1.5 IQR.
    max_epochs : int, default=150
        Training epochs. On ~500 stamps fewer epochs left the model short of
        convergence (with 8 filters, held-out MSE 4.6e-3 after 60, 4.1e-3
        after 150).
    batch_size : int, default=16
        Images per gradient step (seed 004's), and per inference batch.
    lr : float, default=3e-3
        Adam learning rate (the initial one with ``lr_schedule="cosine"``).
    lr_schedule : {'cosine', 'constant'}, default='cosine'
        ``'cosine'`` anneals the learning rate from ``lr`` to 0 over
        ``max_epochs``.
    validation_fraction : float in [0, 1) or None, default=None
        Fraction of the training images held out to report ``valid_loss``
        (for ``EarlyStopping``, say). ``None`` or 0 trains on all of them.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks; deep-copied at ``fit``.
    device : str, default='cpu'
        PyTorch device to train and infer on, for example ``'cuda'``.
    inference_dtype : {'float64', 'float32'}, default='float64'
        Precision of inference. float64 makes results agree, to float64
        rounding, however images are batched; float32 is faster.
    verbose : int, default=0
        0 trains silently; 1 shows a progress bar over epochs with ETA and
        the loss in readable units, then a validation line; 2 also prints
        one line per epoch (:class:`skspectra.training.TrainingProgress`).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, augmentation and the
        validation split, without touching PyTorch's global random state.
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
        :class:`skspectra.nn.ImageAutoencoder2d`.
    history_ : skorch.History
        Per-epoch training record (``train_loss``, ``valid_loss``, ``dur``).
    image_shape_ : tuple of int
        ``(C, H, W)`` of the training images.
    mean_ : ndarray of shape (C,)
        Mean of the unmasked training pixels, per band.
    scale_ : ndarray of shape (C,)
        Their standard deviation per band. With ``loss='mse'`` the network
        sees ``(X - mean_) / scale_``; masked pixels are shown as 0 (the band
        mean), so whatever they hold cannot leak into the latents.
    residual_scale_ : ndarray of shape (C, H, W)
        Robust spread (1.4826 × MAD) of the training residuals per pixel.
    reference_statistics_ : ndarray of shape (n_training_images, 3)
        With ``pooling='detectors'``: the point, streak and extended
        statistics of the training images, each column sorted.
    reference_spread_ : ndarray of shape (3,)
        With ``pooling='detectors'``: the robust spread of each column of
        ``reference_statistics_``.
    offset_ : float
        Threshold on ``score_samples``, set from ``contamination``.
    n_features_in_ : int
        ``C*H*W``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` was a DataFrame.

    See Also
    --------
    sklearn.decomposition.PCA : The linear counterpart.
    sklearn.ensemble.IsolationForest : A model-free outlier detector.
    skspectra.SpectralCAE : The same estimator for spectra.

    Notes
    -----
    Pixels are weighted by ``w = ivar`` (1 when none is given, 0 at NaN
    pixels): the ``'mse'`` loss is ½ Σ w (x − x̂)² (Portillo et al. 2020),
    the ``'bce'`` loss − Σ w [x log x̂ + (1 − x) log(1 − x̂)]. Weights are
    divided by their mean over unmasked pixels, so ``lr`` does not depend
    on the flux unit. With a ``StandardScaler`` before the model, ivar must be
    multiplied by the scaler's ``scale_**2`` to stay an inverse variance of
    what the model sees.

    Outputs (:meth:`reconstruct`, :meth:`anomaly_map`) come back in the
    layout of their input; :meth:`inverse_transform` returns the layout seen
    in ``fit``.

    *Scores with* ``pooling='detectors'``. A statistic ``s`` of an image gets
    the tail probability ``(1 + #{training images with a statistic ≥ s}) /
    (n + 1)``; above the largest training value, ``exp(-(s - max) /
    spread) / (n + 1)``, with ``spread`` the robust standard deviation of
    the training values, so that images beyond every training one are still
    ranked. The score is the log of the smallest of the three probabilities:
    an image is as anomalous as its most surprising detector. The training
    statistics are in-sample (the model has seen those images), as is the
    threshold ``offset_``; :meth:`partial_fit` sets them from its batch.

    References
    ----------
    .. [1] Ronneberger, O., Fischer, P. & Brox, T. 2015, MICCAI,
       "U-Net: Convolutional networks for biomedical image segmentation".
    .. [2] The Astronomical Image Autoencoder seed project (seed 004): a U-Net
       autoencoder of FITS images with an 8-d latent, BCE loss and
       flip/rotation augmentation.
    .. [3] Nir, G., Zackay, B. & Ofek, E. O. 2018, AJ 156, 229, "Optimal and
       efficient streak detection in astronomical images".

    Examples
    --------
    >>> from skspectra.images import ImageAutoencoder
    >>> from skspectra.datasets import load_hubble_deep_field
    >>> stamps = load_hubble_deep_field(size=32).images
    >>> ae = ImageAutoencoder(n_components=8, max_epochs=2, random_state=0).fit(stamps[:64])
    >>> ae.transform(stamps[:5]).shape
    (5, 8)
    >>> ae.reconstruct(stamps[:5]).shape
    (5, 3, 32, 32)
    """

    _parameter_constraints = {
        **NeuralEstimatorMixin._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "skip_connections": ["boolean"],
        "n_filters": [Interval(Integral, 1, None, closed="left")],
        "depth": [Interval(Integral, 0, None, closed="left")],
        "loss": [StrOptions({"mse", "bce"})],
        "augment": ["boolean"],
        "image_shape": [tuple, list, None],
        "pooling": [StrOptions({"detectors", "top_pixels"})],
        "n_top_pixels": [Interval(Integral, 1, None, closed="left"), None],
        "lr_schedule": [StrOptions({"cosine", "constant"})],
        "contamination": CONTAMINATION_CONSTRAINT,
    }

    def __init__(
        self,
        n_components=8,
        *,
        skip_connections=False,
        n_filters=16,
        depth=3,
        loss="mse",
        augment=True,
        image_shape=None,
        pooling="detectors",
        n_top_pixels=2,
        contamination="auto",
        max_epochs=150,
        batch_size=16,
        lr=3e-3,
        lr_schedule="cosine",
        validation_fraction=None,
        callbacks=None,
        device="cpu",
        inference_dtype="float64",
        verbose=0,
        random_state=None,
        warm_start=False,
        amp=False,
    ):
        self.n_components = n_components
        self.skip_connections = skip_connections
        self.n_filters = n_filters
        self.depth = depth
        self.loss = loss
        self.augment = augment
        self.image_shape = image_shape
        self.pooling = pooling
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
        self.warm_start = warm_start
        self.amp = amp

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN pixels are masks
        return tags

    # -- building blocks for NeuralEstimatorMixin ---------------------------
    def _build_module(self, n_features):
        c, h, w = self.image_shape_
        return ImageAutoencoder2d(
            c,
            (h, w),
            self.n_components,
            self.n_filters,
            self.depth,
            skip_connections=self.skip_connections,
            output="sigmoid" if self.loss == "bce" else "linear",
        )

    def _build_criterion(self):
        return WeightedBinaryCrossEntropy() if self.loss == "bce" else WeightedSquaredError()

    def _net_kwargs(self):
        if not self.augment:
            return {}
        _, h, w = self.image_shape_
        return {"iterator_train__collate_fn": RandomDihedral(rotate=h == w)}

    @property
    def _n_features_out(self):
        return self.n_components

    def _terms(self, weight, ivar):
        """What the progress bar shows: χ² per pixel with ivar on one band, else the MSE over
        each band's variance (or the BCE per pixel)."""
        from ..training import LossTerm, squared_error_terms

        good = float(np.mean(weight > 0)) or 1.0
        if self.loss == "bce":
            text = "binary cross-entropy per unmasked pixel, nats"
            return [LossTerm("BCE/pix", "loss", 1.0 / good, text)]
        if ivar is not None and len(self.scale_) == 1:
            return squared_error_terms(weight, float(self.scale_[0]) ** 2, chi2=True)
        note = "" if ivar is None else "; each pixel weighted by ivar over its mean"
        return squared_error_terms(weight > 0, chi2=False, note=note)

    # -- standardisation ----------------------------------------------------
    def _fit_standardization(self, images, weight):
        good = weight > 0
        n_good = np.maximum(good.sum(axis=(0, 2, 3)), 1)
        mean = np.where(good, images, 0.0).sum(axis=(0, 2, 3)) / n_good
        dev = np.where(good, images - mean[:, None, None], 0.0)
        scale = np.sqrt((dev**2).sum(axis=(0, 2, 3)) / n_good)
        self.mean_ = mean
        self.scale_ = np.where(scale > 0, scale, 1.0)

    def _standardize(self, images, weight):
        """What the network sees: masked pixels at the band mean, standardised for 'mse'."""
        mean = self.mean_[:, None, None]
        if self.loss == "bce":
            return np.where(weight > 0, images, mean)
        return np.where(weight > 0, (images - mean) / self.scale_[:, None, None], 0.0)

    def _unstandardize(self, out):
        if self.loss == "bce":
            return out
        return out * self.scale_[:, None, None] + self.mean_[:, None, None]

    # -- fitting ------------------------------------------------------------
    def fit(self, X, y=None, ivar=None):
        """Train the autoencoder on images.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W), (n_samples, C, H, W) or (n_samples, C*H*W)
            Images, in any pixel unit (in [0, 1] for ``loss='bce'``). NaN
            pixels are masked. Flat rows need ``image_shape``.
        y : None
            Ignored.
        ivar : array-like of the shape of X, default=None
            Inverse variance of ``X`` in pixel-unit⁻²; 0 marks masked pixels.
            It weights the loss and, when given, the training scores that
            set ``offset_``.

        Returns
        -------
        self : ImageAutoencoder
            The fitted estimator.

        Raises
        ------
        ValueError
            If ``X`` holds infinite values, has more than 4 dimensions, is
            flat without ``image_shape`` (or does not match it), ``ivar`` does
            not match ``X``, an image is
            fully masked, ``loss='bce'`` and pixels lie outside [0, 1], or
            ``device`` names a GPU that is not there.
        """
        images, weight, _ = self._validate_images(X, ivar, reset=True)
        if self.loss == "bce":
            good = images[weight > 0]
            if good.size and (good.min() < 0 or good.max() > 1):
                raise ValueError(
                    f"loss='bce' needs pixel values in [0, 1], but X spans [{good.min():.3g}, "
                    f"{good.max():.3g}]; rescale the images (ImageNormalizer) or use loss='mse'."
                )
        if self._initialising():
            self._fit_standardization(images, weight)
        xs = self._standardize(images, weight)
        weight_norm = weight / np.mean(weight[weight > 0])
        self._fit_net(xs, np.stack([xs, weight_norm], axis=1), loss_terms=self._terms(weight, ivar))
        return self._fit_scores(images, weight, ivar is not None)

    def _fit_scores(self, images, weight, use_ivar):
        """Fit what the anomaly scores need on the training images: ``residual_scale_``,
        the detectors' reference statistics and ``offset_``."""
        residual = images - self._reconstruct(images, weight)
        self.residual_scale_ = _masked_robust_scale(residual, weight > 0)
        self._fitted_scoring = {"pooling": self.pooling, "n_top_pixels": self.n_top_pixels}
        if self.pooling == "detectors":
            statistics = self._statistics(images, weight, use_ivar)
            self.reference_statistics_ = np.sort(statistics, axis=0)
            self.reference_spread_ = tail_spread(statistics)
        self._set_offset(self._score(images, weight, use_ivar))
        return self

    def partial_fit(self, X, y=None, ivar=None, *, n_epochs=1):
        """Continue training on one batch of images (out-of-core and streamed training).

        The first call on an unfitted estimator sets the per-band
        standardisation (``mean_``, ``scale_``) from this first batch, so make
        it representative. Each call then trains ``n_epochs`` epochs over the
        batch, with no validation split and the learning-rate schedule planned
        over ``max_epochs`` epochs in all the calls (see
        :class:`~skspectra.training.StreamLRSchedule`), and recalibrates
        ``residual_scale_`` and ``offset_`` on the batch. After :meth:`fit` it
        continues from the fitted model.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W), (n_samples, C, H, W) or (n_samples, C*H*W)
            A batch of images of the first batch's shape, as in :meth:`fit`.
        y : None
            Ignored.
        ivar : array-like of the shape of X, default=None
            Inverse variance of ``X`` in pixel-unit⁻² (0 = masked).
        n_epochs : int, default=1
            Epochs over this batch.

        Returns
        -------
        self : ImageAutoencoder
            The estimator, trained further.

        Raises
        ------
        ValueError
            As :meth:`fit`, and if ``X`` does not have the number of pixels of
            the first batch or ``n_epochs`` is not a positive int.
        """
        return self._partial_fit(self.fit, X, y, ivar, n_epochs=n_epochs)

    def _partial_n_features(self, shape):
        return int(np.prod(shape[1:]))

    # -- inference ----------------------------------------------------------
    def _reconstruct(self, images, weight):
        xs = self._standardize(images, weight)
        return self._unstandardize(self._infer(lambda m, x: m(x), xs))

    def transform(self, X):
        """Encode images into latent vectors.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W), (n_samples, C, H, W) or (n_samples, C*H*W)
            Images in the layout and size seen in ``fit`` (flat or not). NaN
            pixels are masked.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)

        Raises
        ------
        ValueError
            If the images do not have the training shape.
        """
        images, weight, _ = self._validate_images(X, reset=False)
        xs = self._standardize(images, weight)
        return self._infer(lambda m, x: m.encode(x), xs)

    def inverse_transform(self, X):
        """Decode latent vectors into images (only without skip connections).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent vectors, as returned by :meth:`transform`.

        Returns
        -------
        images : ndarray
            In the layout seen in ``fit`` (``(n_samples, C*H*W)`` after flat
            input, so that a ``Pipeline`` can invert a scaler before it) and
            the units of the training images.

        Raises
        ------
        ValueError
            If ``skip_connections=True`` (the decoder then needs the
            encoder's feature maps, which a latent vector does not hold: use
            :meth:`reconstruct`), or ``X`` does not have ``n_components``
            columns.
        """
        check_is_fitted(self)
        if self.skip_connections:
            raise ValueError(
                "inverse_transform is undefined with skip_connections=True: the U-Net decoder "
                "needs the encoder's feature maps as well as the latent vector. Use "
                "reconstruct(X), or refit with skip_connections=False."
            )
        Z = check_array(X, dtype=np.float64)
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"inverse_transform expects latent vectors with {self.n_components} "
                f"columns (n_components), got {Z.shape[1]}."
            )
        out = self._unstandardize(self._infer(lambda m, z: m.decode(z), Z))
        return self._to_layout(out, self._fit_layout)

    def reconstruct(self, X, ivar=None):
        """Encode then decode images in one pass.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W), (n_samples, C, H, W) or (n_samples, C*H*W)
            Images; NaN pixels are masked.
        ivar : array-like of the shape of X, default=None
            Inverse variance; the values of masked pixels (ivar = 0) are not
            shown to the encoder, so whatever they hold does not matter.

        Returns
        -------
        images : ndarray of the shape of X
            The model's reconstruction, in the units of ``X``.
        """
        images, weight, layout = self._validate_images(X, ivar, reset=False)
        return self._to_layout(self._reconstruct(images, weight), layout)

    def _anomaly_map(self, images, weight, use_ivar):
        residual = images - self._reconstruct(images, weight)
        z = residual * np.sqrt(weight) if use_ivar else residual / self.residual_scale_
        return np.where(weight > 0, z, 0.0)

    def anomaly_map(self, X, ivar=None):
        """Per-pixel reconstruction residual in units of its uncertainty.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W), (n_samples, C, H, W) or (n_samples, C*H*W)
            Images; NaN pixels are masked.
        ivar : array-like of the shape of X, default=None
            Inverse variance of ``X`` (0 = masked). With it the residual is in
            σ: ``(x - x̂) * sqrt(ivar)``. Without it the residual is divided
            by ``residual_scale_``, the robust spread of the training
            residuals at that pixel.

        Returns
        -------
        z : ndarray of the shape of X
            Signed residual, 0 at masked pixels; positive where the image is
            brighter than its reconstruction.

        Raises
        ------
        ValueError
            If the images do not have the training shape, or ``ivar`` does
            not match ``X``.
        """
        images, weight, layout = self._validate_images(X, ivar, reset=False)
        return self._to_layout(self._anomaly_map(images, weight, ivar is not None), layout)

    def _statistics(self, images, weight, use_ivar):
        """The point, streak and extended statistics of each image: shape (n, 3)."""
        z = self._anomaly_map(images, weight, use_ivar)
        n_top = self.n_top_pixels or z[0].size
        return pooled_statistics(z, weight > 0, n_top)

    def _check_scoring_unchanged(self):
        """Refuse to score with a ``pooling`` or ``n_top_pixels`` other than the fitted one:
        the reference statistics and ``offset_`` were computed with it."""
        fitted = getattr(self, "_fitted_scoring", None)
        now = {"pooling": self.pooling, "n_top_pixels": self.n_top_pixels}
        if fitted is not None and fitted != now:
            raise ValueError(
                f"this model's scores were calibrated with pooling={fitted['pooling']!r} and "
                f"n_top_pixels={fitted['n_top_pixels']!r}, not pooling={self.pooling!r} and "
                f"n_top_pixels={self.n_top_pixels!r}: fit it again after set_params, or set "
                "them back."
            )

    def _score(self, images, weight, use_ivar):
        self._check_scoring_unchanged()
        if self.pooling == "detectors":
            statistics = self._statistics(images, weight, use_ivar)
            return log_min_tail(statistics, self.reference_statistics_, self.reference_spread_)
        z = self._anomaly_map(images, weight, use_ivar)
        if self.n_top_pixels is not None:
            return -point_statistic(z, self.n_top_pixels)
        return -extended_statistic(z, weight > 0)

    def score_samples(self, X, ivar=None):
        """Normality score: how probable, among the training images, the image's residual is.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W), (n_samples, C, H, W) or (n_samples, C*H*W)
            Images; NaN pixels are masked.
        ivar : array-like of the shape of X, default=None
            Inverse variance of ``X`` (0 = masked); see :meth:`anomaly_map`.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            With ``pooling='detectors'``, the log of the smallest tail
            probability, among the training images, of the three detector
            statistics of ``z = anomaly_map(X, ivar)`` (see Notes), at most 0.
            With ``pooling='top_pixels'``, ``-mean(z**2)`` over the
            ``n_top_pixels`` largest ``z**2`` of each image; with
            ``n_top_pixels=None``, over all unmasked pixels. The lower, the
            more abnormal.

        Raises
        ------
        ValueError
            If the images do not have the training shape, ``ivar`` does not
            match ``X``, or ``pooling`` or ``n_top_pixels`` was changed since
            :meth:`fit` (the reference statistics and ``offset_`` depend on
            them: refit).
        """
        images, weight, _ = self._validate_images(X, ivar, reset=False)
        return self._score(images, weight, ivar is not None)

    def score(self, X, y=None, ivar=None):
        """Mean reconstruction quality, for model selection (higher is better).

        Unlike :meth:`score_samples`, it does not divide by the model's own
        residual spread, so models with different hyper-parameters (in
        :class:`~sklearn.model_selection.GridSearchCV`) share one scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W), (n_samples, C, H, W) or (n_samples, C*H*W)
            Images; NaN pixels are masked.
        y : None
            Ignored.
        ivar : array-like of the shape of X, default=None
            Inverse variance (0 = masked); weights the squared residuals.

        Returns
        -------
        score : float
            Minus the (ivar-weighted) mean squared residual over unmasked pixels.
        """
        images, weight, _ = self._validate_images(X, ivar, reset=False)
        residual = images - self._reconstruct(images, weight)
        return -float(np.sum(weight * residual**2) / np.sum(weight > 0))
