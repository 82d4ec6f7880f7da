"""Convolutional variational autoencoder for spectra and its loss (pure torch, no sklearn).

Shapes use ``B`` for the batch, ``L`` for the number of wavelength pixels and
``K`` for the number of latent components.
"""

import math

import torch
from torch import nn

from .attention import SelfAttention1d
from .conv1d import ConvDecoder1d, ConvEncoder1d, _check_positive

__all__ = ["LIKELIHOODS", "ConvVAE1d", "VAELoss", "gaussian_kl", "pixel_nll"]

#: Bounds on the encoder's log-variance. They keep ``exp(logvar)`` finite in
#: float32 (and the KL free of NaN/inf) on any input, however untrained the
#: net; ``exp(-30)`` is a posterior width far below anything a spectrum pins down.
LOGVAR_MIN, LOGVAR_MAX = -30.0, 20.0

#: Per-pixel likelihoods :func:`pixel_nll` knows.
LIKELIHOODS = ("gaussian", "laplace")


def pixel_nll(x_hat, x, weight, likelihood="gaussian"):
    r"""Negative log-likelihood of each pixel, without its normalisation constant.

    .. math::

        \text{gaussian:}\ \tfrac12\,w\,(x - \hat x)^2 \qquad
        \text{laplace:}\ \sqrt{2w}\,|x - \hat x|

    with :math:`w` the inverse variance (0 for masked pixels, which then cost
    nothing). Both have variance :math:`1/w`; the Laplace one has heavier tails,
    so a few bad pixels pull less on the fit.

    Parameters
    ----------
    x_hat, x, weight : Tensor of shape (B, L)
        Model, data and inverse variance.
    likelihood : {'gaussian', 'laplace'}, default='gaussian'

    Returns
    -------
    nll : Tensor of shape (B, L)
    """
    residual = x - x_hat
    if likelihood == "gaussian":
        return 0.5 * weight * residual**2
    if likelihood == "laplace":
        return torch.sqrt(2.0 * weight) * residual.abs()
    raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}.")


def gaussian_kl(mean, logvar):
    r"""KL divergence of a diagonal Gaussian posterior from the prior N(0, I), in nats.

    .. math:: \mathrm{KL} = \tfrac12 \sum_k (\mu_k^2 + \sigma_k^2 - 1 - \log\sigma_k^2)

    Notes
    -----
    **Shapes.** ``mean``, ``logvar``: ``(B, K)`` → ``(B,)``, in nats.
    """
    return 0.5 * (mean**2 + logvar.exp() - 1.0 - logvar).sum(dim=-1)


