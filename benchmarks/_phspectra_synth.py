"""PHSpectra's synthetic line benchmark, rebuilt: seven categories of GRS-like spectra.

The setting of PHSpectra's published synthetic benchmark (``phspectra`` on PyPI;
repository ``caverac/phspectra``):

- categories and their ranges: ``packages/docs/docs/results/beta.md`` (the "Test design"
  table) and ``packages/benchmarks/src/benchmarks/commands/train_synthetic.py`` (the
  generators that table describes);
- 424 channels, noise sigma 0.13 K, line means kept 10 channels from the edges:
  ``packages/benchmarks/src/benchmarks/_constants.py`` (``N_CHANNELS``, ``NOISE_SIGMA``,
  ``MEAN_MARGIN``);
- 350 spectra, 50 per category: ``beta.md`` ("350 spectra ... across 7 difficulty
  categories", ``--n-per-category 50``).

The spectra follow the same distribution, not the same draws: PHSpectra draws every category
from one generator in its own call order; here each call draws from ``random_state``.
"""

import numpy as np

__all__ = ["CATEGORIES", "MEAN_MARGIN", "N_CHANNELS", "NOISE_SIGMA", "make_phspectra_spectra"]

#: Channels per spectrum (the GRS's).
N_CHANNELS = 424
#: Standard deviation of the white noise, K (GRS-realistic).
NOISE_SIGMA = 0.13
#: Line means lie in ``[MEAN_MARGIN, N_CHANNELS - MEAN_MARGIN]``.
MEAN_MARGIN = 10
#: The seven categories, in PHSpectra's order.
CATEGORIES = (
    "single_bright",
    "single_faint",
    "single_narrow",
    "single_broad",
    "multi_separated",
    "multi_blended",
    "crowded",
)


def _mean(rng):
    return rng.uniform(MEAN_MARGIN, N_CHANNELS - MEAN_MARGIN)


def _single(rng, amplitude, sigma):
    return [(rng.uniform(*amplitude), _mean(rng), rng.uniform(*sigma))]


def _single_faint(rng):
    # A peak S/N of U(2, 6) times the noise, clipped to amplitudes of 0.3-0.8 K.
    amplitude = np.clip(rng.uniform(2.0, 6.0) * NOISE_SIGMA, 0.3, 0.8)
    return [(amplitude, _mean(rng), rng.uniform(3.0, 10.0))]


def _multi_separated(rng):
    lines = []
    for _ in range(rng.integers(2, 4)):
        amplitude, sigma = rng.uniform(0.5, 4.0), rng.uniform(2.0, 8.0)
        for _attempt in range(200):  # the first mean > 4 sigma from every line so far
            mean = _mean(rng)
            if all(abs(mean - m) > 4.0 * max(sigma, s) for _, m, s in lines):
                break
        lines.append((amplitude, mean, sigma))
    return lines


def _multi_blended(rng):
    lines = []
    for k in range(rng.integers(2, 4)):
        amplitude, sigma = rng.uniform(0.5, 4.0), rng.uniform(3.0, 8.0)
        if k == 0:
            mean = _mean(rng)
        else:  # 1.5-3 of the larger sigma from the previous line, either side
            _, ref_mean, ref_sigma = lines[-1]
            offset = rng.uniform(1.5, 3.0) * max(sigma, ref_sigma) * rng.choice([-1.0, 1.0])
            mean = np.clip(ref_mean + offset, MEAN_MARGIN, N_CHANNELS - MEAN_MARGIN)
        lines.append((amplitude, mean, sigma))
    return lines


def _crowded(rng):
    return [
        (rng.uniform(0.3, 3.0), _mean(rng), rng.uniform(2.0, 6.0))
        for _ in range(rng.integers(4, 6))
    ]


_DRAW = {
    # The published "SNR > 7" of single_bright always holds: 1.0 / 0.13 > 7.
    "single_bright": lambda rng: _single(rng, (1.0, 5.0), (3.0, 10.0)),
    "single_faint": _single_faint,
    "single_narrow": lambda rng: _single(rng, (1.0, 5.0), (1.0, 2.5)),
    "single_broad": lambda rng: _single(rng, (0.5, 3.0), (10.0, 20.0)),
    "multi_separated": _multi_separated,
    "multi_blended": _multi_blended,
    "crowded": _crowded,
}


def make_phspectra_spectra(
    n_per_category=50, *, categories=CATEGORIES, max_components=5, random_state=None
):
    """Spectra of PHSpectra's synthetic benchmark, with their true lines and categories.

    Parameters
    ----------
    n_per_category : int, default=50
        Spectra per category (50 × 7 = 350 as published).
    categories : sequence of str, default=CATEGORIES
        Which categories, in this order.
    max_components : int, default=5
        Line slots per row of ``y`` (the crowded category has up to 5 lines).
    random_state : int, numpy Generator or None, default=None
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    X : ndarray of shape (n_per_category * len(categories), 424)
        Spectra in K: a sum of Gaussians plus white noise of sd ``NOISE_SIGMA``, on a zero
        baseline; channel index ``0 ... 423``.
    y : ndarray of shape (n_samples, 3 * max_components)
        True lines ``[a_1, mu_1, sigma_1, ...]`` (K, channels, channels) in order of
        increasing mean, absent ones ``(0, 0, 0)`` at the end: the layout of
        :class:`skspectra.lines.GaussianLineFitter`.
    category : ndarray of str, shape (n_samples,)
        The category of each spectrum.

    Raises
    ------
    ValueError
        If a category is unknown, ``n_per_category`` < 1, or ``max_components`` < 5
        while the crowded category is asked for.
    """
    unknown = [c for c in categories if c not in _DRAW]
    if unknown:
        raise ValueError(f"unknown categories {unknown}; choose from {list(CATEGORIES)}.")
    if n_per_category < 1:
        raise ValueError(f"n_per_category must be at least 1, got {n_per_category}.")
    if "crowded" in categories and max_components < 5:
        raise ValueError(
            f"crowded spectra have up to 5 lines; max_components={max_components} is too "
            "small: pass max_components=5 or leave out 'crowded'."
        )
    rng = np.random.default_rng(random_state)
    x = np.arange(N_CHANNELS, dtype=float)
    n = n_per_category * len(categories)
    X = rng.normal(0.0, NOISE_SIGMA, (n, N_CHANNELS))
    y = np.zeros((n, 3 * max_components))
    category = np.repeat(np.asarray(categories, dtype=str), n_per_category)
    for i, name in enumerate(category):
        lines = np.array(sorted(_DRAW[name](rng), key=lambda line: line[1]), dtype=float)
        a, m, s = lines.T
        X[i] += (a[:, None] * np.exp(-0.5 * ((x - m[:, None]) / s[:, None]) ** 2)).sum(0)
        y[i, : lines.size] = lines.ravel()
    return X, y, category
