"""Shared plumbing of every skspectra estimator.

Each estimator is a plain :class:`sklearn.base.BaseEstimator` with explicit
hyper-parameters. ``fit`` builds a :class:`skorch.NeuralNet` around a pure
``torch.nn.Module`` and keeps it as ``net_`` (design B of the design notes).
This module holds what they all share:

- input validation (``validate_data`` in ``fit``, ``check_is_fitted`` and
  ``validate_data(reset=False)`` everywhere else) and ``ivar`` checks;
- local seeding: ``random_state`` becomes one integer seed, applied inside
  :func:`torch.random.fork_rng`, so the caller's global RNG is untouched;
- float32 training through skorch (or mixed precision with ``amp``), with its
  callbacks, validation split, a progress bar over epochs that shows the loss
  in readable units (:mod:`skspectra.training`), a stop with a clear error when
  training diverges, ``warm_start`` and checkpoints that resume exactly;
- ``partial_fit``: ``_partial_fit`` runs an estimator's ``fit`` as one step of
  continued training, initialising (``_initialising()``) on the first call only;
- inference in float64, whose results agree across batch layouts to float64 rounding (or
  float32, for speed, which differs at the 1e-7 level).
"""

import copy
import sys
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = [
    "MAX_ABS_VALUE",
    "NeuralEstimatorMixin",
    "check_ivar",
    "check_magnitude",
    "mask_flux",
]

_INFERENCE_DTYPES = {"float64": torch.float64, "float32": torch.float32}

#: Largest magnitude accepted in data: the square root of float64's maximum (1.3e154), so that
#: squares (variances, χ²) cannot overflow.
MAX_ABS_VALUE = float(np.sqrt(np.finfo(np.float64).max))


def check_magnitude(X, name="X", *, allow_nan=True):
    """Return ``X``, or raise a ValueError if it holds values beyond ±``MAX_ABS_VALUE``.

    Such values are finite, so sklearn's validation lets them through, but their squares
    overflow to infinity and the scores built on them become NaN. With ``allow_nan=False``
    NaN is refused too: sklearn turns ``None`` in an object-dtype target into NaN unchecked.
    """
    X = np.asarray(X)
    if not allow_nan and X.dtype.kind == "f" and np.isnan(X).any():
        raise ValueError(
            f"{name} holds NaN (or None) values; drop those samples or fill the values in."
        )
    # float32 and narrower cannot reach MAX_ABS_VALUE (and casting it to them overflows)
    if X.dtype.kind == "f" and X.size and float(np.finfo(X.dtype).max) > MAX_ABS_VALUE:
        with np.errstate(invalid="ignore"):
            big = np.abs(X) > MAX_ABS_VALUE
        if big.any():
            index = tuple(int(i) for i in np.argwhere(big)[0])
            raise ValueError(
                f"{name} holds values too large to compute with ({X[index]:.3g} at index "
                f"{index}); skspectra accepts magnitudes up to {MAX_ABS_VALUE:.2g}, beyond which "
                f"squares overflow. Rescale {name} (divide it by a constant)."
            )
    return X


def check_ivar(ivar, X, *, allow_all_masked=False):
    """Validate an inverse-variance array against the flux it belongs to.

    Parameters
    ----------
    ivar : array-like of shape (n_samples, n_wavelengths) or None
        Inverse variance of ``X`` in units of flux⁻². Zero marks a masked
        pixel. ``None`` means every pixel has weight one.
    X : ndarray of shape (n_samples, n_wavelengths)
        The validated flux the weights belong to.
    allow_all_masked : bool, default=False
        Whether a spectrum may have every pixel masked.

    Returns
    -------
    ivar : ndarray of shape (n_samples, n_wavelengths), float64

    Raises
    ------
    ValueError
        If ``ivar`` does not have the shape of ``X``, holds NaN, infinite or
        negative values, or masks every pixel of a spectrum.
    """
    if ivar is None:
        return np.ones(X.shape, dtype=np.float64)
    ivar = check_array(ivar, dtype=np.float64, input_name="ivar")
    if ivar.shape != X.shape:
        raise ValueError(
            f"ivar has shape {ivar.shape} but the flux has shape {X.shape}; "
            "give one inverse variance per flux pixel."
        )
    check_magnitude(ivar, "ivar")
    if np.any(ivar < 0):
        raise ValueError("ivar has negative values; inverse variances must be >= 0 (0 = masked).")
    if not allow_all_masked:
        empty = np.flatnonzero(~np.any(ivar > 0, axis=1))
        if empty.size:
            raise ValueError(
                f"{empty.size} spectra have every pixel masked (ivar == 0 everywhere), "
                f"e.g. row {empty[0]}; drop them before calling this method."
            )
    return ivar