class ConvVAE1d(nn.Module):
    """Convolutional variational autoencoder built from ConvEncoder1d and ConvDecoder1d.

    The encoder's outputs are the mean and the log-variance of a diagonal
    Gaussian posterior over ``K`` latents. In training mode ``forward`` decodes
    a reparametrised draw ``z = mean + exp(logvar / 2) * eps`` (Kingma &
    Welling 2014); in evaluation mode it decodes the mean, so inference is
    deterministic.

    Parameters
    ----------
    n_features : int
        Number of wavelength pixels ``L``.
    n_components : int
        Number of latents ``K``.
    n_filters, depth, kernel_size : int
        As for :class:`ConvEncoder1d`.
    attention : bool, default=False
        Insert a :class:`SelfAttention1d` block between the encoder's
        convolutional features and its linear head.
    n_heads : int or None, default=None
        Attention heads (see :class:`SelfAttention1d`).
    linear_encoder : array-like of shape (K, L) or None, default=None
        Weights of a linear path added to the posterior mean,
        ``mean = mean_conv(x) + A x``. With it, the convolutional paths'
        last layers start at zero, so training starts from the linear model
        (for example whitened principal components, as in
        :class:`ConvAutoencoder1d`) and the convolutions learn a non-linear
        correction.
    linear_decoder : array-like of shape (L, K) or None, default=None
        Weights ``B`` of the decoder's linear path, ``x̂ = x̂_conv(z) + B z + c``
        (``c`` starts at 0). Given with ``linear_encoder``.
    init_logvar : array-like of shape (K,) or None, default=None
        Starting posterior log-variance of each latent (the bias of the
        encoder's log-variance output), used with the linear path.
    learn_mean : bool, default=True
        With a linear path, False makes the posterior mean the linear path
        alone, ``mean = A x + a``, with ``A`` and ``a`` fixed (``a`` is 0
        until :meth:`rescale_latents` moves it): the latents stay the
        projection they started as (whitened principal components), while
        the convolutions learn the posterior widths and the decoder.

    Notes
    -----
    **Shapes.** ``encode``: ``(B, L)`` → ``((B, K), (B, K))`` (mean, log-variance);
    ``decode``: ``(B, K)`` → ``(B, L)``;
    ``forward``: ``(B, L)`` → ``((B, L), (B, K), (B, K))`` (reconstruction, mean, log-variance).
    """

    def __init__(
        self,
        n_features,
        n_components,
        n_filters=16,
        depth=3,
        kernel_size=5,
        attention=False,
        n_heads=None,
        linear_encoder=None,
        linear_decoder=None,
        init_logvar=None,
        learn_mean=True,
    ):
        super().__init__()
        _check_positive(n_features=n_features, n_components=n_components, n_filters=n_filters)
        self.n_components = int(n_components)
        self.encoder = ConvEncoder1d(n_features, 2 * n_components, n_filters, depth, kernel_size)
        self.decoder = ConvDecoder1d(n_features, n_components, n_filters, depth, kernel_size)
        self.attention = None
        if attention:
            n_channels = self.encoder.head.in_features // self.encoder.lengths[-1]
            self.attention = SelfAttention1d(n_channels, self.encoder.lengths[-1], n_heads)
        self.linear_encoder = self.linear_decoder = None
        self.learn_mean = bool(learn_mean)
        if (linear_encoder is None) != (linear_decoder is None):
            raise ValueError("give both linear_encoder and linear_decoder, or neither.")
        if linear_encoder is not None:
            self._init_linear_path(n_features, linear_encoder, linear_decoder, init_logvar)

    @torch.no_grad()
    def _init_linear_path(self, n_features, encoder_weight, decoder_weight, init_logvar):
        k = self.n_components
        enc = torch.as_tensor(encoder_weight, dtype=torch.float32)
        dec = torch.as_tensor(decoder_weight, dtype=torch.float32)
        if enc.shape != (k, n_features) or dec.shape != (n_features, k):
            raise ValueError(
                f"linear_encoder must have shape (n_components, n_features) = ({k}, "
                f"{n_features}) and linear_decoder ({n_features}, {k}); got "
                f"{tuple(enc.shape)} and {tuple(dec.shape)}."
            )
        self.linear_encoder = nn.Linear(n_features, k, bias=False)
        self.linear_decoder = nn.Linear(k, n_features)
        self.linear_encoder.weight.copy_(enc)
        # A fixed offset, which rescale_latents sets (added here, not by nn.Linear, so as not
        # to draw from the random stream that initialises the rest of the module).
        self.linear_encoder.bias = nn.Parameter(torch.zeros(k), requires_grad=False)
        self.linear_decoder.weight.copy_(dec)
        self.linear_decoder.bias.zero_()
        for layer in (self.encoder.head, self.decoder.out):
            layer.weight.zero_()
            layer.bias.zero_()
        if init_logvar is not None:
            self.encoder.head.bias[k:] = torch.as_tensor(init_logvar, dtype=torch.float32)
        self.linear_encoder.weight.requires_grad_(self.learn_mean)

    def encode(self, x):
        h = self.encoder.features(x.unsqueeze(1))  # (B, C, L_depth)
        if self.attention is not None:
            h = self.attention(h)
        out = self.encoder.head(h.flatten(1))
        mean, logvar = out[:, : self.n_components], out[:, self.n_components :]
        if self.linear_encoder is not None:
            linear = self.linear_encoder(x)
            mean = mean + linear if self.learn_mean else linear
        return mean, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)

    def decode(self, z):
        x = self.decoder(z)
        return x if self.linear_decoder is None else x + self.linear_decoder(z)

    @torch.no_grad()
    def rescale_latents(self, shift, scale):
        """Re-express the latents as ``z' = (z - shift) / scale``, keeping the model's output.

        The map is folded into the encoder (means shift and scale, log-variances move by
        ``-2 log(scale)``; the shift goes into the bias of the convolutional head, or with
        ``learn_mean=False``, whose posterior mean is the linear path alone, into the linear
        path's) and into the decoder's first, linear, layers, so ``decode`` of the new
        posterior mean gives exactly the spectrum it gave before.

        Parameters
        ----------
        shift, scale : Tensor of shape (K,)
            Per-latent offset and positive factor.
        """
        like = self.decoder.head.weight  # the module may live on a GPU
        shift = torch.as_tensor(shift, dtype=like.dtype, device=like.device)
        scale = torch.as_tensor(scale, dtype=like.dtype, device=like.device)
        k = self.n_components
        head = self.encoder.head
        head.weight[:k] /= scale[:, None]
        head.bias[:k] /= scale
        head.bias[k:] -= 2.0 * torch.log(scale)
        offset = head.bias[:k]
        if self.linear_encoder is not None:
            self.linear_encoder.weight /= scale[:, None]
            self.linear_encoder.bias /= scale
            if not self.learn_mean:  # the head's mean is not used: shift the linear path
                offset = self.linear_encoder.bias
        offset -= shift / scale
        dec_layers = [self.decoder.head]
        if self.linear_decoder is not None:
            dec_layers.append(self.linear_decoder)
        for dec in dec_layers:  # y = W z + b with z = scale * z' + shift
            dec.bias += dec.weight @ shift
            dec.weight *= scale[None, :]

    def forward(self, x):
        mean, logvar = self.encode(x)
        z = mean
        if self.training:
            z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        return self.decode(z), mean, logvar


