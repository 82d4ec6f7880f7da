"""The predictive band of ImageToSpectrum: local out-of-fold errors, calibrated at fit.

The functions take a fitted :class:`~skspectra.ImageToSpectrum` (its ``oof_latent_``,
``oof_residual_``, ``reconstruction_variance_`` and ``_decode``) and work in chunks, so that
memory stays bounded by ``chunk * n_draws`` decoded spectra.
"""

import warnings

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state

#: Nominal coverage of a ±1σ Gaussian interval, the target of the calibration.
ONE_SIGMA = 0.6826894921370859
#: At most this many training samples calibrate the band (drawn at random), so that
#: ``fit`` stays linear in the number of samples.
N_CALIBRATION = 2000


def masked_mean(values, fallback, axis=1):
    """Mean over ``axis`` leaving NaN (masked) out; ``fallback`` where all are NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: filled below
        mean = np.nanmean(values, axis=axis)
    return np.where(np.isnan(mean), fallback, mean)


def excess_variance(residual, weight):
    """Squared reconstruction residual less the noise variance ``1 / ivar`` where known.

    ``residual`` is NaN at masked pixels; with ``weight`` (ivar) given, pixels with
    ``weight == 0`` become NaN too, since their noise is unknown. Values may be negative:
    they are averaged over neighbours before being clipped at zero.
    """
    squared = residual**2
    if weight is None:
        return squared
    good = weight > 0
    return np.where(good, squared - 1.0 / np.where(good, weight, 1.0), np.nan)


def neighbours(model, Zs, exclude=None):
    """Indices of the ``n_neighbors`` training samples nearest to ``Zs`` in out-of-fold latents.

    ``exclude`` (one training index per row of ``Zs``) leaves a sample out of its own
    neighbourhood, for the calibration on training samples.
    """
    n_train = len(model.oof_latent_)
    extra = 0 if exclude is None else 1
    k = min(model.n_neighbors, n_train - extra)
    _, idx = NearestNeighbors(n_neighbors=k + extra).fit(model.oof_latent_).kneighbors(Zs)
    if exclude is None:
        return idx
    keep = idx != np.asarray(exclude)[:, None]
    keep[keep.all(axis=1), -1] = False  # self not among them (exact ties): drop the farthest
    return idx[keep].reshape(len(idx), k)


def band_variance(model, Zs, idx, chunk=256):
    """Unscaled per-pixel variance of the band around the decoded ``Zs``.

    The spread of ``n_draws`` decoded latents drawn with the neighbours' out-of-fold residual
    covariance, plus the neighbours' mean reconstruction variance (clipped at zero).
    """
    rng = check_random_state(model.random_state)
    eps = rng.standard_normal((model.n_draws, model.n_components_))
    fallback = max(float(masked_mean(model.reconstruction_variance_[None], 0.0)[0].mean()), 0.0)
    var = np.empty((len(Zs), model.n_outputs_))
    k = idx.shape[1]
    for start in range(0, len(Zs), chunk):
        rows = idx[start : start + chunk]  # (m, k)
        R = model.oof_residual_[rows]  # (m, k, n_components)
        cov = np.einsum("mki,mkj->mij", R, R) / k
        # eigh rather than cholesky: a local covariance may be singular
        values, vectors = np.linalg.eigh(cov)
        root = vectors * np.sqrt(np.clip(values, 0, None))[:, None, :]
        draws = Zs[start : start + chunk, None, :] + np.einsum("dj,mij->mdi", eps, root)
        decoded = model._decode(draws.reshape(-1, model.n_components_))
        latent_var = decoded.reshape(len(rows), model.n_draws, -1).var(axis=1)
        recon_var = masked_mean(model.reconstruction_variance_[rows], fallback)
        var[start : start + chunk] = latent_var + np.clip(recon_var, 0, None)
    return var


def calibration_scale(model, Y, weight, seed):
    """Scale of the band that puts 68.3 % of out-of-fold training pixels within 1σ.

    Each calibration sample is predicted by the fold model that did not see it
    (``oof_latent_``) and gets the band of its neighbours, itself left out. With ``weight``
    (ivar) the noise ``1 / ivar`` is added in quadrature and masked pixels are left out, so
    the returned ``s`` solves ``P(|ŷ − y| ≤ sqrt(s² var + 1 / ivar)) = 0.683``; that is the
    0.683 quantile of ``(ŷ − y)² − 1 / ivar`` over ``var``. 0 when the noise alone already
    covers that many pixels.
    """
    n_train = len(model.oof_latent_)
    rows = np.random.default_rng(seed).permutation(n_train)[: min(n_train, N_CALIBRATION)]
    rows.sort()
    Zs = model.oof_latent_[rows]
    var = band_variance(model, Zs, neighbours(model, Zs, exclude=rows))
    err2 = (model._decode(Zs) - Y[rows]) ** 2
    if weight is None:
        noise, good = 0.0, np.isfinite(err2)
    else:
        good = weight[rows] > 0
        noise = 1.0 / np.where(good, weight[rows], 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(var > 0, (err2 - noise) / var, np.where(err2 > noise, np.inf, -np.inf))
    if not np.any(good):
        return 1.0
    quantile = float(np.quantile(ratio[good], ONE_SIGMA, method="inverted_cdf"))
    if not np.isfinite(quantile):  # a band of zero width where errors are not: unscaled
        return 1.0
    return float(np.sqrt(max(quantile, 0.0)))
