"""GaussianLineFitter with a count head that sees the residual of a first pass (issue 21).

Defined here only, as subclasses, so that nothing in ``skspectra`` changes unless it wins; it
did not (``benchmarks/README.md``, "Count rules"). ``python -m benchmarks.search.lines_count_rule
--residual-count`` trains and scores it.

The network is :class:`skspectra.nn.GaussianLineDetector` (the first pass) plus a second count
head. The first pass's lines (its heatmap's highest peaks, each ruling out its two neighbouring
cells as ``predict`` decodes them, the ``j``-th kept where its own count head gives
``P(K > j) >= 0.5``) are drawn on the grid, without gradient, and subtracted from the spectrum.
The spectrum and that residual, stacked as two channels, go through one multi-scale block at
full resolution, a max-pooling by 2 and one more block; their features, concatenated with the
first pass's feature pyramid, are pooled (mean and maximum over cells) into a small MLP that
classifies the number of lines. A blend that the first pass took for one line leaves a residual
shaped like the missed line. The loss is the dense head's loss with the second head's count,
plus the cross-entropy of the first pass's count head (so that the lines it draws stay
meaningful). ``predict`` reads the count from the second head.
"""

import torch
from torch import nn
from torch.nn import functional as F

from skspectra.lines import GaussianLineFitter
from skspectra.nn.lines import (
    _LOG_SIGMA_BOUNDS,
    DenseLineLoss,
    GaussianLineDetector,
    MultiScaleBlock1d,
    gaussian_sum_torch,
)

__all__ = ["ResidualCountFitter"]


def _count_head(n_in, hidden_size, max_components):
    return nn.Sequential(
        nn.Linear(n_in, hidden_size), nn.GELU(), nn.Linear(hidden_size, max_components + 1)
    )


class ResidualCountDetector(GaussianLineDetector):
    """:class:`GaussianLineDetector` with a second count head fed the first pass's residual.

    ``target_loc`` and ``target_scale`` are the fitter's standardisation of
    ``(a, mu, ln sigma)``, needed to draw the first pass's lines. ``forward``:
    ``(B, L)`` → ``(dense (B, 4, M), residual count logits (B, K + 1), first count logits)``.
    """

    def __init__(self, n_features, max_components, kernel_sizes, n_filters, n_blocks,
                 hidden_size, target_loc, target_scale):  # fmt: skip
        super().__init__(n_features, max_components, kernel_sizes, n_filters, n_blocks, hidden_size)
        width = n_filters * len(kernel_sizes)
        self.max_components = int(max_components)
        self.register_buffer("grid", torch.arange(int(n_features), dtype=torch.float32))
        self.register_buffer("target_loc", torch.as_tensor(target_loc, dtype=torch.float32))
        self.register_buffer("target_scale", torch.as_tensor(target_scale, dtype=torch.float32))
        self.residual_stem = MultiScaleBlock1d(2, n_filters, kernel_sizes)
        self.residual_block = MultiScaleBlock1d(width, n_filters, kernel_sizes)
        n_pooled = 2 * width * (len(self.blocks) + 1)
        self.residual_head = _count_head(n_pooled, hidden_size, self.max_components)
        self.head.register_forward_pre_hook(self._keep_pyramid)

    def _keep_pyramid(self, head, args):
        self._pyramid = args[0]

    def first_pass_lines(self, dense, count_logits):
        """The first pass's kept lines drawn on the grid, without gradient: ``(B, L)``."""
        with torch.no_grad():
            free = torch.sigmoid(dense[:, 0]).clone()
            n_cells = free.shape[-1]
            rows = torch.arange(free.shape[0], device=free.device)
            cells = []
            for _ in range(min(self.max_components, n_cells)):
                cell = free.argmax(dim=1)
                cells.append(cell)
                for step in (-1, 0, 1):
                    free[rows, (cell + step).clamp(0, n_cells - 1)] = -1.0
            cell = torch.stack(cells, dim=1)  # (B, k)
            at = dense.gather(2, cell.unsqueeze(1).expand(-1, 4, -1))  # (B, 4, k)
            mean = self.stride * (cell + torch.sigmoid(at[:, 1])) - 0.5
            log_sigma = at[:, 2] * self.target_scale[2] + self.target_loc[2]
            amplitude = at[:, 3] * self.target_scale[0] + self.target_loc[0]
            probability = torch.softmax(count_logits, dim=1)
            more = 1.0 - torch.cumsum(probability, dim=1)[:, : cell.shape[1]]
            kept = (more >= 0.5).to(dense.dtype)
            sigma = torch.exp(log_sigma.clamp(*_LOG_SIGMA_BOUNDS))
            return gaussian_sum_torch(amplitude * kept, mean, sigma, self.grid.to(dense.dtype))

    def forward(self, x):
        # The first pass is GaussianLineDetector.forward; its feature pyramid is the input of
        # its head, kept by the hook set in __init__ (and dropped here, so that the module
        # holds no tensor between calls and can be deep-copied for inference).
        dense, count = super().forward(x)
        features = self.__dict__.pop("_pyramid")
        # The second count head, on the spectrum and the first pass's residual.
        residual = x - self.first_pass_lines(dense, count)
        r = self.residual_stem(torch.stack([x, residual], dim=1))
        if r.shape[-1] > 1:
            r = F.max_pool1d(r, 2, ceil_mode=True)
        r = torch.cat([features, self.residual_block(r)], dim=1)
        pooled = torch.cat([r.mean(dim=-1), r.amax(dim=-1)], dim=1)
        return dense, self.residual_head(pooled), count


class ResidualCountLoss(DenseLineLoss):
    """:class:`DenseLineLoss` of the first two outputs, plus the first pass's count
    cross-entropy."""

    def forward(self, y_pred, y_true):
        dense, count_logits, first_count_logits = y_pred
        loss = super().forward((dense, count_logits), y_true)
        count = y_true[:, 4, 0].round().long()
        return loss + self.count_weight * F.cross_entropy(first_count_logits, count)


class ResidualCountFitter(GaussianLineFitter):
    """:class:`GaussianLineFitter` (``head='dense'``) with :class:`ResidualCountDetector`."""

    def _build_module(self, n_features):
        trunk = (self._kernel_sizes(), self.n_filters, self.n_blocks, self.hidden_size)
        return ResidualCountDetector(
            n_features, self.max_components, *trunk, self.target_loc_, self.target_scale_
        )

    def _build_criterion(self):
        return ResidualCountLoss(heat_weight=self.existence_weight)

    def _infer(self, fn, X):
        out = super()._infer(fn, X)
        return out[:2] if isinstance(out, tuple) and len(out) == 3 else out
