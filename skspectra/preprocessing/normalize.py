"""Per-spectrum flux normalisation: divide each spectrum by its median (or mean) flux."""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import validate_data

__all__ = ["SpectrumNormalizer", "normalize_spectra"]

_STATISTICS = {"median": np.nanmedian, "mean": np.nanmean}
_ON_INVALID = {"raise", "skip"}


def normalize_spectra(
    flux, ivar=None, *, method="median", window=None, wavelength=None, on_invalid="raise"
):
    """Divide each spectrum by its median (or mean) flux, scaling ivar to match.

    Parameters
    ----------
    flux : array-like of shape (n_spectra, n_wavelengths)
        Flux density, any units. NaN (or infinity) marks missing pixels: they are left out
        of the statistic.
    ivar : array-like of shape (n_spectra, n_wavelengths), optional
        Inverse variance of ``flux``. Pixels with ``ivar == 0`` are left out of the statistic.
    method : {"median", "mean"}, default="median"
        Statistic of the good pixels in ``window`` that becomes each spectrum's scale.
    window : (float, float), optional
        Pixels the statistic uses. Without ``wavelength``: feature indices ``[start, stop)``,
        as in a slice. With ``wavelength``: wavelengths in Å, ``start <= λ <= stop``.
        Default: all pixels.
    wavelength : array-like of shape (n_wavelengths,), optional
        Pixel centres in Å, to give ``window`` in Å.
    on_invalid : {"raise", "skip"}, default="raise"
        What to do with a spectrum whose scale is zero, negative or NaN: raise a
        ValueError naming the rows, or leave the spectrum as it is (scale 1).

    Returns
    -------
    flux_norm : ndarray of shape (n_spectra, n_wavelengths)
        ``flux / scale[:, None]``, float64, dimensionless.
    ivar_norm : ndarray of shape (n_spectra, n_wavelengths) or None
        ``ivar * scale[:, None]**2``; None when ``ivar`` is None.
    scale : ndarray of shape (n_spectra,)
        The statistic of each spectrum, in the units of ``flux``.

    Raises
    ------
    ValueError
        If shapes disagree, ``window`` selects no pixel, or (with ``on_invalid="raise"``) a
        spectrum's scale is zero, negative or NaN (e.g. no good pixel in the window); the
        message lists those rows.

    See Also
    --------
    SpectrumNormalizer : the same as a scikit-learn transformer.

    Examples
    --------
    >>> import numpy as np
    >>> from skspectra.preprocessing import normalize_spectra
    >>> flux = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])
    >>> flux_norm, ivar_norm, scale = normalize_spectra(flux, np.ones_like(flux))
    >>> scale
    array([ 2., 20.])
    >>> ivar_norm[1]
    array([400., 400., 400.])
    """
    if method not in _STATISTICS:
        raise ValueError(f"method must be one of {sorted(_STATISTICS)}, got {method!r}.")
    if on_invalid not in _ON_INVALID:
        raise ValueError(f"on_invalid must be one of {sorted(_ON_INVALID)}, got {on_invalid!r}.")
    flux = np.asarray(flux, dtype=np.float64)
    if flux.ndim != 2:
        raise ValueError(f"flux must have shape (n_spectra, n_wavelengths), got {flux.shape}.")
    if ivar is not None:
        ivar = np.asarray(ivar, dtype=np.float64)
        if ivar.shape != flux.shape:
            raise ValueError(f"ivar has shape {ivar.shape} but flux has shape {flux.shape}.")
    columns = window_columns(flux.shape[1], window, wavelength)

    values = flux[:, columns]
    values = np.where(np.isfinite(values), values, np.nan)  # infinite pixels are missing too
    if ivar is not None:
        values = np.where(ivar[:, columns] > 0, values, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: reported below
        scale = _STATISTICS[method](values, axis=1)
    bad = ~(scale > 0)
    if on_invalid == "skip":
        scale = np.where(bad, 1.0, scale)
    elif bad.any():
        rows = np.flatnonzero(bad)
        raise ValueError(
            f"cannot normalise {rows.size} of {flux.shape[0]} spectra: their {method} flux "
            f"{_describe(window)} is zero, negative or NaN (rows {rows[:10].tolist()}"
            f"{', ...' if rows.size > 10 else ''}; scales {scale[rows[:10]].tolist()})."
        )
    flux_norm = flux / scale[:, None]
    ivar_norm = None
    if ivar is not None:
        with np.errstate(over="ignore"):
            ivar_norm = ivar * scale[:, None] ** 2
        overflow = np.isinf(ivar_norm) & np.isfinite(ivar)
        if overflow.any():
            row = int(np.flatnonzero(overflow.any(axis=1))[0])
            raise ValueError(
                f"ivar * scale**2 overflows for spectrum {row} (scale {scale[row]:.3g}): its flux "
                "is too large to normalise with its ivar; rescale flux and ivar first."
            )
    return flux_norm, ivar_norm, scale


def window_columns(n_wavelengths, window=None, wavelength=None):
    """Boolean selector of the pixels inside ``window`` (all pixels without one).

    Raises ValueError if ``window`` is not two increasing numbers, ``wavelength`` does not
    have ``n_wavelengths`` entries, or the window selects no pixel.
    """
    if wavelength is not None:
        wavelength = np.asarray(wavelength, dtype=np.float64)
        if wavelength.shape != (n_wavelengths,):
            raise ValueError(
                f"wavelength has shape {wavelength.shape}, but the spectra have "
                f"{n_wavelengths} pixels."
            )
    if window is None:
        return np.ones(n_wavelengths, dtype=bool)
    window = np.asarray(window, dtype=np.float64)
    if window.shape != (2,) or not np.all(np.isfinite(window)) or not window[0] < window[1]:
        raise ValueError(
            f"window must be two finite numbers (start, stop) with start < stop, "
            f"got {window.tolist()}."
        )
    if wavelength is None:
        index = np.arange(n_wavelengths)
        columns = (index >= window[0]) & (index < window[1])
    else:
        columns = (wavelength >= window[0]) & (wavelength <= window[1])
    if not columns.any():
        unit = "Å" if wavelength is not None else "pixel indices"
        raise ValueError(
            f"window {window.tolist()} ({unit}) selects none of the {n_wavelengths} pixels."
        )
    return columns


def _describe(window):
    return "over all pixels" if window is None else f"in window {list(window)}"


class SpectrumNormalizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Divide each spectrum by its median (or mean) flux.

    A stateless transformer: each row is scaled by a statistic of its own pixels, so
    ``fit`` learns nothing (it checks the input and records ``n_features_in_``). Use it
    before a model so that spectra of different brightness look alike. To scale ``ivar``
    consistently, use :func:`normalize_spectra`, which returns the scale.

    Parameters
    ----------
    method : {"median", "mean"}, default="median"
        Statistic of each spectrum's finite pixels in ``window`` used as its scale.
    window : (float, float), optional
        Pixels the statistic uses: feature indices ``[start, stop)`` or, with ``wavelength``,
        wavelengths in Å (``start <= λ <= stop``). Default: all pixels. A window on the
        continuum keeps emission lines and zero-filled edges out of the scale.
    wavelength : array-like of shape (n_features,), optional
        Pixel centres in Å of the columns of X, so that ``window`` can be in Å.
    on_invalid : {"raise", "skip"}, default="raise"
        A spectrum whose scale is zero, negative or NaN raises a ValueError naming the
        rows, or with "skip" passes through unchanged.

    Attributes
    ----------
    n_features_in_ : int
        Number of pixels per spectrum seen in :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when X has them (e.g. a DataFrame).

    See Also
    --------
    normalize_spectra : the function, with ivar.
    sklearn.preprocessing.Normalizer : scales rows to unit norm instead.

    Notes
    -----
    By default ``transform`` raises ValueError if a spectrum's scale is zero, negative or
    NaN, naming the rows: such a spectrum cannot be normalised by division. NaN pixels are allowed
    and ignored by the statistic; they stay NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from skspectra.preprocessing import SpectrumNormalizer
    >>> X = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])
    >>> SpectrumNormalizer().fit_transform(X)
    array([[0.5, 1. , 1.5],
           [0.5, 1. , 1.5]])
    """

    _parameter_constraints = {
        "method": [StrOptions(set(_STATISTICS))],
        "window": ["array-like", None],
        "wavelength": ["array-like", None],
        "on_invalid": [StrOptions(_ON_INVALID)],
    }

    def __init__(self, method="median", window=None, wavelength=None, on_invalid="raise"):
        self.method = method
        self.window = window
        self.wavelength = wavelength
        self.on_invalid = on_invalid

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check X and the parameters against it; learn nothing.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Spectra, one per row.
        y : None
            Ignored.

        Returns
        -------
        self : SpectrumNormalizer
        """
        X = validate_data(self, X, ensure_all_finite="allow-nan")
        window_columns(X.shape[1], self.window, self.wavelength)
        return self

    def transform(self, X):
        """Divide each row of X by its median (or mean) in the window.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Spectra, one per row.

        Returns
        -------
        X_norm : ndarray of shape (n_samples, n_features)
            Normalised spectra, float64.

        Raises
        ------
        ValueError
            If a row's scale is zero, negative or NaN and ``on_invalid="raise"`` (the
            message lists the rows).
        """
        self._validate_params()
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        X_norm, _, _ = normalize_spectra(
            X,
            method=self.method,
            window=self.window,
            wavelength=self.wavelength,
            on_invalid=self.on_invalid,
        )
        return X_norm

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.allow_nan = True
        return tags
