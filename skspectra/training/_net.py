"""The skorch net every estimator trains, with optional automatic mixed precision."""

import contextlib

import torch
from skorch import NeuralNet
from skorch.dataset import unpack_data

__all__ = ["TrainingNet"]


def _float32(y):
    if isinstance(y, tuple | list):
        return type(y)(_float32(v) for v in y)
    if torch.is_tensor(y) and y.is_floating_point() and y.dtype != torch.float32:
        return y.float()
    return y


class TrainingNet(NeuralNet):
    """:class:`skorch.NeuralNet` with automatic mixed precision as an option.

    Parameters
    ----------
    *args, **kwargs
        As :class:`skorch.NeuralNet`.
    amp : bool, default=False
        Run the module's forward pass under :func:`torch.autocast`: float16
        on CUDA, with a :class:`torch.amp.GradScaler` that scales the loss
        so that small float16 gradients do not flush to zero; bfloat16 on
        CPU (no scaler needed: bfloat16 has float32's exponent range). The
        loss is always computed in float32. Weights and optimizer state stay
        float32.

    Notes
    -----
    With ``amp`` on CUDA, callbacks that read gradients in
    ``on_grad_computed`` (``GradientNormClipping``) see them scaled.
    """

    def __init__(self, *args, amp=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.amp = amp

    def _device_type(self):
        return torch.device(self.device or "cpu").type

    def _autocast(self):
        if not self.amp:
            return contextlib.nullcontext()
        kind = self._device_type()
        dtype = torch.float16 if kind == "cuda" else torch.bfloat16
        return torch.autocast(device_type=kind, dtype=dtype)

    def _scaler(self):
        """The GradScaler of float16 training on CUDA, created on first use; else None."""
        if not (self.amp and self._device_type() == "cuda"):
            return None
        if getattr(self, "grad_scaler_", None) is None:
            self.grad_scaler_ = torch.amp.GradScaler("cuda")
        return self.grad_scaler_

    def infer(self, x, **fit_params):
        with self._autocast():
            return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, *args, **kwargs):
        return super().get_loss(_float32(y_pred), y_true, *args, **kwargs)

    def train_step_single(self, batch, **fit_params):
        scaler = self._scaler()
        if scaler is None:
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        scaler.scale(loss).backward()
        return {"loss": loss, "y_pred": y_pred}

    def _step_optimizer(self, step_fn):
        scaler = self._scaler()
        if scaler is None:
            return super()._step_optimizer(step_fn)
        step_fn()  # forward + scaled backward
        for name in self._optimizers:
            scaler.step(getattr(self, name + "_"))
        scaler.update()
        return None
