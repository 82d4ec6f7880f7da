"""Targets and decoding of GaussianLineFitter's dense head (a CenterNet-style line detector).

The head works on *cells* of two channels: a line centred at ``mean`` (channels) lies
in cell ``floor((mean + 0.5) / 2)``. See :class:`skspectra.nn.GaussianLineDetector`.
"""

import numpy as np
from scipy.special import expit


def _cells(n_features):
    """Number of cells of the dense head and their width in channels."""
    return (-(-n_features // 2), 2) if n_features > 1 else (1, 1)


def _dense_targets(z, mean, present, n_features):
    """Targets of the dense head, shape (n, 5, n_cells): heatmap, centre fraction, z(ln σ),
    z(a), and the number of lines (in every cell).

    A line at ``mean`` (channels) lies in cell ``floor((mean + 0.5) / stride)``; the heatmap
    is 1 there and falls as a Gaussian of one cell around it (CenterNet's target).
    """
    n, k = present.shape
    n_cells, stride = _cells(n_features)
    target = np.zeros((n, 5, n_cells))
    target[:, 4] = present.sum(axis=1)[:, None]
    position = (mean + 0.5) / stride
    cell = np.clip(np.floor(position), 0, n_cells - 1).astype(int)
    fraction = np.clip(position - cell, 0.0, 1.0)
    grid = np.arange(n_cells)
    for j in range(k):
        rows = np.flatnonzero(present[:, j])
        bump = np.exp(-0.5 * (grid[None, :] - cell[rows, j, None]) ** 2)
        target[rows, 0] = np.maximum(target[rows, 0], bump)
        target[rows, 1, cell[rows, j]] = fraction[rows, j]
        target[rows, 2, cell[rows, j]] = z[rows, j, 2]
        target[rows, 3, cell[rows, j]] = z[rows, j, 0]
    return target


def _decode_peaks(out, max_components, n_features):
    """Lines from the dense head's outputs ``(dense (n, 4, n_cells), count logits (n, K+1))``.

    The cells are picked greedily by decreasing heatmap probability, each pick ruling out
    its two neighbours (non-maximum suppression), ``max_components`` times. Returns ``z``
    (n, K, 3) holding (z(a), mean in channels, z(ln σ)) of the picks in that order, and
    for pick ``j`` the count head's probability that there are more than ``j`` lines.
    """
    dense, count_logits = out
    n, _, n_cells = dense.shape
    _, stride = _cells(n_features)
    heat = expit(dense[:, 0])
    rows = np.arange(n)
    k = min(max_components, n_cells)
    cell = np.zeros((n, k), dtype=int)
    free = heat.copy()
    for j in range(k):
        cell[:, j] = np.argmax(free, axis=1)
        for step in (-1, 0, 1):
            free[rows, np.clip(cell[:, j] + step, 0, n_cells - 1)] = -1.0
    count = np.exp(count_logits - count_logits.max(axis=1, keepdims=True))
    count /= count.sum(axis=1, keepdims=True)
    more = 1.0 - np.cumsum(count, axis=1)[:, :-1]  # P(K > j), j = 0..K-1
    probability = np.clip(more, 0.0, 1.0)
    probability[:, k:] = 0.0
    rows = rows[:, None]
    z = np.zeros((n, max_components, 3))
    z[:, :k, 0] = dense[rows, 3, cell]
    z[:, :k, 1] = stride * (cell + expit(dense[rows, 1, cell])) - 0.5
    z[:, :k, 2] = dense[rows, 2, cell]
    return z, probability
