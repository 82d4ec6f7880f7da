"""Multi-scale 1-D CNN for Gaussian line decomposition, and its loss (pure torch, no sklearn).

Shapes use ``B`` for the batch, ``L`` for the number of channels, ``K`` for
the number of component slots and ``C`` for convolution channels.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "DenseLineLoss",
    "GaussianLineDetector",
    "GaussianLineLoss",
    "GaussianLineNet",
    "MultiScaleBlock1d",
    "MultiScaleEncoder1d",
    "MultiScaleRegressor1d",
    "gaussian_sum_torch",
]

# exp() of the log-sigma the network predicts is clamped to this range (in channels), so
# that an untrained network cannot produce zero or overflowing widths in the loss.
_LOG_SIGMA_BOUNDS = (math.log(1e-2), math.log(1e4))


def gaussian_sum_torch(amplitude, mean, sigma, x):
    """Sum of Gaussian profiles on a grid, differentiably.

    Parameters
    ----------
    amplitude, mean, sigma : Tensor of shape (B, K)
        Components; sigma > 0 in the units of ``x``.
    x : Tensor of shape (L,)
        The grid.

    Returns
    -------
    spectra : Tensor of shape (B, L)
    """
    z = (x - mean.unsqueeze(-1)) / sigma.unsqueeze(-1)  # (B, K, L)
    return (amplitude.unsqueeze(-1) * torch.exp(-0.5 * z**2)).sum(dim=1)


class MultiScaleBlock1d(nn.Module):
    """Parallel 1-D convolutions of several kernel sizes, concatenated, normalised, activated.

    Each branch has ``n_filters`` filters; wide kernels see broad lines,
    narrow ones sharp lines and noise. Normalisation is a
    :class:`~torch.nn.GroupNorm` with one group per branch, which works for
    any batch size and any length, one included (BatchNorm does not).

    Notes
    -----
    **Shapes.** ``forward``: ``(B, c_in, L)`` → ``(B, n_filters * len(kernel_sizes), L)``.
    """

    def __init__(self, c_in, n_filters, kernel_sizes):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Conv1d(c_in, n_filters, k, padding="same") for k in kernel_sizes
        )
        self.norm = nn.GroupNorm(len(kernel_sizes), n_filters * len(kernel_sizes))

    def forward(self, x):
        h = torch.cat([branch(x) for branch in self.branches], dim=1)
        return F.gelu(self.norm(h))


def pooled_lengths(n_features, n_blocks):
    """Length after each of ``n_blocks`` max-poolings by 2 (ceil mode; a length of 1 stays 1)."""
    lengths = [int(n_features)]
    for _ in range(n_blocks):
        lengths.append(max(1, math.ceil(lengths[-1] / 2)))
    return lengths


class MultiScaleEncoder1d(nn.Module):
    """Stack of :class:`MultiScaleBlock1d`, each followed by a max-pooling by 2, then an MLP layer.

    Parameters
    ----------
    n_features : int
        Number of channels ``L`` of the input spectra (any length >= 1).
    kernel_sizes : sequence of int
        Kernel sizes of the parallel branches, in channels (odd).
    n_filters : int
        Filters per branch.
    n_blocks : int
        Number of multi-scale blocks; each halves the length.
    hidden_size : int
        Width of the fully connected layer after the flattened features.

    Notes
    -----
    **Shapes.** ``forward``: ``(B, L)`` → ``(B, hidden_size)``.
    """

    def __init__(self, n_features, kernel_sizes, n_filters, n_blocks, hidden_size):
        super().__init__()
        width = n_filters * len(kernel_sizes)
        lengths = pooled_lengths(n_features, n_blocks)
        layers = []
        for i in range(n_blocks):
            layers.append(MultiScaleBlock1d(1 if i == 0 else width, n_filters, kernel_sizes))
            if lengths[i] > 1:
                layers.append(nn.MaxPool1d(2, ceil_mode=True))
        self.features = nn.Sequential(*layers)
        n_flat = (width if n_blocks else 1) * lengths[-1]
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(n_flat, hidden_size), nn.GELU())

    def forward(self, x):
        return self.fc(self.features(x.unsqueeze(1)))


class MultiScaleRegressor1d(nn.Module):
    """:class:`MultiScaleEncoder1d` and a linear head: generic regression from spectra.

    Notes
    -----
    **Shapes.** ``forward``: ``(B, L)`` → ``(B, n_outputs)``.
    """

    def __init__(self, n_features, n_outputs, kernel_sizes, n_filters, n_blocks, hidden_size):
        super().__init__()
        self.encoder = MultiScaleEncoder1d(
            n_features, kernel_sizes, n_filters, n_blocks, hidden_size
        )
        self.head = nn.Linear(hidden_size, n_outputs)

    def forward(self, x):
        return self.head(self.encoder(x))


class GaussianLineNet(nn.Module):
    """Predict up to ``max_components`` Gaussian components of a spectrum, and which exist.

    A :class:`MultiScaleEncoder1d` trunk feeds two heads: a parameter head
    with three standardised numbers per component slot (amplitude, mean and
    log-sigma, see :class:`GaussianLineLoss`), and an existence head with
    one logit per slot. Slot ``k`` holds the ``k``-th component in order of
    increasing mean, so its logit is that of "the spectrum has more than
    ``k`` components".

    Parameters
    ----------
    n_features : int
        Number of channels ``L``.
    max_components : int
        Number of slots ``K``.
    kernel_sizes, n_filters, n_blocks, hidden_size
        As for :class:`MultiScaleEncoder1d`.

    Notes
    -----
    **Shapes.** ``forward``: ``(B, L)`` → ``(params (B, K, 3), logits (B, K))``.
    """

    def __init__(self, n_features, max_components, kernel_sizes, n_filters, n_blocks, hidden_size):
        super().__init__()
        self.max_components = int(max_components)
        self.encoder = MultiScaleEncoder1d(
            n_features, kernel_sizes, n_filters, n_blocks, hidden_size
        )
        self.params = nn.Linear(hidden_size, 3 * self.max_components)
        self.existence = nn.Linear(hidden_size, self.max_components)

    def forward(self, x):
        h = self.encoder(x)
        return self.params(h).view(-1, self.max_components, 3), self.existence(h)


class GaussianLineLoss(nn.Module):
    r"""Four-part loss of :class:`GaussianLineNet`.

    The network predicts standardised parameters
    :math:`z = (p - \mathrm{loc}) / \mathrm{scale}` of
    :math:`p = (a, \mu, \ln\sigma)`, with ``a`` the amplitude in units of
    the spectrum's own flux scale and :math:`\mu, \sigma` in channels.

    .. math::

        \mathcal{L} = \underbrace{\frac{1}{N_\mathrm{on}}\sum_{\mathrm{on}} \|z - \hat z\|^2}
                      _\mathrm{parameters}
        + w_s \underbrace{\frac{1}{BK}\sum_{\mathrm{off}} |\hat a|}_\mathrm{sparsity}
        + w_e \underbrace{\mathrm{BCE}(\hat\ell, e)}_\mathrm{existence}
        + w_r \underbrace{\frac{1}{BL}\sum_{b,x} (\hat f_b(x) - f_b(x))^2}_\mathrm{reconstruction}

    "on"/"off" are the slots with/without a true component (``e`` = 1/0),
    :math:`\hat\ell` the existence logits, and :math:`f, \hat f` the
    noise-free spectra rebuilt from the true and the predicted parameters
    (every predicted slot, so that spurious amplitudes cost too).

    Parameters
    ----------
    n_features : int
        Number of channels ``L``; the grid is ``0, 1, ..., L - 1``.
    loc, scale : sequence of 3 floats
        Standardisation of ``(a, mu, ln sigma)``.
    sparsity_weight, existence_weight, reconstruction_weight : float
        :math:`w_s, w_e, w_r`.

    Notes
    -----
    **Shapes.** ``y_pred``: ``(params (B, K, 3), logits (B, K))``; ``y_true``: ``(B, K, 4)``
    with the standardised true parameters in ``[..., :3]`` (anything where
    absent) and the existence flag in ``[..., 3]``.
    """

    def __init__(
        self, n_features, loc, scale, sparsity_weight, existence_weight, reconstruction_weight
    ):
        super().__init__()
        self.register_buffer("grid", torch.arange(int(n_features), dtype=torch.float32))
        self.register_buffer("loc", torch.as_tensor(loc, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))
        self.sparsity_weight = float(sparsity_weight)
        self.existence_weight = float(existence_weight)
        self.reconstruction_weight = float(reconstruction_weight)

    def physical(self, z):
        """Standardised ``(B, K, 3)`` → ``(amplitude, mean, sigma)``, each ``(B, K)``."""
        p = z * self.scale + self.loc
        log_sigma = p[..., 2].clamp(*_LOG_SIGMA_BOUNDS)
        return p[..., 0], p[..., 1], torch.exp(log_sigma)

    def forward(self, y_pred, y_true):
        z_pred, logits = y_pred
        z_true, on = y_true[..., :3], y_true[..., 3]
        n_on = on.sum().clamp(min=1.0)
        loss = (((z_pred - z_true) ** 2).sum(-1) * on).sum() / n_on
        a_pred, mu_pred, s_pred = self.physical(z_pred)
        if self.sparsity_weight:
            loss = loss + self.sparsity_weight * (a_pred.abs() * (1 - on)).mean()
        if self.existence_weight:
            loss = loss + self.existence_weight * F.binary_cross_entropy_with_logits(logits, on)
        if self.reconstruction_weight:
            a_true, mu_true, s_true = self.physical(z_true)
            grid = self.grid.to(z_pred.dtype)
            f_true = gaussian_sum_torch(a_true * on, mu_true, s_true, grid)
            f_pred = gaussian_sum_torch(a_pred, mu_pred, s_pred, grid)
            loss = loss + self.reconstruction_weight * ((f_pred - f_true) ** 2).mean()
        return loss


class GaussianLineDetector(nn.Module):
    """Dense 1-D line detector: a heatmap of line centres and the line measured at each cell.

    A :class:`MultiScaleBlock1d` at full resolution, then ``n_blocks`` more, each after a
    max-pooling by 2. The features of every scale are brought back to the resolution of
    the first pooling (a *cell* of ``stride = 2`` channels) by linear interpolation and
    concatenated (a feature pyramid), and a small convolutional head predicts, for every
    cell, four numbers: the logit that a line centre falls in it, the centre's position
    inside the cell (a logit of the fraction), and the line's standardised log-sigma and
    amplitude. Being convolutional, it finds a line the same way wherever it is, as
    CenterNet does for objects in images. A count head (the mean and maximum of the
    pyramid over cells, then a small MLP) classifies the number of lines, 0 to
    ``max_components``: blended lines make one broad peak of the heatmap, but not one
    line.

    Parameters
    ----------
    n_features : int
        Number of channels ``L``.
    max_components : int
        Largest number of lines ``K``.
    kernel_sizes, n_filters, n_blocks, hidden_size
        As for :class:`MultiScaleEncoder1d`; ``hidden_size`` is the width of the heads.

    Notes
    -----
    **Shapes.** ``forward``: ``(B, L)`` → ``(dense (B, 4, M), count logits (B, K + 1))`` with
    ``M = ceil(L / 2)`` cells (``M = L`` when ``L = 1``).

    References
    ----------
    .. [1] Zhou, X., Wang, D. & Krähenbühl, P. 2019, "Objects as Points" (CenterNet).
    .. [2] Lin, T.-Y. et al. 2017, CVPR, "Feature Pyramid Networks for Object Detection".
    """

    stride = 2

    def __init__(self, n_features, max_components, kernel_sizes, n_filters, n_blocks, hidden_size):
        super().__init__()
        width = n_filters * len(kernel_sizes)
        self.lengths = pooled_lengths(n_features, max(n_blocks, 1))
        self.stem = MultiScaleBlock1d(1, n_filters, kernel_sizes)
        self.blocks = nn.ModuleList(
            MultiScaleBlock1d(width, n_filters, kernel_sizes) for _ in range(max(n_blocks, 1))
        )
        self.head = nn.Sequential(
            nn.Conv1d(width * len(self.blocks), hidden_size, 1),
            nn.GELU(),
            nn.Conv1d(hidden_size, 4, 1),
        )
        self.count = nn.Sequential(
            nn.Linear(2 * width * len(self.blocks), hidden_size),
            nn.GELU(),
            nn.Linear(hidden_size, int(max_components) + 1),
        )

    def forward(self, x):
        h = self.stem(x.unsqueeze(1))
        levels = []
        for block in self.blocks:
            if h.shape[-1] > 1:
                h = F.max_pool1d(h, 2, ceil_mode=True)
            h = block(h)
            levels.append(h)
        size = levels[0].shape[-1]
        pyramid = [
            f if f.shape[-1] == size else F.interpolate(f, size=size, mode="linear") for f in levels
        ]
        features = torch.cat(pyramid, dim=1)
        pooled = torch.cat([features.mean(dim=-1), features.amax(dim=-1)], dim=1)
        return self.head(features), self.count(pooled)


class DenseLineLoss(nn.Module):
    r"""Loss of :class:`GaussianLineDetector`: focal heatmap loss plus the lines' parameters.

    .. math::

        \mathcal{L} = -\frac{1}{N}\sum_c \begin{cases}
            (1 - p_c)^2 \ln p_c & h_c = 1 \\
            (1 - h_c)^4 p_c^2 \ln(1 - p_c) & \text{else}
        \end{cases}
        + \frac{w}{N} \sum_{h_c = 1} \left(|\hat o_c - o_c| + \|\hat z_c - z_c\|^2\right)

    with :math:`p_c` the predicted centre probability of cell ``c``, :math:`h_c` the
    target heatmap (1 at the cell of each line centre, a Gaussian of one cell around
    it), ``N`` the number of lines, :math:`o_c` the centre's fraction of the cell and
    :math:`z_c` the standardised (log-sigma, amplitude) of the line: the loss of
    CenterNet (Zhou et al. 2019). To it is added ``count_weight`` times the
    cross-entropy of the count head.

    Parameters
    ----------
    heat_weight : float, default=1.0
        Weight of the heatmap term.
    parameter_weight : float, default=1.0
        :math:`w`.
    count_weight : float, default=1.0
        Weight of the count cross-entropy.

    Notes
    -----
    **Shapes.** ``y_pred``: ``(dense (B, 4, M), count logits (B, K + 1))``; ``y_true``:
    ``(B, 5, M)`` holding the target heatmap, the centre fraction, the two standardised
    parameters (anything away from centres) and the number of lines (in every cell).
    """

    def __init__(self, heat_weight=1.0, parameter_weight=1.0, count_weight=1.0):
        super().__init__()
        self.heat_weight = float(heat_weight)
        self.parameter_weight = float(parameter_weight)
        self.count_weight = float(count_weight)

    def forward(self, y_pred, y_true):
        y_pred, count_logits = y_pred
        heat, logit = y_true[:, 0], y_pred[:, 0]
        centre = (heat >= 1.0).to(logit.dtype)
        n = centre.sum().clamp(min=1.0)
        log_p, log_q = F.logsigmoid(logit), F.logsigmoid(-logit)
        p = torch.sigmoid(logit)
        focal = centre * (1 - p) ** 2 * log_p + (1 - centre) * (1 - heat) ** 4 * p**2 * log_q
        loss = -self.heat_weight * focal.sum() / n
        offset = (torch.sigmoid(y_pred[:, 1]) - y_true[:, 1]).abs()
        params = ((y_pred[:, 2:4] - y_true[:, 2:4]) ** 2).sum(dim=1)
        loss = loss + self.parameter_weight * ((offset + params) * centre).sum() / n
        count = y_true[:, 4, 0].round().long()
        return loss + self.count_weight * F.cross_entropy(count_logits, count)