class VAELoss(nn.Module):
    r"""Negative evidence lower bound per spectrum, with a KL weight ``beta``.

    .. math::

        \mathcal L = \frac1B \sum_b \Big[\sum_\lambda
            \mathrm{nll}(x_{b\lambda}, \hat x_{b\lambda}, w_{b\lambda})
            + \beta\,\mathrm{KL}_b\Big]

    summed over pixels and averaged over the batch, so that with ``beta = 1``
    and ``w`` the inverse variance it is minus the ELBO of one spectrum, in
    nats (up to the Gaussian normalisation ½ Σ log(2π/w), which does not
    depend on the model). :func:`pixel_nll` gives ``nll``, :func:`gaussian_kl`
    the KL. ``beta`` is an attribute, so a callback can anneal it.

    After each call, ``last_nll`` and ``last_kl`` hold the batch means of the
    two terms as floats, for logging.

    Parameters
    ----------
    beta : float, default=1.0
        Weight of the KL term.
    likelihood : {'gaussian', 'laplace'}, default='gaussian'

    Notes
    -----
    **Shapes.** ``y_pred``: the ``(reconstruction (B, L), mean (B, K), logvar (B, K))``
    tuple of :class:`ConvVAE1d`; ``y_true``: ``(B, 2, L)`` holding the target
    flux in ``[:, 0]`` and its inverse variance in ``[:, 1]``.
    """

    def __init__(self, beta=1.0, likelihood="gaussian"):
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}.")
        self.beta = float(beta)
        self.likelihood = likelihood
        self.last_nll = math.nan
        self.last_kl = math.nan

    def forward(self, y_pred, y_true):
        x_hat, mean, logvar = y_pred
        nll = pixel_nll(x_hat, y_true[:, 0], y_true[:, 1], self.likelihood).sum(dim=-1).mean()
        kl = gaussian_kl(mean, logvar).mean()
        self.last_nll, self.last_kl = float(nll.detach()), float(kl.detach())
        return nll + self.beta * kl
