"""Map each image to [0, 1]: per-image percentile limits, then a linear, asinh or log stretch."""

import warnings
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

__all__ = ["ImageNormalizer", "normalize_images"]

#: Default softening ``a`` of each stretch, as in astropy.visualization.
DEFAULT_A = {"linear": None, "asinh": 0.1, "log": 1000.0}


def _stretch(stretch, a):
    """The astropy.visualization stretch object for ``stretch`` with parameter ``a``."""
    from astropy.visualization import AsinhStretch, LinearStretch, LogStretch

    if stretch == "linear":
        return LinearStretch()
    a = DEFAULT_A[stretch] if a is None else float(a)
    if stretch == "log" and not np.log(a + 1) > 0:
        # found by fuzzing: log(a u + 1) / log(a + 1) is 0 / 0 when 1 + a rounds to 1
        raise ValueError(
            f"a={a!r} is too small for the log stretch (1 + a rounds to 1, so it divides by 0); "
            "use a >= 1e-12, or stretch='linear', which the log stretch tends to as a -> 0."
        )
    return AsinhStretch(a=a) if stretch == "asinh" else LogStretch(a=a)


def _check_percentile(percentile):
    lo_hi = np.asarray(percentile, dtype=float)
    if lo_hi.shape != (2,) or not (0 <= lo_hi[0] < lo_hi[1] <= 100):
        raise ValueError(
            f"percentile must be two numbers (low, high) with 0 <= low < high <= 100, got "
            f"{percentile!r}."
        )
    return lo_hi


def _as_groups(X, image_shape, per_channel):
    """View X as (n_samples, n_groups, n_pixels_per_group), with the statistics' groups.

    A group is one channel with ``per_channel``, else the whole image.
    """
    n = X.shape[0]
    if not per_channel:
        return X.reshape(n, 1, -1)
    if X.ndim == 4:
        channels = X.shape[1]
    elif X.ndim == 3:
        channels = 1
    elif image_shape is not None and len(image_shape) == 3:
        channels = int(image_shape[0])
    else:
        channels = 1
    return X.reshape(n, channels, -1)


def _image_shape_of(X, image_shape):
    """Check ``image_shape`` against X; raise ValueError naming both when they disagree."""
    if image_shape is None:
        return
    shape = tuple(int(s) for s in image_shape)
    if len(shape) not in (2, 3) or min(shape) < 1:
        raise ValueError(f"image_shape must be (H, W) or (C, H, W), got {image_shape!r}.")
    if X.ndim == 2:
        if int(np.prod(shape)) != X.shape[1]:
            raise ValueError(
                f"image_shape={shape} holds {int(np.prod(shape))} pixels, but X has "
                f"{X.shape[1]} features per row."
            )
    elif (X.shape[1:] if X.ndim == 4 else (1, *X.shape[1:])) != (
        shape if len(shape) == 3 else (1, *shape)
    ):
        raise ValueError(f"image_shape={shape} does not match X of shape {X.shape}.")