def _rows(rows, limit=5):
    """``"3, 7, 12"`` for the first ``limit`` row numbers, with ``", ..."`` when there are more."""
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    return shown + (", ..." if len(rows) > limit else "")


def mask_flux(X, ivar, name="X", *, fill=0.0):
    """Return a copy of ``X`` with its masked pixels set to ``fill``; refuse NaN/inf elsewhere.

    A pixel with ``ivar == 0`` is masked: its flux may be anything, NaN or infinity
    included, and it never reaches a network or a score, because it is replaced here by
    ``fill`` (0 for the networks; NaN for scikit-learn scalers, which leave NaN out of
    their statistics).
    Non-finite flux at a pixel with ``ivar > 0``, or anywhere when there is no ``ivar``,
    has no meaning and is refused.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_wavelengths)
        Flux, validated except for finiteness.
    ivar : ndarray of shape (n_samples, n_wavelengths) or None
        Inverse variance checked by :func:`check_ivar` (0 = masked).
    name : str, default="X"
        How the error messages name ``X``.
    fill : float, default=0.0
        The value masked pixels get.

    Returns
    -------
    X : ndarray of shape (n_samples, n_wavelengths)
        ``X`` itself when ``ivar`` is None, else a copy with ``fill`` at masked pixels.

    Raises
    ------
    ValueError
        If ``X`` holds NaN or infinite values at unmasked pixels. The message
        names the first rows and says what works: mask those pixels
        (``ivar = 0``), or drop the rows that would be left with no unmasked
        pixel.
    """
    bad = ~np.isfinite(X)
    if not bad.any():
        return X if ivar is None else np.where(ivar > 0, X, fill).astype(X.dtype, copy=False)
    usable = ~bad if ivar is None else ~bad & (ivar > 0)
    if ivar is not None:
        bad &= ivar > 0
    rows = np.flatnonzero(bad.any(axis=1))
    if rows.size:
        hopeless = rows[~usable[rows].any(axis=1)]
        maskable = np.setdiff1d(rows, hopeless)
        advice = []
        if maskable.size:
            how = "set ivar to 0" if ivar is not None else "pass ivar with 0"
            advice.append(f"{how} at those pixels to mask them (rows {_rows(maskable)})")
        if hopeless.size:
            advice.append(f"drop the rows with no finite unmasked flux (rows {_rows(hopeless)})")
        raise ValueError(
            f"{name} holds NaN or infinite flux at pixels that are not masked, in "
            f"{rows.size} spectra (rows {_rows(rows)}); " + ", and ".join(advice) + "."
        )
    return np.where(ivar > 0, X, fill).astype(X.dtype, copy=False)


def _as_tensor(a, dtype, device):
    """Copy a numpy array into a new tensor (read-only inputs stay untouched)."""
    return torch.tensor(np.asarray(a), dtype=dtype, device=device)


def _to_numpy(out):
    """Turn a tensor, or a tuple of them, into float64 numpy arrays."""
    if isinstance(out, tuple | list):
        return tuple(_to_numpy(o) for o in out)
    return out.detach().cpu().numpy().astype(np.float64)


def _shared_handles(callbacks):
    """A deep-copy memo that leaves Optuna trials uncopied: a trial is a handle on a live study
    (optuna-integration's ``SkorchPruningCallback`` holds one), and a copy of it would report
    to a detached copy of the study's storage."""
    trial = sys.modules.get("optuna.trial")
    if trial is None:  # no trial can exist unless optuna was imported
        return {}
    cbs = [cb[1] if isinstance(cb, tuple) else cb for cb in callbacks or []]
    values = [v for cb in cbs for v in getattr(cb, "__dict__", {}).values()]
    return {id(v): v for v in values if isinstance(v, trial.BaseTrial)}


