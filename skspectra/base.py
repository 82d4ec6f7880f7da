"""Shared plumbing of every skspectra estimator.

Each estimator is a plain :class:`sklearn.base.BaseEstimator` with explicit
hyper-parameters. ``fit`` builds a :class:`skorch.NeuralNet` around a pure
``torch.nn.Module`` and keeps it as ``net_`` (design B of the design notes).
This module holds what they all share:

- input validation (``validate_data`` in ``fit``, ``check_is_fitted`` and
  ``validate_data(reset=False)`` everywhere else) and ``ivar`` checks;
- local seeding: ``random_state`` becomes one integer seed, applied inside
  :func:`torch.random.fork_rng`, so the caller's global RNG is untouched;
- float32 training through skorch, with its callbacks, validation split,
  epoch table and progress bar;
- batch-invariant inference in float64 (or float32, for speed).
"""

import copy
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["MAX_ABS_VALUE", "NeuralEstimatorMixin", "check_ivar", "check_magnitude"]

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
    if X.dtype.kind == "f" and X.size:
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


def _as_tensor(a, dtype, device):
    """Copy a numpy array into a new tensor (read-only inputs stay untouched)."""
    return torch.tensor(np.asarray(a), dtype=dtype, device=device)


def _to_numpy(out):
    """Turn a tensor, or a tuple of them, into float64 numpy arrays."""
    if isinstance(out, tuple | list):
        return tuple(_to_numpy(o) for o in out)
    return out.detach().cpu().numpy().astype(np.float64)


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
    ``verbose``, ``random_state``) in its ``__init__``, extends
    ``_parameter_constraints`` with its own, and implements:

    ``_build_module(n_features)``
        Return the ``torch.nn.Module`` to train.
    ``_build_criterion()``
        Return the loss module; skorch calls it as ``criterion(y_pred, y_true)``.

    Then ``fit`` calls :meth:`_fit_net` with the arrays the net trains on, and
    the other methods call :meth:`_infer` to run the trained module.
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
        learning-rate schedule that ``lr_schedule`` names and a progress bar
        where ``verbose``.

        ``"cosine"`` anneals lr to 0 over ``max_epochs`` (stepped each epoch);
        ``"onecycle"`` is Smith & Topin's (2019) one-cycle policy, a warm-up to
        ``lr`` then annealing, stepped each batch (it needs ``steps_per_epoch``).
        """
        from skorch.callbacks import LRScheduler, ProgressBar

        callbacks = copy.deepcopy(list(self.callbacks or []))
        policy = getattr(self, "lr_schedule", "constant")
        if policy == "cosine":
            schedule = LRScheduler(policy="CosineAnnealingLR", T_max=self.max_epochs)
            callbacks.insert(0, ("lr_schedule", schedule))
        elif policy == "onecycle":
            schedule = LRScheduler(
                policy=torch.optim.lr_scheduler.OneCycleLR,
                max_lr=self.lr,
                # one step of slack: the last batch of an epoch may be split differently
                total_steps=self.max_epochs * steps_per_epoch + 1,
                step_every="batch",
            )
            callbacks.insert(0, ("lr_schedule", schedule))
        if self.verbose and self.verbose > 0:
            callbacks.append(("progress_bar", ProgressBar(detect_notebook=False)))
        return callbacks

    def _net_kwargs(self):
        """Extra keyword arguments for :class:`skorch.NeuralNet`; subclasses may extend."""
        return {}

    def _fit_net(self, X_train, y_train, **module_kwargs):
        """Train the module on float32 copies of ``X_train``/``y_train``; set ``net_``.

        Parameters
        ----------
        X_train : ndarray of shape (n_samples, ...)
            What the module's ``forward`` receives.
        y_train : ndarray of shape (n_samples, ...)
            What the criterion receives as ``y_true``.
        **module_kwargs
            Passed on to ``_build_module`` (data-dependent initialisation).
        """
        from skorch import NeuralNet

        self._check_device()
        seed = self._seed()
        n_samples = X_train.shape[0]
        train_split = self._train_split(n_samples, seed)
        n_fit = n_samples - (
            int(np.ceil(self.validation_fraction * n_samples)) if train_split else 0
        )
        batch_size = min(self.batch_size, n_samples)
        devices = [torch.device(self.device)] if self.device.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            net = NeuralNet(
                module=self._build_module(X_train.shape[1], **module_kwargs),
                criterion=self._build_criterion(),
                optimizer=torch.optim.Adam,
                lr=self.lr,
                max_epochs=self.max_epochs,
                batch_size=batch_size,
                train_split=train_split,
                callbacks=self._callbacks(steps_per_epoch=-(-n_fit // batch_size)),
                device=self.device,
                verbose=int(self.verbose or 0),
                iterator_train__shuffle=True,
                **self._net_kwargs(),
            )
            net.fit(np.asarray(X_train, dtype=np.float32), np.asarray(y_train, dtype=np.float32))
        self.net_ = net
        self.history_ = net.history
        return net

    # -- inference ----------------------------------------------------------
    def _inference_module(self):
        """The trained module in ``inference_dtype``, in evaluation mode.

        float64 inference runs on a copy, so that results do not depend on how
        samples are grouped into batches (float32 convolutions differ at the
        1e-7 level from one batch layout to another).
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
