"""SpectralVAE: a 1-D convolutional variational autoencoder for spectra.

It gives a latent space with a prior (``transform``, ``encode``), synthetic
spectra (``sample``) and an anomaly score, the evidence lower bound
(``score_samples``).
"""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..base import NeuralEstimatorMixin, check_ivar
from ..nn.vae import LIKELIHOODS, ConvVAE1d, VAELoss, gaussian_kl, pixel_nll
from ._conditional import (
    LABEL_ATTRIBUTES,
    check_labels,
    fit_label_head,
    predict_latents,
    sample_latents,
)
from ._outlier import CONTAMINATION_CONSTRAINT, ContaminationMixin
from ._reconstruction import ReconstructionMixin
from ._scaling import StandardizationMixin
from ._vae_callbacks import ELBOTermsLogger, KLWarmup, ObjectiveLogger, ValidEarlyStopping
from .cae import _check_n_components, _principal_axes

__all__ = ["SpectralVAE"]

#: Components of the Gaussian mixture fitted to the training latents (``latent_mixture_``).
AGGREGATE_MIXTURE_COMPONENTS = 10
#: Learning rate of the PCA-initialised linear path relative to ``lr``. Adam moves every
#: weight by about ``lr`` per step whatever its size; the encoder's linear weights are
#: ~1e-2, so at the full rate the latents jump and training diverges in spikes; at 1 % of
#: it training is smooth.
LINEAR_LR_FACTOR = 0.01


def _pixel_stats(X, good):
    """Mean and standard deviation of each pixel over its unmasked values (``good``).

    A pixel masked everywhere uses all its values. The standard deviation is floored at 1e-3
    times the median of the positive ones (or, for data with no spread at all, at the median
    absolute flux, or 1), so constant pixels are merely shifted, not blown up.
    """
    good = good | ~np.any(good, axis=0)
    n_good = np.sum(good, axis=0)
    mean = np.sum(np.where(good, X, 0.0), axis=0) / n_good
    std = np.sqrt(np.sum(np.where(good, (X - mean) ** 2, 0.0), axis=0) / n_good)
    positive = std[std > 0]
    if positive.size:
        floor = 1e-3 * float(np.median(positive))
    else:
        floor = float(np.median(np.abs(X))) or float(np.max(np.abs(X))) or 1.0
    return mean, np.maximum(std, floor)


def _linear_init(Xs, weight, scale, n_components):
    """Whitened principal axes of the flux, as the VAE's linear path in standardised units.

    The axes are plain PCA's (:class:`~sklearn.decomposition.PCA` of the flux, not of the
    standardised or ivar-weighted flux), so that the latents start as PCA's scores and know
    what PCA's know (``benchmarks/bench_latent.py`` measures the kNN probe of both). Latents
    are whitened (unit variance over the training set) so that they start on the scale of the
    prior.

    Parameters
    ----------
    Xs : ndarray of shape (n_samples, n_features)
        Standardised spectra (per-pixel mean subtracted, masked pixels at 0).
    weight : ndarray of shape (n_samples, n_features)
        Inverse variances in the units of ``Xs``.
    scale : ndarray of shape (n_features,)
        The per-pixel scale that standardised the flux (``Xs * scale`` is in flux units).
    n_components : int

    Returns
    -------
    encoder : ndarray of shape (n_components, n_features)
    decoder : ndarray of shape (n_features, n_components)
    logvar : ndarray of shape (n_components,)
        Log-variance of each latent's posterior under the linear-Gaussian model,
        ``-log(1 + median_n Σ_λ w_nλ B_λk²)``.
    """
    axes = _principal_axes(Xs * scale, n_components)  # (K, L), in flux units
    std = (Xs * scale @ axes.T).std(axis=0)
    used = std > 1e-12 * max(float(std.max()), 1e-300)
    std = np.where(used, std, 1.0)
    encoder = np.where(used[:, None], axes * scale / std[:, None], 0.0)
    decoder = np.where(used[None, :], axes.T * std / scale[:, None], 0.0)
    precision = 1.0 + np.median(weight @ decoder**2, axis=0)
    return encoder, decoder, -np.log(precision)


def _pixel_ivar(weight):
    """Per-pixel median of the positive inverse variances (0 where a pixel is never unmasked)."""
    masked = np.where(weight > 0, weight, np.nan)
    out = np.zeros(weight.shape[1])
    seen = np.any(weight > 0, axis=0)
    out[seen] = np.nanmedian(masked[:, seen], axis=0)
    return out


