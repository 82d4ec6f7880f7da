"""A Pipeline that carries ``ivar`` through scaling steps, so that it stays an inverse variance.

A ``StandardScaler`` before a model divides pixel j's flux by ``scale_[j]``; the inverse variance
of what the model sees is then ``ivar * scale_[j]**2``. scikit-learn's :class:`~sklearn.pipeline.
Pipeline` passes ``spectralcae__ivar=ivar`` to the model unchanged, in the original flux units,
and the model's χ² comes out wrong by ``scale_**2`` without a word. :class:`SpectralPipeline`
takes ``ivar=`` itself, in the units of the input flux, and rescales it through each step.
"""

import inspect

import numpy as np
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler
from sklearn.utils import check_array
from sklearn.utils._available_if import available_if

from .base import check_ivar, mask_flux
from .preprocessing.normalize import SpectrumNormalizer, normalize_spectra

__all__ = ["SpectralPipeline", "make_spectral_pipeline"]

#: The steps ivar can be carried through: each multiplies pixel j of spectrum i by a factor
#: ``f_ij`` (plus an offset), so that the inverse variance becomes ``ivar / f_ij**2``.
CARRIED_STEPS = (StandardScaler, RobustScaler, MaxAbsScaler, MinMaxScaler, SpectrumNormalizer)


def _flux_factor(step, X):
    """The factor each pixel's flux is multiplied by in ``step.transform(X)`` (broadcastable)."""
    if isinstance(step, StandardScaler | RobustScaler | MaxAbsScaler):
        scale = getattr(step, "scale_", None)
        return 1.0 if scale is None else 1.0 / scale
    if isinstance(step, MinMaxScaler):
        return step.scale_
    # SpectrumNormalizer: each spectrum divided by its own statistic; NaN (masked) pixels are
    # left out of it, as in its transform
    _, _, scale = normalize_spectra(
        X, method=step.method, window=step.window, wavelength=step.wavelength,
        on_invalid=step.on_invalid,
    )  # fmt: skip
    return 1.0 / scale[:, None]


def _check_carried(name, step):
    """Raise a ValueError for a step ivar cannot be carried through."""
    if isinstance(step, MinMaxScaler) and step.clip:
        raise ValueError(
            f"SpectralPipeline cannot carry ivar through step {name!r}: MinMaxScaler(clip=True) "
            "is not linear where it clips. Set clip=False."
        )
    if not isinstance(step, CARRIED_STEPS):
        known = ", ".join(cls.__name__ for cls in CARRIED_STEPS)
        raise ValueError(
            f"SpectralPipeline cannot carry ivar through step {name!r} "
            f"({type(step).__name__}): only per-pixel linear scalings keep an inverse variance "
            f"meaningful ({known}). Remove the step, or give no ivar."
        )


def _accepts_ivar(method):
    return "ivar" in inspect.signature(method).parameters


def _final_has(attr):
    return lambda self: (
        self._final_estimator == "passthrough" or hasattr(self._final_estimator, attr)
    )


