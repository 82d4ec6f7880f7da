"""Line fitting: least squares + BIC with a greedy stop (bench_lines, bench_lines_phspectra)."""

import numpy as np

from skspectra.lines._refine import _default_sigmas, _Problem, _robust_noise


# Least squares + BIC with a greedy stop, and the tree ensembles that predict PCA coefficients
# of a spectrum.
def lsq_bic_greedy(y, max_components=3, continuum="linear", noise=None):
    """Least squares + BIC, adding lines one at a time until the BIC rises.

    Fits 0 lines (the continuum alone), then adds the line that a matched filter of
    the residual finds best and refits every parameter by least squares, and so on;
    it stops at the first fit whose BIC is not lower than the previous one's (the
    greedy stop), or at ``max_components`` lines. It uses the same least-squares
    problem, noise estimate, BIC and matched filter as ``GaussianLineFitter(refine=
    True)``, so that the two are timed alike.

    Parameters
    ----------
    y : ndarray of shape (n_channels,)
        One spectrum, in flux units; channels at ``0, 1, ..., n_channels - 1``.
    max_components : int, default=3
        Most lines to fit.
    continuum : {'linear', 'constant'} or None, default='linear'
        Polynomial continuum fitted with the lines.
    noise : float or None, default=None
        The white-noise sigma of ``y``, estimated from a batch of spectra at once as
        ``GaussianLineFitter(refine=True)`` does (``_robust_noise``); None estimates it
        from ``y``.

    Returns
    -------
    components : ndarray of shape (k, 3)
        ``(amplitude, mean, sigma)`` of the kept lines by increasing mean; amplitude in
        flux units, mean and sigma in channels.
    n_fits : int
        Non-linear least-squares fits made (at most ``max_components``).
    """
    problem = _Problem(np.asarray(y, dtype=np.float64), None, None, continuum, noise=noise)
    sigmas = _default_sigmas(problem.x_full)
    fit = problem.fit(np.empty((0, 3)), np.empty(0))
    best = problem.bic(fit)
    n_fits = 0
    for _ in range(max_components):
        new, _ = problem.best_new_line(fit, sigmas)
        trial = problem.fit(np.vstack([fit.components, new]), fit.continuum)
        n_fits += 1
        criterion = problem.bic(trial)
        if criterion >= best:
            break
        fit, best = trial, criterion
    order = np.argsort(fit.components[:, 1], kind="stable")
    return fit.components[order], n_fits


def lsq_bic_greedy_batch(X, max_components=3, continuum="linear"):
    """:func:`lsq_bic_greedy` on each spectrum of a batch, the noise of the whole batch
    estimated at once (one vectorised call), as ``GaussianLineFitter(refine=True)`` does.

    Parameters
    ----------
    X : ndarray of shape (n_spectra, n_channels)
        Spectra in flux units.
    max_components, continuum
        As for :func:`lsq_bic_greedy`.

    Returns
    -------
    components : list of ndarray of shape (k_i, 3)
        Each spectrum's lines, by increasing mean.
    """
    noise = _robust_noise(X)
    return [
        lsq_bic_greedy(x, max_components, continuum, noise=s)[0]
        for x, s in zip(X, noise, strict=True)
    ]