def _float32_for_training(a, what):
    """A float32 copy of a training array; a ValueError if a value overflows float32."""
    with np.errstate(over="ignore"):
        a32 = np.asarray(a, dtype=np.float32)
    if a32.size and not (np.isfinite(a32.min()) and np.isfinite(a32.max())):  # no temporaries
        big = max(abs(float(np.min(a))), abs(float(np.max(a))))
        raise ValueError(
            f"{what} has values beyond float32's range (|x| up to {big:.3g}) after the "
            "model's own scaling; the network trains in float32. Rescale the data, or drop "
            "the samples with extreme values."
        )
    return a32


def _max_abs(a):
    """``max |a|`` without an array-sized temporary (0 for an empty array)."""
    return max(abs(float(a.min())), abs(float(a.max()))) if a.size else 0.0


def _find_callback(net, kind):
    """The first initialized callback of type ``kind`` of a skorch net, or None."""
    return next((cb for _, cb in net.callbacks_ if isinstance(cb, kind)), None)


def _routing_kwargs():
    """Tell skorch a partial_fit call comes from fit, as NeuralNet.fit does, when sklearn's
    metadata routing is on."""
    import sklearn

    return {"_routing_method": "fit"} if sklearn.get_config()["enable_metadata_routing"] else {}


def _check_finite_output(out, X, module):
    """Raise a ValueError naming the samples for which the network gave NaN or infinity.

    Finite input can still overflow inside the network (values of 1e300, or beyond float32's
    3.4e38 with ``inference_dtype='float32'``); a network whose training diverged gives NaN
    for everything. Either way no NaN may leave as a result.
    """
    parts = out if isinstance(out, tuple) else (out,)
    bad = np.zeros(len(X), dtype=bool)
    for part in parts:
        bad |= ~np.all(np.isfinite(part.reshape(len(part), -1)), axis=1)
    if not bad.any():
        return
    rows = np.flatnonzero(bad)
    where = f"{rows.size} of {len(X)} samples (first: row {rows[0]})"
    if not all(torch.isfinite(p).all() for p in module.parameters()):
        raise ValueError(
            f"the network gives NaN or infinite output for {where} because its weights are not "
            "finite: training diverged. Refit with a lower lr, or rescale the data."
        )
    largest = float(np.max(np.abs(np.asarray(X)[rows])))
    raise ValueError(
        f"the network gives NaN or infinite output for {where}: their values reach {largest:.3g} "
        "after the estimator's own scaling, too large for it. Rescale the input (divide it "
        "by a constant) or drop those samples."
    )


