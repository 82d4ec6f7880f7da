"""Random flips and 90° rotations of training batches (the seed 004 augmentation).

:class:`RandomDihedral` is a ``collate_fn`` for skorch's *training* iterator
(``iterator_train__collate_fn``): validation batches and inference never pass
through it. It transforms each image and its target (image and weight map)
with the same random symmetry, so masks and inverse variances stay on their
pixels.
"""

import torch
from torch.utils.data import default_collate

__all__ = ["RandomDihedral", "dihedral"]


def dihedral(a, flip, k):
    """Flip (``flip=True``: left–right) then rotate by ``k`` × 90° the last two axes of ``a``."""
    if flip:
        a = torch.flip(a, dims=(-1,))
    if k:
        a = torch.rot90(a, int(k), dims=(-2, -1))
    return a


class RandomDihedral:
    """Collate a batch, then apply a random symmetry of the square to each sample.

    Parameters
    ----------
    rotate : bool, default=True
        Draw among the 8 symmetries of the square (flips and 90° rotations);
        this needs square images. ``False`` draws among the 4 that keep a
        rectangle's shape: identity, left–right flip, up–down flip and both.

    Notes
    -----
    Random numbers come from PyTorch's global generator, which the estimator
    forks and seeds from ``random_state`` during ``fit``, so training is
    reproducible. ``X`` is ``(B, C, H, W)`` and ``y`` is ``(B, 2, C, H, W)``;
    both are transformed on their last two axes, identically per sample.
    """

    def __init__(self, rotate=True):
        self.rotate = rotate

    def __call__(self, batch):
        X, y = default_collate(batch)
        n = X.shape[0]
        flips = torch.randint(0, 2, (n,))
        if self.rotate:
            turns = torch.randint(0, 4, (n,))
        else:  # a 180° turn, optionally after a left-right flip: the rectangle's symmetries
            turns = 2 * torch.randint(0, 2, (n,))
        X = torch.stack([dihedral(X[i], flips[i], turns[i]) for i in range(n)])
        y = torch.stack([dihedral(y[i], flips[i], turns[i]) for i in range(n)])
        return X, y