class SpectralPipeline(Pipeline):
    """A :class:`~sklearn.pipeline.Pipeline` whose ``fit`` and scores take ``ivar``.

    ``ivar`` is given in the units of the input flux. Each scaling step multiplies the flux of
    pixel j of spectrum i by some factor ``f_ij``; the pipeline passes the last step
    ``ivar / f_ij**2``, the inverse variance of the flux it sees. Masked pixels (``ivar == 0``)
    go through the steps as NaN, which the scalers leave out of their statistics, so masked
    flux changes nothing, and may itself be NaN or infinite.

    It is used exactly like a Pipeline, also inside
    :class:`~sklearn.model_selection.GridSearchCV`; without ``ivar`` it *is* a Pipeline.
    With scikit-learn's metadata routing on, it requests ``ivar`` for ``fit``, ``score``,
    ``score_samples``, ``decision_function`` and ``predict`` by default (``transform``
    takes ``ivar`` too, outside routing), so that a search
    trains and scores every split with its own ivar.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        As for :class:`~sklearn.pipeline.Pipeline`. When ``ivar`` is given, every step but the
        last must be one of ``StandardScaler``, ``RobustScaler``, ``MaxAbsScaler``,
        ``MinMaxScaler(clip=False)`` or :class:`~skspectra.preprocessing.SpectrumNormalizer`
        (or ``"passthrough"``), and the last one's ``fit`` must take ``ivar``.
    memory : str or object with the joblib.Memory interface, default=None
        As for Pipeline; not used by fits with ``ivar``.
    transform_input : list of str, default=None
        As for Pipeline.
    verbose : bool, default=False
        As for Pipeline.

    See Also
    --------
    make_spectral_pipeline : Build one from the steps, naming them as ``make_pipeline`` does.
    sklearn.pipeline.Pipeline : The parent class.

    Notes
    -----
    For a step ``x' = f (x - c)`` the inverse variance of ``x'`` is ``ivar / f**2``:

    - ``StandardScaler``, ``RobustScaler``, ``MaxAbsScaler``: ``f_j = 1 / scale_[j]``, so
      ``ivar * scale_**2``;
    - ``MinMaxScaler``: ``f_j = scale_[j]``, so ``ivar / scale_**2``;
    - ``SpectrumNormalizer``: ``f_i = 1 / s_i``, with ``s_i`` the median (or mean) flux of
      spectrum i over its unmasked pixels, so ``ivar * s_i**2``.

    Examples
    --------
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skspectra import SpectralCAE, make_spectral_pipeline
    >>> from skspectra.datasets import load_gaia_xp
    >>> data = load_gaia_xp()
    >>> X, ivar = data.flux[:300], data.ivar[:300]
    >>> pipe = make_spectral_pipeline(
    ...     StandardScaler(), SpectralCAE(n_components=4, max_epochs=2, random_state=0)
    ... )
    >>> pipe.fit(X, ivar=ivar).score_samples(X, ivar=ivar).shape
    (300,)
    """

    __metadata_request__fit = {"ivar": True}
    __metadata_request__score = {"ivar": True}
    __metadata_request__score_samples = {"ivar": True}
    __metadata_request__decision_function = {"ivar": True}
    __metadata_request__predict = {"ivar": True}

    # -- carrying ivar --------------------------------------------------------
    def _transformers(self):
        return [(n, s) for n, s in self.steps[:-1] if s is not None and s != "passthrough"]

    def _masked_as_nan(self, X, ivar):
        """``X`` as float with NaN at masked pixels, and the checked ``ivar``."""
        for name, step in self._transformers():
            _check_carried(name, step)
        values = check_array(X, dtype=np.float64, ensure_all_finite=False)
        ivar = check_ivar(ivar, values)
        masked = mask_flux(values, ivar, fill=np.nan)
        if hasattr(X, "where"):  # a DataFrame: keep its column names for the steps
            return X.astype(np.float64).where(ivar > 0), ivar
        return masked, ivar

    def _carry(self, name, step, Xt, ivar):
        factor = _flux_factor(step, np.asarray(Xt, dtype=np.float64))
        with np.errstate(invalid="ignore", over="ignore"):
            ivar = np.where(ivar > 0, ivar / np.square(factor), 0.0)
        return step.transform(Xt), check_ivar(ivar, np.asarray(Xt), allow_all_masked=True)

    def _with_ivar(self, X, ivar):
        """``X`` transformed by the fitted steps, and its inverse variance."""
        Xt, ivar = self._masked_as_nan(X, ivar)
        for name, step in self._transformers():
            Xt, ivar = self._carry(name, step, Xt, ivar)
        return Xt, ivar

    def _final_call(self, method, X, ivar, **kwargs):
        Xt, ivar_t = self._with_ivar(X, ivar)
        fn = getattr(self._final_estimator, method, None)
        if fn is None or not _accepts_ivar(fn):
            raise ValueError(
                f"{type(self._final_estimator).__name__}.{method} takes no ivar; call "
                f"{method} without ivar."
            )
        return fn(Xt, ivar=ivar_t, **kwargs)

    # -- fitting --------------------------------------------------------------
    def fit(self, X, y=None, ivar=None, **params):
        """Fit the steps on ``X``, then the last step with ``ivar`` carried through them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux in any unit. Masked pixels (``ivar == 0``) may hold NaN or infinity.
        y : array-like of shape (n_samples,) or None, default=None
            Passed to every step's ``fit``.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X`` in flux⁻² (0 = masked), in the units of ``X``: the
            pipeline rescales it for the last step. None fits a plain Pipeline.
        **params : dict
            Without ``ivar``, as for :meth:`sklearn.pipeline.Pipeline.fit`. With it,
            ``name__param`` fit parameters of the steps.

        Returns
        -------
        self : SpectralPipeline

        Raises
        ------
        ValueError
            If ``ivar`` is given and a step cannot carry it (see the class), the last step's
            ``fit`` takes no ``ivar``, ``ivar`` does not match ``X``, flux is NaN or
            infinite at unmasked pixels, or ``params`` passes ``ivar`` to a step as
            ``name__ivar`` (which would skip the rescaling: pass ``ivar=`` instead).
        """
        last = self.steps[-1][0]
        if f"{last}__ivar" in params:
            raise ValueError(
                f"{last}__ivar= would reach {last!r} in the units of the input flux, not of "
                f"what it sees after the scaling steps; pass ivar= instead: "
                f"SpectralPipeline.fit(X, ivar=ivar) rescales it through the steps."
            )
        if ivar is None:
            return super().fit(X, y, **params)
        self._validate_steps()
        if self._final_estimator == "passthrough" or not _accepts_ivar(self._final_estimator.fit):
            raise ValueError(
                f"the last step, {last!r}, does not take ivar in fit; give no ivar, or end the "
                "pipeline with a model that takes it (SpectralCAE, SpectralVAE)."
            )
        by_step = {name: {} for name, _ in self.steps}
        for key, value in params.items():
            name, _, param = key.partition("__")
            if name not in by_step or not param:
                raise ValueError(
                    f"fit parameter {key!r} names no step; use step__parameter with a step of "
                    f"{list(by_step)}."
                )
            by_step[name][param] = value
        Xt, ivar = self._masked_as_nan(X, ivar)
        for name, step in self._transformers():
            step.fit(Xt, y, **by_step[name])
            Xt, ivar = self._carry(name, step, Xt, ivar)
        self._final_estimator.fit(Xt, y, ivar=ivar, **by_step[last])
        return self

    # -- scoring --------------------------------------------------------------
    @available_if(_final_has("score_samples"))
    def score_samples(self, X, ivar=None):
        """Score samples with the last step, ``ivar`` carried through the steps.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux, in the units of the training flux.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X`` (0 = masked), in the units of ``X``.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The last step's ``score_samples``: the lower, the more abnormal.

        Raises
        ------
        ValueError
            As :meth:`fit`, for ``ivar``.
        """
        if ivar is None:
            return super().score_samples(X)
        return self._final_call("score_samples", X, ivar)

    @available_if(_final_has("decision_function"))
    def decision_function(self, X, ivar=None, **params):
        """The last step's ``decision_function``, ``ivar`` carried through the steps.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X`` (0 = masked), in the units of ``X``.
        **params : dict
            Without ``ivar``, as for the Pipeline's method.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
            ``score_samples - offset_`` for skspectra's outlier detectors: negative for outliers.
        """
        if ivar is None:
            return super().decision_function(X, **params)
        return self._final_call("decision_function", X, ivar)

    @available_if(_final_has("predict"))
    def predict(self, X, ivar=None, **params):
        """The last step's ``predict``, ``ivar`` carried through the steps.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X`` (0 = masked), in the units of ``X``.
        **params : dict
            Without ``ivar``, as for the Pipeline's method.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            For skspectra's outlier detectors, +1 for inliers and -1 for outliers.
        """
        if ivar is None:
            return super().predict(X, **params)
        return self._final_call("predict", X, ivar)

    @available_if(_final_has("transform"))
    def transform(self, X, ivar=None, **params):
        """The last step's ``transform``, ``ivar`` carried through the steps.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X`` (0 = masked), in the units of ``X``; the
            skspectra autoencoders use it to hide masked pixels from the encoder.
        **params : dict
            Without ``ivar``, as for the Pipeline's method.

        Returns
        -------
        Xt : ndarray of shape (n_samples, n_components)
            For skspectra's autoencoders, the latent vectors.
        """
        if ivar is None:
            return super().transform(X, **params)
        return self._final_call("transform", X, ivar)

    @available_if(_final_has("score"))
    def score(self, X, y=None, ivar=None, **params):
        """The last step's ``score``, ``ivar`` carried through the steps.

        This is what :class:`~sklearn.model_selection.GridSearchCV` ranks candidates by when
        it has no ``scoring``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_wavelengths)
            Flux.
        y : None
            Passed on; skspectra's spectral models ignore it.
        ivar : array-like of shape (n_samples, n_wavelengths), default=None
            Inverse variance of ``X`` (0 = masked), in the units of ``X``.
        **params : dict
            Without ``ivar``, as for the Pipeline's method (``sample_weight``...).

        Returns
        -------
        score : float
            The last step's score (higher is better).
        """
        if ivar is None:
            return super().score(X, y, **params)
        return self._final_call("score", X, ivar, y=y)

    def get_metadata_routing(self):
        """The Pipeline's routing to its steps, plus the pipeline's own request for ``ivar``.

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
        """
        return super().get_metadata_routing().add_self_request(self)


def make_spectral_pipeline(*steps, memory=None, transform_input=None, verbose=False):
    """Build a :class:`SpectralPipeline` from steps, named as ``make_pipeline`` names them.

    Parameters
    ----------
    *steps : list of estimators
        Scaling steps (``StandardScaler``, ``SpectrumNormalizer``...), then a model that takes
        ``ivar`` (:class:`~skspectra.SpectralCAE`, :class:`~skspectra.SpectralVAE`).
    memory, transform_input, verbose
        As for :func:`sklearn.pipeline.make_pipeline`.

    Returns
    -------
    pipeline : SpectralPipeline

    Examples
    --------
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skspectra import SpectralCAE, make_spectral_pipeline
    >>> make_spectral_pipeline(StandardScaler(), SpectralCAE())
    SpectralPipeline(steps=[('standardscaler', StandardScaler()),
                            ('spectralcae', SpectralCAE())])
    """
    named = make_pipeline(*steps).steps
    return SpectralPipeline(named, memory=memory, transform_input=transform_input, verbose=verbose)
