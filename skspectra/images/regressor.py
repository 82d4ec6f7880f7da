"""ImageRegressor: a CNN from images (or an MLP from tabular features) to a vector of targets."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from ..base import NeuralEstimatorMixin, check_magnitude
from ..nn.regressor2d import MLP, ConvRegressor2d
from ..training import LossTerm
from ._spectrum_loss import LogChi2Loss
from .photometry import _aperture_weights

__all__ = ["ImageRegressor"]


#: The loss on standardised targets, shown by the progress bar.
_MSE_TERM = LossTerm(
    "MSE/var", "loss", 1.0, "mean squared error of the targets over their variance (1 − R²)"
)


_LOG_CHI2_TERM = LossTerm(
    "log(1+χ²/N)",
    "loss",
    1.0,
    "mean over spectra of log(1 + reduced χ²) of the decoded spectrum (ImageToSpectrum)",
)


class _ThroughDecoder(nn.Module):
    """The regressor, its target standardisation undone, then a frozen decoder to flux."""

    def __init__(self, regressor, target_mean, target_scale, decoder):
        super().__init__()
        self.regressor = regressor
        self.decoder = decoder
        self.register_buffer("target_mean", torch.as_tensor(target_mean, dtype=torch.float32))
        self.register_buffer("target_scale", torch.as_tensor(target_scale, dtype=torch.float32))

    def forward(self, x):
        return self.decoder(self.regressor(x) * self.target_scale + self.target_mean)


def _spread(values, axis):
    """Mean and standard deviation along ``axis``; a zero spread becomes 1 (constant inputs)."""
    mean = values.mean(axis=axis)
    std = values.std(axis=axis)
    return mean, np.where(std > 0, std, 1.0)


class ImageRegressor(MultiOutputMixin, RegressorMixin, NeuralEstimatorMixin, BaseEstimator):
    """Regress a vector of targets on images with a CNN, or on tabular features with an MLP.

    Images of shape ``(n_samples, n_bands, H, W)`` (or ``(n_samples, H, W)``
    for one band, or flat ``(n_samples, n_bands * H * W)`` with
    ``image_shape``) go through the shared convolutional encoder
    :class:`skspectra.nn.ConvEncoder2d` (``depth`` levels of two 3×3
    convolutions with GroupNorm and ReLU, then 2×2 max pooling), then dense
    layers of ``hidden_layer_sizes``, which with ``aperture_radii`` also read
    each band's aperture photometry. A 2-D ``X`` without ``image_shape`` is
    tabular: the network is a multi-layer perceptron with those dense layers,
    as sklearn's :class:`~sklearn.neural_network.MLPRegressor`.

    Inputs are standardised inside the estimator (per band over all pixels
    for images, per column for tabular data) and so are the targets (per
    column); predictions come back in the units of ``y``, as float64.
    Training minimises the mean squared error of the standardised targets
    with Adam.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(128, 128)
        Widths of the dense hidden layers (after the convolutions for images).
        ``()`` gives a linear model (tabular) or the encoder's linear head alone
        (images).
    image_shape : tuple of int or None, default=None
        ``(n_bands, H, W)`` or ``(H, W)`` of the images when ``X`` is given flat,
        as ``(n_samples, n_bands * H * W)`` (for example after a
        :class:`~sklearn.preprocessing.StandardScaler`, which rejects 4-D
        arrays). ``None``: a 2-D ``X`` is tabular.
    n_filters : int, default=16
        Convolution filters of the encoder's first level; each level doubles
        them. Images only.
    depth : int, default=3
        Number of encoder levels, each halving ``H`` and ``W``. Images only.
    dropout : float in [0, 1), default=0.0
        Dropout probability after each dense hidden layer.
    aperture_radii : tuple of float, default=()
        Radii, in pixels, of circular apertures at the image centre (where
        :func:`~skspectra.datasets.make_image_spectrum_pairs` puts its
        objects). The first dense layer then also reads the mean of each
        standardised band over each aperture: the aperture photometry that
        tree baselines are given, passed to the network directly rather than
        left for the convolutions to learn. Pixels cut by a circle count by
        the fraction inside, as in :func:`~skspectra.images.aperture_photometry`.
        Images only (ignored for tabular input); needs a non-empty
        ``hidden_layer_sizes``. ``ImageToSpectrum``'s default regressor uses
        ``(2.0, 3.0, 5.0)``.
    alpha : float >= 0, default=1e-4
        L2 penalty (Adam's ``weight_decay``), as in ``MLPRegressor``.
    max_epochs : int, default=200
        Training epochs.
    batch_size : int, default=64
        Samples per gradient step, and per inference batch.
    lr : float, default=3e-3
        Adam learning rate (the initial one with ``lr_schedule="cosine"``).
        On the photometry → Gaia XP latents of ``bench_image_to_spectrum.py``,
        3e-3 gave a lower held-out χ² than 1e-3 or 1e-2 at 200 epochs, in a
        tuning run not kept as a script.
    lr_schedule : {"cosine", "constant"}, default="cosine"
        ``"cosine"`` anneals the learning rate from ``lr`` to 0 over
        ``max_epochs``.
    validation_fraction : float in [0, 1) or None, default=None
        Fraction of the training samples held out to report ``valid_loss``
        (for skorch's ``EarlyStopping``, say). ``None`` or 0 trains on all.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks; deep-copied at ``fit``.
    device : str, default='cpu'
        PyTorch device, for example ``'cuda'``.
    inference_dtype : {'float64', 'float32'}, default='float64'
        Precision of inference. float64 makes predictions agree, to float64
        rounding, however samples are batched; float32 is faster.
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
        :class:`skspectra.nn.ConvRegressor2d` (images) or a
        :class:`skspectra.nn.MLP` (tabular).
    history_ : skorch.History
        Per-epoch training record (``train_loss``: mean squared error of the
        standardised targets).
    image_shape_ : tuple of int or None
        ``(n_bands, H, W)`` the network reads; ``None`` for tabular input.
    input_mean_, input_scale_ : ndarray of shape (n_bands,) or (`n_features_in_`,)
        Standardisation of the inputs: per band for images, per column for
        tabular data (a constant input gets scale 1).
    target_mean_, target_scale_ : ndarray of shape (`n_outputs_`,)
        Standardisation of the targets.
    n_outputs_ : int
        Number of targets.
    n_features_in_ : int
        ``X.shape[1]`` in ``fit``: the number of bands for 3-D/4-D input,
        the number of columns for 2-D input.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` was a DataFrame.

    See Also
    --------
    ImageToSpectrum : Uses this estimator to predict spectral latents.
    sklearn.neural_network.MLPRegressor : The tabular counterpart.

    References
    ----------
    .. [1] Wu, J. F., & Peek, J. E. G. 2020, arXiv:2009.12318, "Predicting
       galaxy spectra from images with hybrid convolutional neural networks".
    .. [2] The seed project "Converting multi-colour images into spectra
       using deep learning" (a CNN from grizy images to VAE latents).

    Examples
    --------
    Photometric redshift from 3-band 16×16 cutouts (here random arrays stand in
    for the images):

    >>> import numpy as np
    >>> from skspectra.images import ImageRegressor
    >>> rng = np.random.default_rng(0)
    >>> cutouts = rng.normal(size=(200, 3, 16, 16))
    >>> z_spec = rng.uniform(0, 1, 200)
    >>> reg = ImageRegressor(depth=2, n_filters=8, max_epochs=3, random_state=0)
    >>> reg.fit(cutouts, z_spec).predict(cutouts[:4]).shape
    (4,)

    Tabular input (magnitudes, colours) gives an MLP:

    >>> mags = rng.normal(size=(200, 6))
    >>> ImageRegressor(max_epochs=3, random_state=0).fit(mags, z_spec).predict(mags).shape
    (200,)
    """

    _parameter_constraints = {
        **NeuralEstimatorMixin._parameter_constraints,
        "hidden_layer_sizes": ["array-like"],
        "image_shape": ["array-like", None],
        "n_filters": [Interval(Integral, 1, None, closed="left")],
        "depth": [Interval(Integral, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "aperture_radii": ["array-like"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "lr_schedule": [StrOptions({"cosine", "constant"})],
    }

    def __init__(
        self,
        hidden_layer_sizes=(128, 128),
        *,
        image_shape=None,
        n_filters=16,
        depth=3,
        dropout=0.0,
        aperture_radii=(),
        alpha=1e-4,
        max_epochs=200,
        batch_size=64,
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
        self.hidden_layer_sizes = hidden_layer_sizes
        self.image_shape = image_shape
        self.n_filters = n_filters
        self.depth = depth
        self.dropout = dropout
        self.aperture_radii = aperture_radii
        self.alpha = alpha
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

    # -- layouts ------------------------------------------------------------
    def _hidden_sizes(self):
        sizes = tuple(np.ravel(self.hidden_layer_sizes).tolist())
        if any(not isinstance(s, Integral) or isinstance(s, bool) or s < 1 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be a sequence of positive ints, "
                f"got {self.hidden_layer_sizes!r}."
            )
        return sizes

    def _layout(self, X):
        """``(n_bands, H, W)`` of the images in ``X``, or None for tabular input."""
        if X.ndim == 4:
            shape = X.shape[1:]
        elif X.ndim == 3:
            shape = (1, *X.shape[1:])
        elif X.ndim == 2 and self.image_shape is not None:
            shape = tuple(int(s) for s in np.ravel(self.image_shape))
            if len(shape) == 2:
                shape = (1, *shape)
            if len(shape) != 3 or min(shape) < 1:
                raise ValueError(
                    f"image_shape must be (n_bands, H, W) or (H, W) with positive sizes, "
                    f"got {self.image_shape!r}."
                )
            if int(np.prod(shape)) != X.shape[1]:
                raise ValueError(
                    f"X has {X.shape[1]} columns but image_shape={self.image_shape!r} needs "
                    f"{int(np.prod(shape))} (= n_bands * H * W); fix image_shape or give X as "
                    "(n_samples, n_bands, H, W)."
                )
        elif X.ndim == 2:
            return None
        else:
            raise ValueError(
                f"X must be 2-D (tabular, or flat images with image_shape), 3-D (n, H, W) or "
                f"4-D (n, n_bands, H, W); got {X.ndim} dimensions."
            )
        return tuple(int(s) for s in shape)

    def _as_network_input(self, X):
        """Reshape validated ``X`` to the network's layout and standardise it."""
        if self.image_shape_ is None:
            return (X - self.input_mean_) / self.input_scale_
        if self._layout(X) != self.image_shape_:
            raise ValueError(
                f"X holds images of shape {self._layout(X)} (n_bands, H, W) but the model was "
                f"fitted on {self.image_shape_}; resample the images to the training size."
            )
        X = X.reshape(len(X), *self.image_shape_)
        return (X - self.input_mean_[:, None, None]) / self.input_scale_[:, None, None]

    # -- building blocks for NeuralEstimatorMixin ---------------------------
    def _build_module(self, n_features, decoder=None):
        hidden = self._hidden_sizes()
        if self.image_shape_ is None:
            module = MLP(n_features, hidden, self.n_outputs_, self.dropout)
        else:
            c, h, w = self.image_shape_
            module = ConvRegressor2d(
                c,
                (h, w),
                self.n_outputs_,
                self.n_filters,
                self.depth,
                hidden,
                self.dropout,
                apertures=self._apertures((h, w), hidden),
            )
        if decoder is None:
            return module
        return _ThroughDecoder(module, self.target_mean_, self.target_scale_, decoder)

    def _apertures(self, image_size, hidden):
        """Pixel weights (R, H, W) of ``aperture_radii``, each summing to 1; None without radii."""
        radii = np.ravel(self.aperture_radii).tolist()
        if not radii:
            return None
        if any(not isinstance(r, Real) or isinstance(r, bool) or not r > 0 for r in radii):
            raise ValueError(
                f"aperture_radii must be positive numbers of pixels, got {self.aperture_radii!r}."
            )
        if not hidden:
            raise ValueError(
                "aperture_radii needs at least one dense layer, which reads the aperture "
                "photometry; give a non-empty hidden_layer_sizes or aperture_radii=()."
            )
        h, w = image_size
        weights = np.stack(
            [_aperture_weights((h, w), ((w - 1) / 2, (h - 1) / 2), float(r), 5) for r in radii]
        )
        covered = weights.sum(axis=(1, 2))
        if np.any(covered <= 0):
            raise ValueError(
                f"aperture_radii {self.aperture_radii!r}: an aperture covers no pixel; use a "
                "radius of at least 0.5 pixels."
            )
        return weights / covered[:, None, None]

    def _build_criterion(self):
        return LogChi2Loss() if getattr(self, "_decoded_fit", False) else nn.MSELoss()

    def _net_kwargs(self):
        return {"optimizer__weight_decay": self.alpha}

    # -- fitting ------------------------------------------------------------
    def fit(self, X, y):
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands, H, W), (n_samples, H, W) or (n, n_features)
            Images (any flux unit, one per band), or flat images with
            ``image_shape``, or tabular features.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.

        Returns
        -------
        self : ImageRegressor
            The fitted estimator.

        Raises
        ------
        ValueError
            If ``X`` or ``y`` hold NaN or infinite values, ``X`` has a number of
            dimensions other than 2, 3 or 4, ``image_shape`` does not match the
            columns of a flat ``X``, ``hidden_layer_sizes`` is not a sequence
            of positive ints, or ``device`` names a GPU that is not there.
        """
        X, y = self._validate_fit_X(X, y=y, multi_output=True, y_numeric=True, allow_nd=True)
        self._hidden_sizes()
        y = np.asarray(y, dtype=np.float64)
        y2 = y.reshape(len(y), -1)
        if self._initialising():
            self.image_shape_ = self._layout(X)
            self._single_output_ = y.ndim == 1
            self.n_outputs_ = y2.shape[1]
            if self.image_shape_ is None:
                self.input_mean_, self.input_scale_ = _spread(X, axis=0)
            else:
                images = X.reshape(len(X), *self.image_shape_)
                self.input_mean_, self.input_scale_ = _spread(images, axis=(0, 2, 3))
            self.target_mean_, self.target_scale_ = _spread(y2, axis=0)
        elif y2.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y2.shape[1]} columns but the first batch had {self.n_outputs_}; "
                "partial_fit continues training on targets of the same width."
            )
        self._fit_net(
            self._as_network_input(X),
            (y2 - self.target_mean_) / self.target_scale_,
            loss_terms=[_MSE_TERM],
        )
        return self

    def _fit_through_decoder(self, X, y, flux, ivar, decoder):
        """Train so that ``decoder(predict(X))`` fits ``flux`` in χ² (ImageToSpectrum's loss).

        The targets ``y`` (latents) set the output standardisation only; the
        loss is :class:`~skspectra.images._spectrum_loss.LogChi2Loss` of the
        decoded prediction against ``flux`` with inverse variance ``ivar``
        (0 = masked). ``decoder`` (a frozen torch module, latents → flux) is
        not kept: ``net_.module_`` is the regressor alone, so that
        :meth:`predict` returns latents as after :meth:`fit`.
        """
        X, y = self._validate_fit_X(X, y=y, multi_output=True, y_numeric=True, allow_nd=True)
        self._hidden_sizes()
        y2 = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        self.image_shape_ = self._layout(X)
        self._single_output_ = y2.shape[1] == 1 and np.ndim(y) == 1
        self.n_outputs_ = y2.shape[1]
        if self.image_shape_ is None:
            self.input_mean_, self.input_scale_ = _spread(X, axis=0)
        else:
            images = X.reshape(len(X), *self.image_shape_)
            self.input_mean_, self.input_scale_ = _spread(images, axis=(0, 2, 3))
        self.target_mean_, self.target_scale_ = _spread(y2, axis=0)
        target = np.stack([np.where(ivar > 0, flux, 0.0), ivar], axis=1)
        self._decoded_fit = True
        try:
            self._fit_net(
                self._as_network_input(X), target, loss_terms=[_LOG_CHI2_TERM], decoder=decoder
            )
        finally:
            del self._decoded_fit
        self.net_.module_ = self.net_.module_.regressor
        return self

    def partial_fit(self, X, y, *, n_epochs=1):
        """Continue training on one batch (out-of-core and streamed training).

        The first call on an unfitted estimator sets the input and target
        standardisation (``input_mean_``, ``input_scale_``, ``target_mean_``,
        ``target_scale_``) from this first batch, so make it representative.
        Each call then trains ``n_epochs`` epochs over the batch, with no
        validation split and the learning-rate schedule planned over
        ``max_epochs`` epochs in all the calls (see
        :class:`~skspectra.training.StreamLRSchedule`). After :meth:`fit` it
        continues from the fitted model.

        Parameters
        ----------
        X : array-like
            A batch in the layout and shape of the first batch, as in :meth:`fit`.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets, with the first batch's number of columns.
        n_epochs : int, default=1
            Epochs over this batch.

        Returns
        -------
        self : ImageRegressor
            The estimator, trained further.

        Raises
        ------
        ValueError
            As :meth:`fit`, and if ``X`` or ``y`` does not have the shape of the
            first batch or ``n_epochs`` is not a positive int.
        """
        return self._partial_fit(self.fit, X, y, n_epochs=n_epochs)

    # -- inference ----------------------------------------------------------
    def _validate_X(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32], allow_nd=True)
        return check_magnitude(X)

    def predict(self, X):
        """Predict the targets.

        Parameters
        ----------
        X : array-like
            Same layout as in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets), float64
            In the units of ``y``; 1-D when ``fit`` got a 1-D ``y``.

        Raises
        ------
        ValueError
            If ``X`` does not have the training layout (columns, bands or
            image size).
        """
        X = self._validate_X(X)
        z = self._infer(lambda m, x: m(x), self._as_network_input(X))
        y = z * self.target_scale_ + self.target_mean_
        return y[:, 0] if self._single_output_ else y