class NeuralEstimatorMixin:
    """Training and inference plumbing shared by the skspectra estimators.

    A subclass is a :class:`~sklearn.base.BaseEstimator` that defines the
    shared parameters (``max_epochs``, ``batch_size``, ``lr``,
    ``validation_fraction``, ``callbacks``, ``device``, ``inference_dtype``,
    ``verbose``, ``random_state``, ``warm_start``, ``amp``) in its ``__init__``,
    extends ``_parameter_constraints`` with its own, and implements:

    ``_build_module(n_features)``
        Return the ``torch.nn.Module`` to train.
    ``_build_criterion()``
        Return the loss module; skorch calls it as ``criterion(y_pred, y_true)``.

    Then ``fit`` calls ``_fit_net`` with the arrays the net trains on, and
    the other methods call ``_infer`` to run the trained module.
    """

    _parameter_constraints: dict = {
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left"), None],
        "callbacks": [list, None],
        "device": [str],
        "inference_dtype": [StrOptions(set(_INFERENCE_DTYPES))],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "amp": ["boolean"],
    }

    # -- validation ---------------------------------------------------------
    def _validate_fit_X(self, X, **kwargs):
        self._validate_params()
        out = validate_data(self, X, dtype=[np.float64, np.float32], **kwargs)
        if isinstance(out, tuple):
            check_magnitude(out[1], "y", allow_nan=False)
        check_magnitude(out[0] if isinstance(out, tuple) else out)
        return out

    def _validate_X(self, X):
        check_is_fitted(self)
        return check_magnitude(validate_data(self, X, reset=False, dtype=[np.float64, np.float32]))

    def _validate_flux(self, X, ivar=None, *, reset=False):
        """Validate spectra and their ``ivar``; masked flux may be NaN or infinite.

        ``reset=True`` (in ``fit``) also checks the parameters and records
        ``n_features_in_``; otherwise the estimator must be fitted.

        Returns
        -------
        X : ndarray of shape (n_samples, n_wavelengths)
            The flux, with 0 at masked pixels (see :func:`mask_flux`).
        ivar : ndarray of shape (n_samples, n_wavelengths) or None
            The checked inverse variance, None when none was given.
        """
        if reset:
            self._validate_params()
        else:
            check_is_fitted(self)
        X = validate_data(
            self, X, reset=reset, dtype=[np.float64, np.float32], ensure_all_finite=False
        )
        ivar = None if ivar is None else check_ivar(ivar, X)
        return check_magnitude(mask_flux(X, ivar)), ivar

    # -- training -----------------------------------------------------------
    def _seed(self):
        """One integer seed drawn from ``random_state``."""
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _check_device(self):
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(
                f"device={self.device!r} but PyTorch sees no CUDA GPU on this machine; "
                "use device='cpu'."
            )

    def _train_split(self, n_samples, seed):
        """skorch's ``ValidSplit`` when there is room for a validation set."""
        from skorch.dataset import ValidSplit

        frac = self.validation_fraction
        if not frac:
            return None
        n_valid = int(np.ceil(frac * n_samples))
        if n_valid < 1 or n_samples - n_valid < 1:
            return None
        return ValidSplit(cv=float(frac), random_state=seed)

    def _callbacks(self, steps_per_epoch=None):
        """A deep copy of the user's callbacks (skorch mutates them), plus the
        learning-rate schedule that ``lr_schedule`` names.

        ``"cosine"`` anneals lr to 0 over ``max_epochs`` (stepped each epoch);
        ``"onecycle"`` is Smith & Topin's (2019) one-cycle policy, a warm-up to
        ``lr`` then annealing, stepped each batch (it needs ``steps_per_epoch``).
        Both start afresh at each ``fit`` (``last_epoch=-1``), also with
        ``warm_start``: a warm restart.
        """
        from skorch.callbacks import LRScheduler

        callbacks = copy.deepcopy(list(self.callbacks or []), _shared_handles(self.callbacks))
        policy = getattr(self, "lr_schedule", "constant")
        if self._in_partial_fit():
            callbacks.insert(0, ("lr_schedule", self._stream_schedule(policy, steps_per_epoch)))
        elif policy == "cosine":
            schedule = LRScheduler(policy="CosineAnnealingLR", T_max=self.max_epochs, last_epoch=-1)
            callbacks.insert(0, ("lr_schedule", schedule))
        elif policy == "onecycle":
            schedule = LRScheduler(
                policy=torch.optim.lr_scheduler.OneCycleLR,
                max_lr=self.lr,
                # one step of slack: the last batch of an epoch may be split differently
                total_steps=self.max_epochs * steps_per_epoch + 1,
                step_every="batch",
                last_epoch=-1,
            )
            callbacks.insert(0, ("lr_schedule", schedule))
        return callbacks

    def _loss_terms(self):
        """How the progress bar shows the loss; estimators pass better ones to ``_fit_net``."""
        from .training import LossTerm

        return [LossTerm("loss", description="the training criterion (no physical unit)")]

    def _training_callbacks(self, steps_per_epoch, loss_terms, max_input):
        """``_callbacks()`` plus the divergence guard first and the progress bar and any
        :class:`~skspectra.training.TrainingCheckpoint` last, after every callback that
        records into the history."""
        from .training import StopOnNonFiniteLoss, TrainingCheckpoint, TrainingProgress

        guard = StopOnNonFiniteLoss(
            lr=self.lr,
            max_input=max_input,
            amp=bool(getattr(self, "amp", False)),
            name=type(self).__name__,
        )
        callbacks = [("non_finite_guard", guard)]
        last = []
        for item in self._callbacks(steps_per_epoch=steps_per_epoch):
            cb = item[1] if isinstance(item, tuple) else item
            (last if isinstance(cb, TrainingCheckpoint) else callbacks).append(item)
        if self.verbose and self.verbose > 0:
            progress = TrainingProgress(
                terms=loss_terms or self._loss_terms(),
                name=type(self).__name__,
                verbose=int(self.verbose),
            )
            callbacks.append(("progress", progress))
        return callbacks + last

    def _net_kwargs(self):
        """Extra keyword arguments for :class:`skorch.NeuralNet`; subclasses may extend."""
        return {}

    def _warm_net(self, X_train):
        """The fitted ``net_`` to continue training when ``warm_start`` or in ``partial_fit``,
        else None."""
        net = getattr(self, "net_", None)
        warm = getattr(self, "warm_start", False) or self._in_partial_fit()
        if not warm or net is None:
            return None
        shape = getattr(self, "_net_input_shape_", None)
        if shape is not None and tuple(X_train.shape[1:]) != shape:
            raise ValueError(
                f"warm_start=True continues training net_, which was built for inputs of "
                f"shape {shape}, but this X gives {tuple(X_train.shape[1:])}; set "
                "warm_start=False to train a new model."
            )
        return net

    def _fit_net(self, X_train, y_train, *, loss_terms=None, **module_kwargs):
        """Train the module on float32 copies of ``X_train``/``y_train``; set ``net_``.

        With ``warm_start`` and a fitted ``net_``, training continues from it
        (weights, optimizer state and history) for ``max_epochs`` more epochs.
        With a :class:`~skspectra.training.TrainingCheckpoint` callback whose
        ``resume`` is set and whose directory holds a checkpoint, training
        continues from that checkpoint up to ``max_epochs`` in all.

        Parameters
        ----------
        X_train : ndarray of shape (n_samples, ...)
            What the module's ``forward`` receives.
        y_train : ndarray of shape (n_samples, ...)
            What the criterion receives as ``y_true``.
        loss_terms : list of skspectra.training.LossTerm, default=None
            How the progress bar shows the loss; None: the raw loss.
        **module_kwargs
            Passed on to ``_build_module`` (data-dependent initialisation).

        Raises
        ------
        ValueError
            If the training arrays overflow float32, or training diverges
            (:class:`~skspectra.training.TrainingDivergedError`).
        skspectra.training.TrainingInterrupted
            If a ``TrainingCheckpoint`` caught SIGINT or SIGTERM; its
            checkpoint then holds the last completed epoch.
        """
        from .parallel import _release, _training_net
        from .training import TrainingCheckpoint, TrainingNet, TrainingProgress

        self._check_device()
        X32 = _float32_for_training(X_train, "the network's input")
        y32 = _float32_for_training(y_train, "the network's target")
        max_input = max(_max_abs(X32), _max_abs(y32))
        seed = self._seed()
        n_samples = X_train.shape[0]
        partial = self._in_partial_fit()
        train_split = None if partial else self._train_split(n_samples, seed)
        n_fit = n_samples - (
            int(np.ceil(self.validation_fraction * n_samples)) if train_split else 0
        )
        batch_size = min(self.batch_size, n_samples)
        callbacks = self._training_callbacks(-(-n_fit // batch_size), loss_terms, max_input)
        net = self._warm_net(X_train)
        warm = net is not None
        devices = [torch.device(self.device)] if self.device.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices):
            # a warm start draws new shuffles, not those of the first fit again
            torch.manual_seed((seed + (len(net.history) if warm else 0)) % (2**31 - 1))
            if warm:
                net.callbacks = callbacks
                net.batch_size = batch_size
                net.amp = bool(getattr(self, "amp", False))
                if partial:
                    net.train_split = None
                net.initialize_callbacks()
            else:
                net_class, placement = _training_net(TrainingNet, self.device)
                net = net_class(
                    module=self._build_module(X_train.shape[1], **module_kwargs),
                    criterion=self._build_criterion(),
                    optimizer=torch.optim.Adam,
                    lr=self.lr,
                    max_epochs=self.max_epochs,
                    batch_size=batch_size,
                    train_split=train_split,
                    callbacks=callbacks,
                    verbose=0,  # skspectra.training.TrainingProgress shows the progress
                    iterator_train__shuffle=True,
                    amp=bool(getattr(self, "amp", False)),
                    **placement,
                    **self._net_kwargs(),
                )
                net.initialize()
            done = 0
            checkpoint = _find_callback(net, TrainingCheckpoint)
            resumable = not (warm or partial) and checkpoint is not None
            if resumable and checkpoint.resume and checkpoint.exists():
                done = checkpoint.load(net)
                if done > self.max_epochs:
                    raise ValueError(
                        f"the checkpoint in {checkpoint.dirname} holds {done} epochs but "
                        f"max_epochs={self.max_epochs}; resume with max_epochs >= {done}."
                    )
            epochs = self.max_epochs if warm else self.max_epochs - done
            if partial:
                epochs = self._partial_call["n_epochs"]
            progress = _find_callback(net, TrainingProgress)
            if progress is not None:
                progress.plan(len(net.history), len(net.history) + epochs)
            try:
                if epochs > 0:
                    net.partial_fit(X32, y32, epochs=epochs, **_routing_kwargs())
            finally:  # also when training raised: close the bar, put back signal handlers
                for _, cb in net.callbacks_:
                    if isinstance(cb, TrainingProgress | TrainingCheckpoint):
                        cb.close()
        net = _release(net)
        self.net_ = net
        self.history_ = net.history
        self._net_input_shape_ = tuple(X_train.shape[1:])
        return net

    # -- partial_fit --------------------------------------------------------
    def _in_partial_fit(self):
        """Whether a ``partial_fit`` call is under way."""
        return getattr(self, "_partial_call", None) is not None

    def _initialising(self):
        """Whether data-dependent initialisation (standardisation, PCA start, target
        scaling) should run: in ``fit``, and in the first ``partial_fit`` call."""
        return not self._in_partial_fit() or self._partial_call["first"]

    def _stream_schedule(self, policy, steps_per_epoch):
        """The learning-rate schedule of ``partial_fit``: over ``max_epochs`` epochs in all."""
        from .training import StreamLRSchedule

        return StreamLRSchedule(policy, self.max_epochs, steps_per_epoch or 1)

    def _partial_n_features(self, shape):
        """The number of features ``validate_data`` would count in an input of ``shape``."""
        return shape[1]

    def _partial_fit(self, fit, X, *args, n_epochs=1, **kwargs):
        """Run ``fit(X, *args, **kwargs)`` as one ``partial_fit`` step of ``n_epochs`` epochs.

        The first call on an unfitted estimator initialises it from ``X``; later
        calls keep the fitted standardisation and continue training ``net_``
        (its weights, optimizer state and history), with the learning-rate
        schedule over ``max_epochs`` epochs in all, and no validation split.
        """
        if not isinstance(n_epochs, Integral) or isinstance(n_epochs, bool) or n_epochs < 1:
            raise ValueError(f"n_epochs must be an int >= 1, got {n_epochs!r}.")
        first = getattr(self, "net_", None) is None
        if not first:
            from sklearn.utils.validation import _check_feature_names

            _check_feature_names(self, X, reset=False)
            shape = np.shape(X)
            expected = getattr(self, "n_features_in_", None)
            if len(shape) >= 2 and expected is not None:
                n_features = self._partial_n_features(shape)
                if n_features != expected:
                    raise ValueError(
                        f"X has {n_features} features, but {type(self).__name__} is "
                        f"expecting {expected} features as input: partial_fit continues "
                        "training on batches of the first batch's width."
                    )
        self._partial_call = {"first": first, "n_epochs": int(n_epochs)}
        try:
            return fit(X, *args, **kwargs)
        finally:
            del self._partial_call

    # -- inference ----------------------------------------------------------
    def _inference_module(self):
        """The trained module in ``inference_dtype``, in evaluation mode.

        float64 inference runs on a copy, so that results agree, to float64
        rounding, however samples are grouped into batches (float32
        convolutions differ at the 1e-7 level from one batch layout to
        another). They are not bit-identical on every CPU: BLAS libraries pick
        kernels, hence the order of their sums, by batch size.
        """
        module = self.net_.module_
        if self.inference_dtype == "float64":
            module = copy.deepcopy(module).to(dtype=torch.float64)
        return module.eval()

    def _infer(self, fn, X):
        """Apply ``fn(module, x_batch)`` batch by batch; return float64 arrays.

        Parameters
        ----------
        fn : callable
            ``fn(module, tensor)`` returning a tensor or a tuple of tensors.
        X : ndarray of shape (n_samples, ...)

        Returns
        -------
        out : ndarray or tuple of ndarray, float64
        """
        module = self._inference_module()
        dtype = _INFERENCE_DTYPES[self.inference_dtype]
        device = self.net_.device
        outs = []
        with torch.no_grad():
            for start in range(0, X.shape[0], self.batch_size):
                xb = _as_tensor(X[start : start + self.batch_size], dtype, device)
                outs.append(_to_numpy(fn(module, xb)))
        if isinstance(outs[0], tuple):
            out = tuple(np.concatenate(parts) for parts in zip(*outs, strict=True))
        else:
            out = np.concatenate(outs)
        _check_finite_output(out, X, module)
        return out