class SpectralVAE(
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    ContaminationMixin,
    ReconstructionMixin,
    StandardizationMixin,
    NeuralEstimatorMixin,
    BaseEstimator,
):
    r"""Convolutional variational autoencoder for spectra: latents, synthetic spectra, ELBO scores.

    The encoder of :class:`SpectralCAE` (strided 1-D convolutions, optionally
    followed by self-attention) maps each spectrum to the mean and
    log-variance of a Gaussian posterior over ``n_components`` latents; the
    mirrored decoder maps latents back to spectra. Training maximises the
    evidence lower bound (ELBO) of an inverse-variance weighted likelihood
    with a standard normal prior (Kingma & Welling 2014; Portillo et al. 2020).

    It is a transformer (``transform`` gives the posterior means), a generative
    model (``sample`` draws spectra from the prior) and an outlier detector
    with :class:`~sklearn.ensemble.IsolationForest`'s conventions:
    ``score_samples`` is the per-spectrum ELBO, lower for stranger spectra.

    Parameters
    ----------
    n_components : int, default=6
        Number of latents.
    beta : float >= 0, default=1.0
        Weight of the KL term. 1 is the true ELBO; below 1 trades a less
        regular latent space for sharper reconstructions, above 1 the reverse
        (the β-VAE of Higgins et al. 2017).
    kl_warmup_epochs : int >= 0, default=0
        Epochs over which the KL weight rises linearly from 0 to ``beta``
        (see Notes). 0 uses ``beta`` from the first epoch, which suits the
        PCA start: its posteriors are calibrated from the first step.
    attention : bool, default=False
        Add a residual multi-head self-attention block over the downsampled
        feature sequence, between the convolutions and the encoder's head, so
        distant parts of the spectrum can inform each other.
    likelihood : {'gaussian', 'laplace'}, default='gaussian'
        Per-pixel likelihood, both with variance ``1 / ivar``. 'gaussian' is
        ½ ivar (x − x̂)²; 'laplace', √(2 ivar) ``|x − x̂|``, is less pulled by a few
        bad pixels.
    n_filters : int, default=16
        Convolution filters of the first level; each level doubles them.
    depth : int, default=3
        Number of stride-2 downsampling levels.
    kernel_size : int, default=5
        Convolution kernel size in pixels; must be odd.
    pca_init : bool, default=True
        Give the network a linear path initialised from PCA: the posterior
        mean starts as the whitened principal-component scores of the flux,
        the decoder as PCA's reconstruction (mean + components), and the
        convolutional paths start at zero, so they learn a non-linear
        correction to PCA (see Notes). False trains from random weights.
    latent_mean : {'learned', 'pca'}, default='learned'
        'learned' lets the convolutional encoder correct the posterior means
        that the PCA start gives. 'pca' keeps them equal to the whitened PCA
        scores (up to the per-latent shift and scale of the calibration, see
        Notes): the latents then carry exactly what PCA's do, and the
        network learns only the decoder and the posterior widths; it needs
        ``pca_init=True``. 'learned' is ahead on every figure of
        ``benchmarks/search/vae_latent_mean.py`` (dev seeds; held-out χ²/N
        1.64 against 2.11, kNN probe 0.95× PCA's error against a tie).
    conditional : bool, default=False
        Also learn spectra from labels: ``fit(X, y=labels)`` then trains a
        label head (an MLP from labels such as Teff, logg and [Fe/H] to the
        latents, trained through the frozen decoder on the ivar-weighted χ²
        of the decoded spectrum), and :meth:`predict_spectra` (labels → mean
        spectrum) and ``sample(y=labels)`` become available (see
        Conditional mode in Notes). False ignores ``y``, as a transformer in
        a :class:`~sklearn.pipeline.Pipeline` must.
    n_iter_no_change : int >= 1 or None, default=10
        Early stopping: training ends when the validation objective (the
        loss at ``beta``, ``valid_objective`` in ``history_``) has not
        improved for this many epochs, and the weights of its best epoch,
        or of the untrained start, are restored (skorch's
        ``EarlyStopping``). Needs a validation split
        (``validation_fraction``); None trains ``max_epochs`` epochs.
    contamination : 'auto' or float in (0, 0.5], default='auto'
        Expected fraction of outliers in the training set; sets ``offset_``.
        'auto' puts the threshold at Tukey's fence of the training ELBOs,
        Q1 − 1.5 IQR.
    max_epochs : int, default=200
        Most training epochs; early stopping (``n_iter_no_change``) usually
        ends training well before.
    batch_size : int, default=128
        Spectra per gradient step, and per inference batch.
    lr : float, default=1e-3
        Adam learning rate. For a schedule, pass skorch's ``LRScheduler`` in
        ``callbacks`` (see Examples).
    validation_fraction : float in [0, 1) or None, default=0.1
        Fraction of the training spectra held out to report ``valid_loss``
        and to stop early. ``None`` or 0 trains on all of them for
        ``max_epochs`` epochs.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks (``EarlyStopping``, ``LRScheduler``,
        ``Checkpoint``...). They are deep-copied at ``fit``.
    device : str, default='cpu'
        PyTorch device to train and infer on, for example ``'cuda'``.
    inference_dtype : {'float64', 'float32'}, default='float64'
        Precision of inference. float64 makes results agree, to float64
        rounding, however spectra are batched; float32 is faster.
    verbose : int, default=0
        0 trains silently; 1 shows a progress bar over epochs with ETA, the
        χ² per pixel and the KL of the last epoch, then a validation line; 2
        also prints one line per epoch. The history holds ``beta``,
        ``train_nll`` and ``train_kl``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, the reparametrisation noise, shuffling
        and the validation split, without touching PyTorch's global random
        state.
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
        :class:`skspectra.nn.ConvVAE1d` and ``net_.criterion_`` a
        :class:`skspectra.nn.VAELoss`.
    history_ : skorch.History
        Per-epoch training record: ``train_loss`` and ``valid_loss`` (minus
        the ELBO per spectrum at the epoch's ``beta``, nats), ``train_nll``,
        ``train_kl`` (and ``valid_*``), ``beta`` during warm-up, ``dur``.
    mean_ : ndarray of shape (`n_features_in_`,)
        Mean training spectrum (over unmasked pixels). Where ``ivar == 0``,
        the encoder sees this instead of the flux.
    scale_ : ndarray of shape (`n_features_in_`,)
        Standard deviation of the training flux at each pixel (floored at
        1e-3 of its median). The network works on standardised spectra
        ``(X - mean_) / scale_`` with inverse variances ``ivar * scale_**2``,
        which leaves the χ², and so the loss, unchanged in any flux unit.
    pixel_ivar_ : ndarray of shape (`n_features_in_`,)
        Median training inverse variance of each pixel (ones when ``fit`` had
        no ``ivar``); the weights of :meth:`score_samples` without ``ivar``.
    latent_mixture_ : sklearn.mixture.GaussianMixture
        A 10-component, full-covariance Gaussian mixture of the training
        posterior means, for ``sample(source='aggregate')``.
    residual_scale_ : ndarray of shape (`n_features_in_`,)
        Robust spread of the training residuals per pixel, for
        :meth:`anomaly_map` without ``ivar``.
    n_labels_ : int
        Number of labels per spectrum (``conditional=True`` only).
    label_regressor_ : skspectra.images.ImageRegressor
        The label head, labels → standardised latents (``conditional=True``
        only).
    label_latent_mean_, label_latent_scale_ : ndarray of shape (n_components,)
        Mean and standard deviation of the training latents: the head predicts
        ``(z - label_latent_mean_) / label_latent_scale_`` (``conditional=True``
        only).
    training_labels_ : ndarray of shape (n_samples, n_labels)
        The training labels (``conditional=True`` only).
    label_scale_ : ndarray of shape (n_labels,)
        Standard deviation of each training label, the unit of label
        distances in ``sample(y=labels)`` (``conditional=True`` only).
    latent_residuals_ : ndarray of shape (n_samples, n_components)
        Each training star's latents less the head's prediction for its
        labels: the scatter that ``sample(y=labels)`` draws from
        (``conditional=True`` only).
    offset_ : float
        Threshold on ``score_samples``, set from ``contamination``.
    n_features_in_ : int
        Number of wavelength pixels seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` was a DataFrame.

    See Also
    --------
    SpectralCAE : The deterministic autoencoder it shares its blocks with.
    sklearn.decomposition.PCA : The linear counterpart (probabilistic PCA is a
        linear-Gaussian VAE).
    sklearn.ensemble.IsolationForest : A model-free outlier detector.

    Notes
    -----
    **Loss.** For a spectrum :math:`x` with inverse variance :math:`w`, the
    loss is

    .. math::

        \mathcal L(x) = \tfrac12 \sum_\lambda w_\lambda\,(x_\lambda - \hat x_\lambda(z))^2
                       + \beta\,\mathrm{KL}\big(q(z\mid x)\,\|\,\mathcal N(0, I)\big),
        \qquad z \sim q(z\mid x),

    summed over pixels and averaged over spectra, with masked pixels at
    :math:`w = 0`. Both terms are per spectrum in nats; with ``beta = 1`` and
    ``w`` the true inverse variance it is minus the ELBO (up to ½ Σ log(2π/w),
    which the model cannot change). Unlike :class:`SpectralCAE`, the weights
    are **not** normalised by their mean: the balance between the χ² and the
    KL is what makes it an ELBO, so the absolute scale of ``ivar`` matters.
    A spectrum with χ²/N ≈ 1 over N = 343 pixels costs ≈ 170 nats, against a
    few nats per latent for the KL.

    **Without ivar** every pixel has weight 1: the model assumes Gaussian noise
    of standard deviation 1 *in the units of X*. On raw flux of order 1 with
    percent-level variations that noise swamps the signal, the KL dominates
    and latents collapse onto the prior; after a
    :class:`~sklearn.preprocessing.StandardScaler` the noise is as large as
    the spread of the training set at each pixel, so the posteriors stay
    wide. Watch ``train_kl`` in ``history_``. Pass ``ivar`` (for a scaled input,
    ``ivar * scaler.scale_**2``), or lower ``beta``.

    **PCA start.** With ``pca_init`` the network is
    ``mean(x) = A x`` (``+ conv(x)`` with ``latent_mean='learned'``),
    ``x̂(z) = B z + c + deconv(z)``, where the
    rows of ``A`` are the first ``n_components`` principal axes of the
    training flux divided by the standard deviation of their scores (whitened
    latents, on the prior's scale), ``B`` maps them back (PCA's
    reconstruction), and the last layers of the convolutional paths are zero.
    The untrained model *is* PCA, with the posterior widths of the
    linear-Gaussian model, ``log σ_k² = -log(1 + median Σ_λ w_λ B_λk²)``.
    Early stopping scores that untrained model on the validation split
    before the first epoch and restores the best epoch, the start included,
    so training can only keep or lower the validation objective. The linear
    path learns at 1 % of ``lr`` (Adam moves every weight by about ``lr``
    per step, far too much for the ~1e-2 weights of ``A``: at the full rate
    the validation loss spikes). ``benchmarks/bench_latent.py`` measures the
    held-out χ²/N against PCA's at several k (tables in
    ``benchmarks/README.md``).

    **KL warm-up.** With ``kl_warmup_epochs > 0`` a ``KLWarmup``
    callback sets the criterion's ``beta`` to ``beta * min(1, (e - 1) /
    kl_warmup_epochs)`` at the start of epoch ``e`` (Bowman et al. 2016), so
    the decoder learns before the KL pulls posteriors onto the prior.

    **Latent calibration.** The training objective does not change if a
    latent is shifted and rescaled and the decoder's first layer undoes it,
    but the KL does; its gradient along these directions is tiny next to
    the χ²'s, so the optimiser leaves the training latents off-centre and
    spread much wider than the prior. After training, each latent is mapped to
    ``(z - b) / a`` with ``b = mean(mu)``, ``a² = var(mu) + mean(sigma²)``
    over the training set: the closed-form minimum of the mean KL over such
    maps. Reconstructions are unchanged, the ELBO rises, and the training
    posteriors then have mean 0 and second moment 1, as the prior.

    **Sampling.** Matching two moments does not make the training latents
    Gaussian: on high-S/N spectra the posteriors are narrow and the latents
    of real stars fill a thin, curved region of the prior (the temperature
    sequence), so most prior draws decode to spectra unlike any star, some
    with negative flux. ``examples/plot_vae_gaia_xp.py`` prints the median
    χ²/N between sampled spectra and their nearest training star for
    ``source='aggregate'``, which draws from a Gaussian mixture of the
    training latents, for ``source='prior'``, and for real held-out stars.
    Hence ``'aggregate'`` is the default of :meth:`sample`. A larger
    ``beta`` is no cure: on high-S/N spectra the χ² term of the ELBO is
    much larger than the KL, so the posteriors stay far narrower than the
    prior.

    **Conditional mode.** With ``conditional=True``, after the VAE is
    trained (on the spectra alone, so the latents are those of the
    unconditional model), a label head learns ``z(labels)``: the tabular
    MLP of :class:`~skspectra.images.ImageRegressor` with three hidden
    layers of 256 and :class:`~skspectra.images.ImageToSpectrum`'s epochs
    rule, trained on ``log(1 + χ²/N)`` of the decoded spectrum through the
    frozen decoder, as ``ImageToSpectrum`` trains its default regressor.
    :meth:`predict_spectra` decodes ``z(labels)``; ``sample(y=labels)`` decodes
    ``z(labels) + ε``, where ``ε = z_j − z(labels_j)`` is the residual of a
    training star ``j`` drawn at random from the 20 nearest in labels (in
    units of each label's spread): the spread of real stars at those labels
    that the labels do not explain (e.g. reddening by dust), which differs
    from giants to dwarfs. A Gaussian of the residuals' covariance would
    mix directions of latent space that no star combines: its draws left
    the stars' manifold (negative flux) in ``examples/plot_vae_labels.py``.
    This is The Cannon's job (Ness et al. 2015), a data-driven forward model
    from labels to spectra, with a non-linear model in place of a quadratic
    one. ``benchmarks/bench_generative.py`` measures the held-out χ²/N of
    :meth:`predict_spectra` against The Cannon's on Gaia XP (APOGEE labels) and on
    MILES.

    **Scores.** ``score_samples`` is the ELBO with ``beta = 1``, whatever
    ``beta`` was trained with, and its reconstruction term evaluated at the
    posterior mean (a deterministic plug-in estimate, slightly above the
    Monte Carlo ELBO). Without ``ivar`` it weights pixels by
    ``pixel_ivar_``. Spectra with more unmasked pixels have larger χ² for
    the same fit quality; compare ELBOs between spectra with similar masks.

    References
    ----------
    .. [1] Portillo, S. K. N., Parejko, J. K., Vergara, J. R., & Connolly,
       A. J. 2020, AJ 160, 45, "Dimensionality reduction of SDSS spectra with
       variational autoencoders".
    .. [2] Kingma, D. P., & Welling, M. 2014, ICLR, "Auto-encoding
       variational Bayes", arXiv:1312.6114.
    .. [3] Bowman, S. R. et al. 2016, CoNLL, "Generating sentences from a
       continuous space" (KL warm-up).
    .. [4] Ghosh, P., Sajjadi, M. S. M., Vergari, A., Black, M., &
       Schölkopf, B. 2020, ICLR, "From variational to deterministic
       autoencoders" (ex-post density estimation of the latents).
    .. [5] The Deep-Generative-Model-Stellar-Spectra seed project (T. Jani):
       a convolutional VAE of APOGEE stellar spectra with reconstruction + KL
       loss, learning-rate scheduling, attention over spectral regions,
       latent clustering plots and synthetic spectra.
    .. [6] Ness, M., Hogg, D. W., Rix, H.-W., Ho, A. Y. Q., & Zasowski, G.
       2015, ApJ 808, 16, "The Cannon: a data-driven approach to stellar
       label determination" (spectra from labels).

    Examples
    --------
    >>> from skspectra.spectra import SpectralVAE
    >>> from skspectra.datasets import load_gaia_xp
    >>> data = load_gaia_xp()
    >>> vae = SpectralVAE(n_components=6, max_epochs=3, random_state=0)
    >>> vae.fit(data.flux[:300], ivar=data.ivar[:300])
    SpectralVAE(max_epochs=3, random_state=0)
    >>> vae.transform(data.flux[:5]).shape
    (5, 6)
    >>> vae.sample(4, random_state=0).shape
    (4, 343)

    A learning-rate schedule goes through skorch's ``LRScheduler``:

    >>> from skorch.callbacks import LRScheduler
    >>> sched = LRScheduler(policy="CosineAnnealingLR", T_max=3)
    >>> vae = SpectralVAE(max_epochs=3, callbacks=[("lr", sched)], random_state=0)
    >>> vae.fit(data.flux[:300], ivar=data.ivar[:300]).score_samples(data.flux[:2]).shape
    (2,)
    """

    _parameter_constraints = {
        **NeuralEstimatorMixin._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "kl_warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "attention": ["boolean"],
        "likelihood": [StrOptions(set(LIKELIHOODS))],
        "n_filters": [Interval(Integral, 1, None, closed="left")],
        "depth": [Interval(Integral, 0, None, closed="left")],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "pca_init": ["boolean"],
        "latent_mean": [StrOptions({"pca", "learned"})],
        "conditional": ["boolean"],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "contamination": CONTAMINATION_CONSTRAINT,
    }

    def __init__(
        self,
        n_components=6,
        *,
        beta=1.0,
        kl_warmup_epochs=0,
        attention=False,
        likelihood="gaussian",
        n_filters=16,
        depth=3,
        kernel_size=5,
        pca_init=True,
        latent_mean="learned",
        conditional=False,
        n_iter_no_change=10,
        contamination="auto",
        max_epochs=200,
        batch_size=128,
        lr=1e-3,
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
        self.beta = beta
        self.kl_warmup_epochs = kl_warmup_epochs
        self.attention = attention
        self.likelihood = likelihood
        self.n_filters = n_filters
        self.depth = depth
        self.kernel_size = kernel_size
        self.pca_init = pca_init
        self.latent_mean = latent_mean
        self.conditional = conditional
        self.n_iter_no_change = n_iter_no_change
        self.contamination = contamination
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
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
        if module.linear_encoder is None:
            return {}
        k, n = module.linear_encoder.weight.shape
        return {"linear": (np.zeros((k, n)), np.zeros((n, k)), None)}

    def _build_module(self, n_features, linear=None):
        encoder, decoder, logvar = (None, None, None) if linear is None else linear
        return ConvVAE1d(
            n_features,
            self.n_components,
            self.n_filters,
            self.depth,
            self.kernel_size,
            attention=self.attention,
            linear_encoder=encoder,
            linear_decoder=decoder,
            init_logvar=logvar,
            learn_mean=self.latent_mean == "learned",
        )

    def _build_criterion(self):
        return VAELoss(beta=self.beta, likelihood=self.likelihood)

    def _callbacks(self, steps_per_epoch=None):
        callbacks = super()._callbacks(steps_per_epoch)
        callbacks.append(("elbo_terms", ELBOTermsLogger()))
        callbacks.append(("objective", ObjectiveLogger(self.beta)))
        if self.kl_warmup_epochs > 0:
            callbacks.append(("kl_warmup", KLWarmup(self.beta, self.kl_warmup_epochs)))
        if self.n_iter_no_change is not None and not self._in_partial_fit():
            stopper = ValidEarlyStopping(
                beta=self.beta,
                monitor="valid_objective",
                patience=self.n_iter_no_change,
                load_best=True,
                sink=print,
            )
            callbacks.append(("early_stopping", stopper))
        return callbacks

    def _terms(self, weight, ivar):
        """What the progress bar shows: the χ² per pixel (Gaussian likelihood) and the KL."""
        from ..training import LossTerm

        kl = LossTerm("KL", "kl", 1.0, "KL divergence of the latent posterior from the prior, nats")
        if self.likelihood != "gaussian":
            return [LossTerm("-ELBO", "loss", 1.0, "negative ELBO per spectrum, nats"), kl]
        n_good = float(np.mean(np.sum(weight > 0, axis=1)))
        if ivar is None:
            text = "mean squared residual per pixel, in flux units² (no ivar given)"
            return [LossTerm("MSE", "nll", 2.0 / n_good, text), kl]
        text = "reduced χ², Σ ivar (x − x̂)² per unmasked pixel (≈ 1 at the noise level)"
        return [LossTerm("χ²/pix", "nll", 2.0 / n_good, text), kl]

    def _net_kwargs(self):
        """The linear (PCA) path learns at ``LINEAR_LR_FACTOR * lr`` (see the constant).

        The other parameters come first, so that skorch's ``LRScheduler`` records their
        learning rate as ``event_lr``.
        """
        if not self.pca_init:
            return {}
        groups = [("[!l]*", {}), ("linear_*", {"lr": LINEAR_LR_FACTOR * self.lr})]
        return {"optimizer__param_groups": groups}

    def _fit_standardization(self, X, weight):
        """Set ``mean_`` and a per-pixel ``scale_`` (the CAE uses one global scale).

        The χ² is the same in any units, since the net's weights are ``ivar * scale_**2``; but
        per-pixel standardised inputs and outputs trained the VAE far better than one global
        scale in a tuning run (not kept as a script, so no figure is quoted).
        """
        self.mean_, self.scale_ = _pixel_stats(X, weight > 0)

    @property
    def _n_features_out(self):
        return self.n_components

    # -- fitting ------------------------------------------------------------
    def fit(self, X, y=None, ivar=None):
        """Train the variational autoencoder on spectra.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux, all on one wavelength grid, in any unit. Masked pixels
            (``ivar == 0``) may hold NaN or infinity: their flux is never used.
        y : array-like of shape (n_samples, n_labels) or (n_samples,), default=None
            With ``conditional=True``, the labels of each spectrum (e.g.
            Teff in K, logg, [Fe/H]), from which the label head learns the
            spectrum; ignored otherwise.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X`` in flux⁻²; 0 marks masked pixels,
            which cost nothing and which the encoder sees as the mean
            spectrum. Its absolute scale sets the balance between the χ² and
            the KL (see Notes). None gives every pixel weight 1.

        Returns
        -------
        self : SpectralVAE
            The fitted estimator.

        Raises
        ------
        ValueError
            If ``X`` holds NaN or infinite values at unmasked pixels (the
            message names the rows), ``ivar`` does not have the
            shape of ``X`` or holds negative or non-finite values, a spectrum
            is fully masked, ``n_components`` exceeds the number of
            wavelengths, ``kernel_size`` is even, ``device`` names a GPU that
            is not there, or, with ``conditional=True``, ``y`` is missing,
            not finite or has a row count other than ``X``'s.
        """
        X, ivar = self._validate_flux(X, ivar, reset=True)
        labels = check_labels(y, n_samples=len(X)) if self.conditional else None
        _check_n_components(self.n_components, X.shape[1])
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {self.kernel_size}.")
        if self.latent_mean == "pca" and not self.pca_init:
            raise ValueError(
                "latent_mean='pca' needs pca_init=True (the latents are the PCA projection); "
                "set latent_mean='learned' to train without a PCA start."
            )
        weight = check_ivar(ivar, X)
        if self._initialising():
            self._fit_standardization(X, weight)
        # chi2 = sum ivar (x - x_hat)^2 = sum (ivar s^2) ((x - m)/s - (x_hat - m)/s)^2:
        # the same in the standardised units the net works in.
        Xs = self._standardize(X, weight)
        weight_s = weight * self.scale_**2
        linear = None
        if self.pca_init and self._initialising():
            linear = _linear_init(Xs, weight_s, self.scale_, self.n_components)
        y_train = np.stack([Xs, weight_s], axis=1)
        self._fit_net(Xs, y_train, loss_terms=self._terms(weight, ivar), linear=linear)
        self._fit_latent_mixture(self._calibrate_latents(Xs))
        self.pixel_ivar_ = _pixel_ivar(weight)
        self._fit_residual_scale(X, ivar)
        self._set_offset(self.score_samples(X, ivar=ivar))
        for name in LABEL_ATTRIBUTES:  # a label head of an earlier fit does not survive a refit
            self.__dict__.pop(name, None)
        if labels is not None:
            # the second draw: the first seeds latent_mixture_
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max, size=2)
            vars(self).update(fit_label_head(self, labels, X, weight, int(seed[1])))
            self.n_labels_ = labels.shape[1]
        return self

    def partial_fit(self, X, y=None, ivar=None, *, n_epochs=1):
        """Continue training on one batch of spectra (out-of-core and streamed training).

        The first call on an unfitted estimator sets the standardisation
        (``mean_``, ``scale_``) and, with ``pca_init``, the PCA start from this
        first batch, so make it representative. Each call then trains
        ``n_epochs`` epochs over the batch with no validation split (so
        ``n_iter_no_change`` does not apply) and a constant learning rate, and
        recalibrates the latents, the latent mixture, ``pixel_ivar_`` and
        ``offset_`` on the batch. After :meth:`fit` it continues from the fitted
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
        self : SpectralVAE
            The estimator, trained further.

        Raises
        ------
        ValueError
            As :meth:`fit`, and if ``X`` does not have the number of pixels of
            the first batch, ``n_epochs`` is not a positive int, or
            ``conditional=True`` (the label head is trained by :meth:`fit`
            only).
        """
        if self.conditional:
            raise ValueError(
                "partial_fit does not train the label head of conditional=True; use fit, or "
                "train with conditional=False."
            )
        return self._partial_fit(self.fit, X, y, ivar, n_epochs=n_epochs)

    def _calibrate_latents(self, Xs):
        """Shift and scale each latent to the affine map that minimises the mean training KL.

        Under ``z' = (z - b) / a`` (with the decoder absorbing the map) the χ² is unchanged and
        the mean KL of latent k is smallest at ``b = mean(mu_k)``,
        ``a**2 = var(mu_k) + mean(sigma_k**2)``. See Notes of the class.
        """
        mean, logvar = self._infer(lambda m, x: m.encode(x), Xs)
        shift = mean.mean(axis=0)
        scale = np.maximum(np.sqrt(mean.var(axis=0) + np.exp(logvar).mean(axis=0)), 1e-6)
        self.net_.module_.rescale_latents(shift, scale)
        return (mean - shift) / scale

    def _fit_latent_mixture(self, Z):
        """Fit ``latent_mixture_``, a Gaussian mixture of the training posterior means ``Z``."""
        from sklearn.mixture import GaussianMixture

        n_mix = min(AGGREGATE_MIXTURE_COMPONENTS, Z.shape[0])
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        self.latent_mixture_ = GaussianMixture(
            n_mix, covariance_type="full", reg_covar=1e-6, random_state=seed
        ).fit(Z)

    # -- latent space -------------------------------------------------------
    def _encode(self, X, ivar=None):
        weight = None if ivar is None else check_ivar(ivar, X)
        mean, logvar = self._infer(lambda m, x: m.encode(x), self._standardize(X, weight))
        return mean, np.exp(0.5 * logvar)

    def encode(self, X, ivar=None):
        """Posterior of the latents of each spectrum: mean and standard deviation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X``; only its mask is used: pixels with
            ``ivar == 0`` are replaced by the mean training spectrum before
            encoding, as in ``fit``.

        Returns
        -------
        mean : ndarray of shape (n_samples, n_components)
            Posterior means (what :meth:`transform` returns).
        std : ndarray of shape (n_samples, n_components)
            Posterior standard deviations, in the units of the latents (the
            prior has std 1). Latents whose std stays near 1 for every
            spectrum are unused.
        """
        return self._encode(*self._validate_flux(X, ivar))

    def transform(self, X, ivar=None):
        """Encode spectra into their posterior mean latents.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X``; only its mask is used (see :meth:`encode`).

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
        """
        return self._encode(*self._validate_flux(X, ivar))[0]

    @available_if(lambda self: self.conditional)
    def predict_spectra(self, labels):
        """Mean spectrum for each row of labels (``conditional=True`` only).

        Decodes the label head's latents (see Conditional mode in the class
        Notes): the model's answer to "what does a star with these labels
        look like", as The Cannon's forward model. (:meth:`predict` is the
        outlier detector's: it labels spectra as inliers or outliers.)

        Parameters
        ----------
        labels : array-like of shape (n_spectra, n_labels) or (n_spectra,)
            Labels in the units and order of ``fit``'s ``y`` (e.g. Teff in K,
            logg in dex, [Fe/H] in dex).

        Returns
        -------
        flux : ndarray of shape (n_spectra, n_wavelengths)
            Noise-free model spectra in the units of the training flux.

        Raises
        ------
        ValueError
            If ``labels`` holds NaN or infinite values or a number of labels
            other than ``fit``'s.
        """
        labels = self._check_label_head(labels, "labels")
        return self.inverse_transform(predict_latents(self, labels))

    def sample(self, n_samples=1, random_state=None, *, source="aggregate", y=None):
        """Draw synthetic spectra: decode latents drawn from the prior or from the data's latents.

        Parameters
        ----------
        n_samples : int, default=1
            Number of spectra.
        random_state : int, RandomState instance or None, default=None
            Seeds the latent draws; an int gives the same spectra every call.
        source : {'aggregate', 'prior'}, default='aggregate'
            'aggregate' draws latents from ``latent_mixture_``, a Gaussian
            mixture fitted to the posterior means of the training spectra
            (ex-post density estimation, Ghosh et al. 2020), which avoids
            the regions of latent space that no training spectrum occupies.
            'prior' draws them from N(0, I), the model's formal generative
            distribution; it is not the default because real stars fill
            only a thin, curved part of it, so many prior draws decode to
            spectra unlike any star (see Sampling in the class Notes).
            Not used when ``y`` is given.
        y : array-like of shape (n_rows, n_labels) or (n_rows,), default=None
            Labels (``conditional=True`` only): draw ``n_samples`` spectra for
            each row, decoded from the label head's latents plus the scatter
            of training stars with nearby labels (see Conditional mode in
            the class Notes).

        Returns
        -------
        flux : ndarray of shape (n_samples, n_wavelengths)
            Noise-free model spectra in the units of the training flux. With
            ``y``, of shape (n_rows * n_samples, n_wavelengths): the draws for
            row ``i`` are rows ``i * n_samples`` to ``(i + 1) * n_samples - 1``.

        Raises
        ------
        ValueError
            If ``n_samples`` is not a positive integer, ``source`` is unknown,
            or ``y`` is given to a model fitted without ``conditional=True``
            or has the wrong number of labels.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        rng = check_random_state(random_state)
        n_samples = int(n_samples)
        if y is not None:
            return self._sample_given_labels(y, n_samples, rng)
        if source == "prior":
            Z = rng.standard_normal((n_samples, self.n_components))
        elif source == "aggregate":
            mix = self.latent_mixture_
            which = rng.choice(len(mix.weights_), size=n_samples, p=mix.weights_)
            eps = rng.standard_normal((n_samples, self.n_components))
            chol = np.linalg.cholesky(mix.covariances_)
            Z = mix.means_[which] + np.einsum("nij,nj->ni", chol[which], eps)
        else:
            raise ValueError(f"source must be 'prior' or 'aggregate', got {source!r}.")
        return self.inverse_transform(Z)

    def _check_label_head(self, labels, name):
        """``labels`` checked against the fitted label head; ValueError if there is none."""
        check_is_fitted(self)
        if not hasattr(self, "label_regressor_"):
            raise ValueError(
                "spectra from labels need a model fitted with conditional=True and labels "
                "(fit(X, y=labels)); this one has no label head."
            )
        return check_labels(labels, n_labels=self.n_labels_, name=name)

    def _sample_given_labels(self, labels, n_samples, rng):
        labels = self._check_label_head(labels, "y")
        return self.inverse_transform(sample_latents(self, labels, n_samples, rng))

    def reconstruct(self, X, ivar=None):
        """Decode the posterior mean of each spectrum.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance; only its mask is used (see :meth:`encode`).

        Returns
        -------
        flux : ndarray of shape (n_samples, n_wavelengths)
            The model's reconstruction, in the units of ``X``.
        """
        return self._reconstruct(*self._validate_flux(X, ivar))

    def _reconstruct(self, X, ivar=None):
        Xs = self._standardize(X, ivar)
        return self._unstandardize(self._infer(lambda m, x: m(x)[0], Xs))

    # -- scores -------------------------------------------------------------
    def _elbo(self, X, ivar):
        if ivar is None:
            weight = np.broadcast_to(self.pixel_ivar_, X.shape)
            Xs = self._standardize(X)
        else:
            weight = check_ivar(ivar, X)
            Xs = self._standardize(X, weight)
        x_hat, mean, logvar = self._infer(lambda m, x: m(x), Xs)
        nll = pixel_nll(
            torch.from_numpy(x_hat),
            torch.from_numpy(Xs),
            torch.from_numpy(weight * self.scale_**2),
            self.likelihood,
        ).sum(dim=-1)
        kl = gaussian_kl(torch.from_numpy(mean), torch.from_numpy(logvar))
        return -(nll + kl).numpy()

    def score_samples(self, X, ivar=None):
        """Evidence lower bound of each spectrum: higher is more normal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X`` in flux⁻² (0 = masked). Without it,
            pixels are weighted by ``pixel_ivar_``, the median training
            inverse variance (ones if ``fit`` had none).

        Returns
        -------
        elbo : ndarray of shape (n_samples,)
            ``-(½ Σ ivar (x − x̂)² + KL)`` in nats, with ``x̂`` decoded from
            the posterior mean and ``beta = 1`` (see Notes). The lower, the
            more abnormal.

        Raises
        ------
        ValueError
            If ``X`` does not have the training number of pixels, or ``ivar``
            does not match ``X``.
        """
        return self._elbo(*self._validate_flux(X, ivar))

    def score(self, X, y=None, ivar=None):
        """Mean ELBO per spectrum, for model selection (higher is better).

        Because it is the ELBO at ``beta = 1`` whatever ``beta`` the model
        was trained with, it compares models with different hyper-parameters
        on one scale, as long as they see the same ``ivar`` (or, without it,
        were all fitted without one).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        y : None
            Ignored.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance (0 = masked), as in :meth:`score_samples`.

        Returns
        -------
        score : float
            Mean of :meth:`score_samples`, in nats.
        """
        return float(np.mean(self.score_samples(X, ivar=ivar)))
