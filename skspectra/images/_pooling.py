"""Pooling an image's anomaly map into three detector statistics, and their combination.

An anomaly map ``z`` (the residual in σ, per pixel) is pooled by three matched detectors:

- *point*: the mean of the ``k`` largest ``z²`` (cosmic rays, hot pixels);
- *streak*: the largest line integral of ``z``, summed over bands and clipped at
  ``±STREAK_CLIP`` σ, per √(line length) — the maximum of its Radon transform, the
  standard detector of satellite trails (Nir, Zackay & Ofek 2018, AJ 156, 229);
- *extended*: the mean ``z²`` over the used pixels (blends, wrong shapes).

Each statistic becomes a tail probability among the training images' own
(:func:`log_min_tail`), and an image scores the log of its smallest one.
"""

import numpy as np
from skimage.transform import radon

#: σ at which the map is clipped before the line integrals, so that a few badly fitted
#: pixels (a galaxy's core) do not make a line.
STREAK_CLIP = 3.0
#: Shortest line (pixels) a line integral is normalised by, so that the corners of the
#: image, crossed by very short lines, do not act as point detectors.
MIN_LINE = 8.0
DETECTORS = ("point", "streak", "extended")


def _line_angles(shape):
    """Radon angles (degrees) spaced so that a line across the image moves by about one
    pixel at its ends from one angle to the next."""
    return np.linspace(0.0, 180.0, 2 * max(shape), endpoint=False)


def streak_statistic(z):
    """The largest clipped line integral per √length of ``z`` (n, C, H, W), summed over
    bands (divided by √C): shape (n,)."""
    n, c, h, w = z.shape
    band_sum = np.clip(z, -STREAK_CLIP, STREAK_CLIP).sum(axis=1) / np.sqrt(c)
    angles = _line_angles((h, w))
    length = radon(np.ones((h, w)), angles, circle=False)
    norm = 1.0 / np.sqrt(np.maximum(length, MIN_LINE))
    return np.array([np.max(radon(im, angles, circle=False) * norm) for im in band_sum])


def point_statistic(z, n_top_pixels):
    """The mean of the ``n_top_pixels`` largest ``z²`` of each map ``z`` (n, ...): shape (n,)."""
    z2 = z.reshape(len(z), -1) ** 2
    k = min(n_top_pixels, z2.shape[1])
    return np.mean(-np.partition(-z2, k - 1, axis=1)[:, :k], axis=1)


def extended_statistic(z, used):
    """The mean ``z²`` over the used pixels of each map ``z`` (n, ...), 0 where masked:
    shape (n,)."""
    n = len(z)
    z2 = z.reshape(n, -1) ** 2
    return np.sum(z2, axis=1) / np.count_nonzero(used.reshape(n, -1), axis=1)


def pooled_statistics(z, used, n_top_pixels):
    """The three detector statistics of anomaly maps ``z`` (n, C, H, W), 0 where masked,
    with ``used`` the unmasked pixels: shape (n, 3), columns as ``DETECTORS``."""
    return np.column_stack(
        [point_statistic(z, n_top_pixels), streak_statistic(z), extended_statistic(z, used)]
    )


def tail_spread(reference):
    """Robust standard deviation (1.4826 MAD) of each column of reference statistics
    (n_reference, n_detectors), floored above 0: the scale of the tail beyond them."""
    median = np.median(reference, axis=0)
    spread = 1.4826 * np.median(np.abs(reference - median), axis=0)
    positive = spread[spread > 0]
    floor = 1e-12 if positive.size == 0 else 1e-6 * np.min(positive)
    return np.maximum(spread, floor)


def log_min_tail(statistics, reference, spread):
    """``ln`` of each row's smallest upper-tail probability among reference statistics.

    Within the reference range, ``P(S ≥ s) = (1 + #{reference ≥ s}) / (n + 1)``; above
    the largest reference value it falls on as ``exp(-(s - max) / spread)``, so that
    images beyond every reference one are still ranked.

    Parameters
    ----------
    statistics : ndarray of shape (n_samples, n_detectors)
    reference : ndarray of shape (n_reference, n_detectors)
        Sorted along axis 0.
    spread : ndarray of shape (n_detectors,)
        From :func:`tail_spread`.

    Returns
    -------
    log_p : ndarray of shape (n_samples,)
    """
    n_ref = len(reference)
    log_p = np.empty(statistics.shape, dtype=np.float64)
    for j in range(statistics.shape[1]):
        ref, s = reference[:, j], statistics[:, j]
        above = n_ref - np.searchsorted(ref, s, side="left")
        log_p[:, j] = np.log((1.0 + above) / (n_ref + 1.0))
        beyond = s > ref[-1]
        log_p[beyond, j] = -np.log(n_ref + 1.0) - (s[beyond] - ref[-1]) / spread[j]
    return np.min(log_p, axis=1)
