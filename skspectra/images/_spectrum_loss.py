"""Training a latent regressor for the spectrum: a frozen torch decoder and a χ² loss.

:class:`ImageToSpectrum` with ``loss="chi2"`` trains its regressor through the
spectrum model's decoder, so that what is minimised is the misfit of the
decoded spectrum, weighted by ivar, rather than the squared error of the
latents (in which every latent counts the same, however much or little it
changes the spectrum).
"""

import numpy as np
import torch
from torch import nn

__all__ = ["LogChi2Loss", "torch_decoder"]


class _AffineDecoder(nn.Module):
    """``flux = (z * latent_scale + latent_mean) @ weight + bias``: a linear decoder (PCA)."""

    def __init__(self, weight, bias, latent_mean, latent_scale):
        super().__init__()
        self.register_buffer("weight", _float32(weight))
        self.register_buffer("bias", _float32(bias))
        self.register_buffer("latent_mean", _float32(latent_mean))
        self.register_buffer("latent_scale", _float32(latent_scale))

    def forward(self, z):
        return (z * self.latent_scale + self.latent_mean) @ self.weight + self.bias


class _NetworkDecoder(nn.Module):
    """``flux = decode(z * latent_scale + latent_mean) * scale + mean``: a spectral autoencoder's
    decoder with its standardisation, frozen."""

    def __init__(self, module, mean, scale, latent_mean, latent_scale):
        super().__init__()
        self.module = module
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.register_buffer("mean", _float32(mean))
        self.register_buffer("scale", _float32(scale))
        self.register_buffer("latent_mean", _float32(latent_mean))
        self.register_buffer("latent_scale", _float32(latent_scale))

    def train(self, mode=True):
        super().train(mode)
        self.module.eval()  # frozen: no dropout, no batch statistics
        return self

    def forward(self, z):
        return self.module.decode(z * self.latent_scale + self.latent_mean) * self.scale + self.mean


def _float32(a):
    return torch.as_tensor(np.asarray(a, dtype=np.float32))


def torch_decoder(spectrum_model, latent_mean, latent_scale):
    """A frozen, differentiable float32 copy of ``spectrum_model.inverse_transform``, or None.

    Parameters
    ----------
    spectrum_model : fitted estimator
        :class:`~sklearn.decomposition.PCA` (or any linear model with
        ``components_`` and ``mean_``), or a spectral autoencoder of this
        package (:class:`~skspectra.SpectralVAE`, :class:`~skspectra.SpectralCAE`).
    latent_mean, latent_scale : ndarray of shape (n_components,)
        The decoder takes standardised latents ``(z - latent_mean) / latent_scale``.

    Returns
    -------
    decoder : torch.nn.Module or None
        Maps standardised latents ``(B, n_components)`` to flux ``(B, n_wavelengths)``;
        None when the model is neither kind (then only the latent loss applies).
    """
    decoder = _candidate_decoder(spectrum_model, latent_mean, latent_scale)
    if decoder is None or not _reproduces(decoder, spectrum_model, latent_mean, latent_scale):
        return None
    return decoder


def _candidate_decoder(spectrum_model, latent_mean, latent_scale):
    import copy

    if hasattr(spectrum_model, "components_") and hasattr(spectrum_model, "mean_"):
        weight = np.asarray(spectrum_model.components_, dtype=np.float64)
        whiten = getattr(spectrum_model, "whiten", False) is True  # FastICA's is a string
        if whiten and hasattr(spectrum_model, "explained_variance_"):
            weight = weight * np.sqrt(spectrum_model.explained_variance_)[:, None]
        return _AffineDecoder(weight, spectrum_model.mean_, latent_mean, latent_scale)
    net = getattr(spectrum_model, "net_", None)
    module = getattr(net, "module_", None)
    if module is not None and hasattr(module, "decode") and hasattr(spectrum_model, "scale_"):
        module = copy.deepcopy(module).to(device="cpu", dtype=torch.float32)
        return _NetworkDecoder(
            module, spectrum_model.mean_, spectrum_model.scale_, latent_mean, latent_scale
        )
    return None


def _reproduces(decoder, spectrum_model, latent_mean, latent_scale, rtol=1e-3):
    """Whether ``decoder`` gives what ``inverse_transform`` gives, on latents a few σ around
    the mean (a model with ``components_`` and ``mean_`` need not decode linearly with them:
    FastICA does not)."""
    rng = np.random.default_rng(0)
    Zs = rng.normal(scale=2.0, size=(8, len(latent_mean)))
    expected = np.asarray(spectrum_model.inverse_transform(Zs * latent_scale + latent_mean))
    with torch.no_grad():
        got = decoder.eval()(torch.as_tensor(Zs, dtype=torch.float32)).double().numpy()
    if got.shape != expected.reshape(len(Zs), -1).shape:
        return False
    expected = expected.reshape(got.shape)
    scale = np.max(np.abs(expected)) or 1.0
    return bool(np.max(np.abs(got - expected)) <= rtol * scale)


class LogChi2Loss(nn.Module):
    """Mean over spectra of ``log(1 + χ²/N)``, ``χ²/N = Σ ivar (ŷ − y)² / N`` per spectrum.

    The target packs flux and ivar: ``y_true`` of shape ``(B, 2, n_wavelengths)``,
    ``y_true[:, 0]`` the flux and ``y_true[:, 1]`` its inverse variance (0 =
    masked, not counted in ``N``). The logarithm keeps a few spectra that no
    model can predict (binaries, blends, bad photometry) from dominating the
    gradient, as a robust loss does; where ``χ²/N`` is small it is ``χ²/N``.
    """

    def forward(self, y_pred, y_true):
        flux, ivar = y_true[:, 0], y_true[:, 1]
        n_used = torch.clamp((ivar > 0).sum(dim=1), min=1)
        chi2 = (ivar * (y_pred - flux) ** 2).sum(dim=1) / n_used
        return torch.log1p(chi2).mean()