def normalize_images(
    X, *, stretch="linear", percentile=(0.0, 100.0), a=None, per_channel=False, image_shape=None
):
    """Map each image to [0, 1] by its own percentile limits and a stretch.

    The function behind :class:`ImageNormalizer`; it also returns the per-image limits
    that :meth:`ImageNormalizer.inverse_transform` needs.

    Parameters
    ----------
    X : array-like of shape (n_samples, H, W), (n_samples, C, H, W) or (n_samples, C·H·W)
        Images, any unit. NaN marks masked pixels.
    stretch, percentile, a, per_channel, image_shape
        As for :class:`ImageNormalizer`.

    Returns
    -------
    X_norm : ndarray of the shape of X
        Values in [0, 1], float64; NaN where X is NaN.
    limits : ndarray of shape (n_samples, n_groups, 2)
        ``(lo, hi)`` of each image (``n_groups = 1``) or of each of its channels
        (``per_channel=True``: ``n_groups = C``), in the units of X; NaN for an image
        or channel without a finite pixel.

    Raises
    ------
    ValueError
        If ``percentile`` is not ``(low, high)`` with ``0 <= low < high <= 100``, or
        ``image_shape`` disagrees with X.
    """
    X = np.asarray(X, dtype=np.float64)
    _image_shape_of(X, image_shape)
    lo_hi = _check_percentile(percentile)
    groups = _as_groups(X, image_shape, per_channel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN images: limits NaN
        limits = np.moveaxis(np.nanpercentile(groups, lo_hi, axis=2), 0, -1)
    return _apply(groups, limits, _stretch(stretch, a)).reshape(X.shape), limits


def _apply(groups, limits, stretch):
    lo, hi = limits[..., :1], limits[..., 1:]
    span = np.where(hi > lo, hi - lo, 1.0)  # a constant image maps to 0
    u = np.clip((groups - lo) / span, 0.0, 1.0)
    return stretch(u, clip=False)


class ImageNormalizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Map each image to [0, 1] by its own limits, with a linear, asinh or log stretch.

    Stateless: each image is scaled by its own percentiles, so ``fit`` learns nothing but
    the input's shape, and a new image is normalised the same way whatever else is in the
    batch. This is the [0, 1] normalisation of seed 004 (min/max by default), with the
    stretches of astropy.visualization for images of high dynamic range.

    Parameters
    ----------
    stretch : {'linear', 'asinh', 'log'}, default='linear'
        Stretch applied after the linear scaling to [0, 1]; see Notes.
    percentile : (float, float), default=(0.0, 100.0)
        Percentiles of each image's finite pixels taken as its black and white points
        ``(lo, hi)``. The default is the image's minimum and maximum. Narrower limits,
        e.g. ``(0.5, 99.5)``, clip outlying pixels to 0 or 1.
    a : float, default=None
        Softening of the stretch: asinh ``a`` (default 0.1; smaller is closer to a log),
        log ``a`` (default 1000; larger stretches faint values more). Ignored by 'linear'.
    per_channel : bool, default=False
        Whether each channel (band) of an image gets its own limits. False keeps the
        colour (band ratios) of an image.
    image_shape : (int, int, int) or (int, int), default=None
        ``(C, H, W)`` or ``(H, W)`` of each image when X is flat ``(n_samples, C·H·W)``,
        as after a ``StandardScaler``; needed only with ``per_channel=True``.

    Attributes
    ----------
    n_features_in_ : int
        Pixels per image in :meth:`fit`, ``C·H·W``, whatever the layout.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when X has them (e.g. a DataFrame).

    See Also
    --------
    normalize_images : the function, which also returns the limits.
    skspectra.io.read_fits_images : read FITS images to normalise.
    astropy.visualization.AsinhStretch, astropy.visualization.LogStretch : the stretches.

    Notes
    -----
    For image ``i`` (or each of its channels with ``per_channel``) with limits
    ``lo_i, hi_i`` (the ``percentile`` of its finite pixels):

    .. math::

        u = \\mathrm{clip}\\left(\\frac{x - lo_i}{hi_i - lo_i}, 0, 1\\right), \\qquad
        y = s(u)

    with the stretch ``s``:

    - linear: :math:`s(u) = u`;
    - asinh: :math:`s(u) = \\mathrm{asinh}(u / a) / \\mathrm{asinh}(1 / a)`;
    - log: :math:`s(u) = \\log(a u + 1) / \\log(a + 1)`.

    Each ``s`` maps [0, 1] onto [0, 1] and increases strictly. A constant image
    (``hi_i = lo_i``) maps to 0. NaN pixels are left out of the percentiles and stay NaN;
    an image without a finite pixel comes out all NaN.

    The inverse :math:`x = lo_i + (hi_i - lo_i)\\, s^{-1}(y)` needs each image's limits,
    which :meth:`transform` does not keep (it is stateless): get them from
    :meth:`compute_limits` (or :func:`normalize_images`) and pass them to
    :meth:`inverse_transform`. It is exact for pixels inside ``[lo_i, hi_i]`` (all of them
    with the default percentiles); pixels clipped by narrower percentiles come back as
    ``lo_i`` or ``hi_i``, and a constant image comes back as ``lo_i``.

    Examples
    --------
    >>> import numpy as np
    >>> from skspectra.preprocessing import ImageNormalizer
    >>> X = np.array([[[0.0, 1.0], [2.0, 4.0]], [[10.0, 10.0], [30.0, 50.0]]])
    >>> norm = ImageNormalizer()
    >>> norm.fit_transform(X)[1]
    array([[0. , 0. ],
           [0.5, 1. ]])
    >>> limits = norm.compute_limits(X)
    >>> np.allclose(norm.inverse_transform(norm.transform(X), limits), X)
    True
    """

    _parameter_constraints = {
        "stretch": [StrOptions({"linear", "asinh", "log"})],
        "percentile": ["array-like"],
        "a": [Interval(Real, 0, None, closed="neither"), None],
        "per_channel": ["boolean"],
        "image_shape": ["array-like", None],
    }

    def __init__(
        self,
        stretch="linear",
        percentile=(0.0, 100.0),
        a=None,
        per_channel=False,
        image_shape=None,
    ):
        self.stretch = stretch
        self.percentile = percentile
        self.a = a
        self.per_channel = per_channel
        self.image_shape = image_shape

    def _validate(self, X, reset):
        """X as float64 in its own layout; n_features_in_ counts pixels (C·H·W) in all of them."""
        ndim = getattr(X, "ndim", None)
        if ndim is None and isinstance(X, list | tuple):
            ndim = np.asarray(X).ndim
        kwargs = {"dtype": np.float64, "ensure_all_finite": "allow-nan"}
        if ndim in (3, 4):
            X = check_array(X, allow_nd=True, **kwargs)
            validate_data(self, X.reshape(X.shape[0], -1), reset=reset, **kwargs)
        elif ndim is not None and ndim > 4:
            raise ValueError(
                "X must be images of shape (n_samples, H, W) or (n_samples, C, H, W), or flat "
                f"(n_samples, C*H*W); got {ndim} dimensions."
            )
        else:
            X = validate_data(self, X, reset=reset, **kwargs)
        _image_shape_of(X, self.image_shape)
        return X

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check X and the parameters; learn nothing else.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W), (n_samples, C, H, W) or (n_samples, C·H·W)
            Images.
        y : None
            Ignored.

        Returns
        -------
        self : ImageNormalizer

        Raises
        ------
        ValueError
            If ``percentile`` is not ``(low, high)`` with ``0 <= low < high <= 100`` or
            ``image_shape`` disagrees with X.
        """
        self._validate(X, reset=True)
        _check_percentile(self.percentile)
        return self

    def _kwargs(self):
        return {
            "stretch": self.stretch,
            "percentile": self.percentile,
            "a": self.a,
            "per_channel": self.per_channel,
            "image_shape": self.image_shape,
        }

    def transform(self, X):
        """Map each image to [0, 1].

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W), (n_samples, C, H, W) or (n_samples, C·H·W)
            Images, any unit; NaN = masked.

        Returns
        -------
        X_norm : ndarray of the shape of X
            float64 in [0, 1]; NaN where X is NaN.

        Raises
        ------
        ValueError
            If X has another number of features than in :meth:`fit`, or a parameter
            is invalid.
        """
        self._validate_params()
        X = self._validate(X, reset=False)
        return normalize_images(X, **self._kwargs())[0]

    def compute_limits(self, X):
        """Each image's limits ``(lo, hi)``, as :meth:`transform` uses them.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W), (n_samples, C, H, W) or (n_samples, C·H·W)
            Images, in their original units.

        Returns
        -------
        limits : ndarray of shape (n_samples, n_groups, 2)
            ``(lo, hi)`` per image (``n_groups = 1``) or per channel
            (``per_channel=True``), in the units of X.
        """
        self._validate_params()
        X = self._validate(X, reset=False)
        return normalize_images(X, **self._kwargs())[1]

    def inverse_transform(self, X, limits=None):
        """Map normalised images back to their original units.

        Parameters
        ----------
        X : array-like of the shape given to :meth:`transform`
            Normalised images, values in [0, 1].
        limits : array-like of shape (n_samples, n_groups, 2)
            The limits of the original images, from :meth:`compute_limits` or
            :func:`normalize_images`.

        Returns
        -------
        X_original : ndarray of the shape of X
            float64, in the units of the original images. Exact for pixels that were
            within the limits; see Notes of the class.

        Raises
        ------
        ValueError
            If ``limits`` is None (the transformer keeps no per-image state, so it cannot
            invert without them) or has the wrong shape, or X holds values outside
            [0, 1].
        """
        self._validate_params()
        X = self._validate(X, reset=False)
        if limits is None:
            raise ValueError(
                "ImageNormalizer is stateless, so inverse_transform needs each image's limits: "
                "limits = normalizer.compute_limits(X_original), then "
                "normalizer.inverse_transform(X_norm, limits)."
            )
        groups = _as_groups(X, self.image_shape, self.per_channel)
        limits = np.asarray(limits, dtype=np.float64)
        if limits.shape != (*groups.shape[:2], 2):
            raise ValueError(
                f"limits must have shape {(*groups.shape[:2], 2)} (n_samples, n_groups, 2) "
                f"for this X; got {limits.shape}."
            )
        if np.any((groups < 0) | (groups > 1)):
            raise ValueError("X must hold normalised values in [0, 1] (NaN allowed).")
        u = _stretch(self.stretch, self.a).inverse(groups, clip=False)
        lo, hi = limits[..., :1], limits[..., 1:]
        return (lo + np.where(hi > lo, hi - lo, 0.0) * u).reshape(X.shape)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.allow_nan = True
        return tags
