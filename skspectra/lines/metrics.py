"""Scores of a Gaussian decomposition against the truth: component matching, F1, counts, R².

Components are matched as in Lindner et al. (2015, AJ 149, 138), the paper
that introduced GaussPy. Every function takes parameter tables in the layout
of :func:`skspectra.datasets.make_gaussian_spectra` and
:class:`~skspectra.lines.GaussianLineFitter`:
``[a_1, mu_1, sigma_1, a_2, mu_2, sigma_2, ...]`` per spectrum, with
amplitude 0 for an absent component.
"""

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import confusion_matrix, r2_score
from sklearn.utils import Bunch, check_array

from ._profiles import as_components

__all__ = [
    "component_count_accuracy",
    "component_f1_score",
    "component_scores",
    "match_components",
]

_MATCH_COLUMNS = [
    "spectrum",
    "true_component",
    "pred_component",
    "amplitude_true",
    "amplitude_pred",
    "mean_true",
    "mean_pred",
    "sigma_true",
    "sigma_pred",
]


def _check_pair(y_true, y_pred):
    """Validate two parameter tables of the same spectra; return them as (n, K, 3) arrays."""
    y_true = check_array(y_true, dtype=np.float64, input_name="y_true")
    y_pred = check_array(y_pred, dtype=np.float64, input_name="y_pred")
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"y_true and y_pred describe different numbers of spectra: "
            f"{y_true.shape[0]} and {y_pred.shape[0]}."
        )
    return as_components(y_true), as_components(y_pred)


def _admissible(true, pred, mean_tolerance, fwhm_ratio_range, max_amplitude_ratio):
    """Lindner et al. (2015) criteria for every (true, fitted) pair of every spectrum.

    Returns the boolean admissibility and the cost ``|Δμ| / σ_true``, both of
    shape ``(n_samples, K_true, K_pred)``.
    """
    a_t, mu_t, s_t = (true[:, :, None, i] for i in range(3))
    a_p, mu_p, s_p = (pred[:, None, :, i] for i in range(3))
    present = (a_t != 0) & (a_p != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cost = np.abs(mu_p - mu_t) / s_t
        width_ratio = s_p / s_t  # the FWHM ratio: FWHM is proportional to sigma
        amplitude_ratio = a_p / a_t
        ok = (
            present
            & (cost < mean_tolerance)
            & (width_ratio >= fwhm_ratio_range[0])
            & (width_ratio <= fwhm_ratio_range[1])
            & (amplitude_ratio > 0)
            & (amplitude_ratio < max_amplitude_ratio)
        )
    return ok, cost


def match_components(
    y_true, y_pred, *, mean_tolerance=1.0, fwhm_ratio_range=(0.3, 2.5), max_amplitude_ratio=10.0
):
    r"""Match fitted components to true ones, one to one, by the criteria of Lindner et al. (2015).

    A fitted component is *admissible* for a true one of the same spectrum if

    - its mean is within ``mean_tolerance`` true sigmas:
      :math:`|\mu_\mathrm{fit} - \mu_\mathrm{true}| < \sigma_\mathrm{true}`;
    - its FWHM is 0.3 to 2.5 times the true FWHM (bounds included);
    - its amplitude has the sign of the true one and is less than 10 times
      it: :math:`0 < a_\mathrm{fit} / a_\mathrm{true} < 10`.

    Among admissible pairs, the Hungarian algorithm
    (:func:`scipy.optimize.linear_sum_assignment`) picks, per spectrum, the
    largest one-to-one matching, and among those the one with the smallest
    total :math:`|\Delta\mu| / \sigma_\mathrm{true}`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, 3 * max_true_components)
        True parameters ``[a_1, mu_1, sigma_1, ...]``, amplitude 0 = absent.
    y_pred : array-like of shape (n_samples, 3 * max_pred_components)
        Fitted parameters in the same layout; the two widths may differ.
    mean_tolerance : float, default=1.0
        Largest allowed :math:`|\Delta\mu|`, in units of the true sigma (strict).
    fwhm_ratio_range : (float, float), default=(0.3, 2.5)
        Allowed range of FWHM_fit / FWHM_true (inclusive).
    max_amplitude_ratio : float, default=10.0
        Upper bound (strict) on a_fit / a_true.

    Returns
    -------
    matches : pandas.DataFrame
        One row per matched pair, with columns ``spectrum`` (row of the
        inputs), ``true_component`` and ``pred_component`` (component slots,
        0-based), then ``amplitude_true``, ``amplitude_pred``, ``mean_true``,
        ``mean_pred``, ``sigma_true`` and ``sigma_pred``.

    Raises
    ------
    ValueError
        If the inputs are not 2-D, hold NaN, have widths that are not
        multiples of 3, or have different numbers of rows.

    References
    ----------
    .. [1] Lindner, R. R. et al. 2015, AJ 149, 138, "Autonomous Gaussian
       Decomposition", section 4 (the accuracy of a decomposition).

    Examples
    --------
    >>> from skspectra.lines import match_components
    >>> y_true = [[1.0, 50.0, 5.0, 2.0, 80.0, 4.0]]
    >>> y_pred = [[1.9, 79.0, 4.5, 0.0, 0.0, 0.0]]
    >>> match_components(y_true, y_pred)[["true_component", "pred_component"]].to_numpy()
    array([[1, 0]])
    """
    true, pred = _check_pair(y_true, y_pred)
    ok, cost = _admissible(true, pred, mean_tolerance, fwhm_ratio_range, max_amplitude_ratio)
    # Forbidden pairs cost more than any set of admissible ones, so the assignment first
    # maximises the number of admissible pairs; those forbidden pairs it still uses are dropped.
    forbidden = 1.0 + mean_tolerance * min(true.shape[1], pred.shape[1])
    spectrum, t_all, p_all = [], [], []
    for i in np.flatnonzero(ok.any(axis=(1, 2))):
        t_idx, p_idx = linear_sum_assignment(np.where(ok[i], cost[i], forbidden))
        keep = ok[i, t_idx, p_idx]
        spectrum.extend([i] * int(keep.sum()))
        t_all.extend(t_idx[keep])
        p_all.extend(p_idx[keep])
    spectrum, t_all, p_all = (np.asarray(v, dtype=int) for v in (spectrum, t_all, p_all))
    matches = {"spectrum": spectrum, "true_component": t_all, "pred_component": p_all}
    for j, name in enumerate(("amplitude", "mean", "sigma")):
        matches[f"{name}_true"] = true[spectrum, t_all, j]
        matches[f"{name}_pred"] = pred[spectrum, p_all, j]
    return pd.DataFrame(matches, columns=_MATCH_COLUMNS)


def component_f1_score(y_true, y_pred, **criteria):
    r"""F1 score of the component detection.

    :math:`F_1 = 2 N_\mathrm{matched} / (N_\mathrm{true} + N_\mathrm{fit})`.

    Counts are summed over all spectra; matches follow
    :func:`match_components`. This is the accuracy measure of Lindner et
    al. (2015) and of PHSpectra. Use it with
    :func:`sklearn.metrics.make_scorer` to tune a
    :class:`~skspectra.lines.GaussianLineFitter`.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples, 3 * max_components)
        True and fitted parameter tables (amplitude 0 = absent).
    **criteria
        ``mean_tolerance``, ``fwhm_ratio_range``, ``max_amplitude_ratio``:
        see :func:`match_components`.

    Returns
    -------
    f1 : float
        In [0, 1]; 1.0 when neither table holds any component.
    """
    return float(component_scores(y_true, y_pred, **criteria).f1)


def component_count_accuracy(y_true, y_pred):
    """Fraction of spectra whose number of fitted components is exactly the true number.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples, 3 * max_components)
        True and fitted parameter tables; a component is present where its
        amplitude is non-zero.

    Returns
    -------
    accuracy : float
    """
    true, pred = _check_pair(y_true, y_pred)
    return float(np.mean(np.count_nonzero(true[:, :, 0], 1) == np.count_nonzero(pred[:, :, 0], 1)))


def _matched_r2(matches, name):
    if len(matches) < 2:
        return np.nan
    return float(r2_score(matches[f"{name}_true"], matches[f"{name}_pred"]))


def component_scores(y_true, y_pred, **criteria):
    """Every score of a decomposition at once: detection, counting and parameter accuracy.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, 3 * max_true_components)
        True parameters ``[a_1, mu_1, sigma_1, ...]``, amplitude 0 = absent.
    y_pred : array-like of shape (n_samples, 3 * max_pred_components)
        Fitted parameters in the same layout.
    **criteria
        ``mean_tolerance``, ``fwhm_ratio_range``, ``max_amplitude_ratio``:
        see :func:`match_components`.

    Returns
    -------
    scores : sklearn.utils.Bunch
        With keys

        - ``n_true``, ``n_pred``, ``n_matched`` : int, components summed
          over spectra;
        - ``precision`` (n_matched / n_pred), ``recall`` (n_matched /
          n_true) and ``f1`` (2 n_matched / (n_true + n_pred)) : float,
          1.0 where the denominator is 0;
        - ``count_accuracy`` : float, fraction of spectra with the exact
          true number of components;
        - ``count_confusion_matrix`` : ndarray of shape (n_labels, n_labels),
          from :func:`sklearn.metrics.confusion_matrix`: rows are true
          counts, columns fitted counts, both ``count_labels``;
        - ``count_labels`` : ndarray, the counts ``0, 1, ..., max``;
        - ``r2_amplitude``, ``r2_mean``, ``r2_sigma`` : float,
          :func:`sklearn.metrics.r2_score` of each parameter over the
          matched pairs (NaN with fewer than two);
        - ``matches`` : pandas.DataFrame, from :func:`match_components`.

    Raises
    ------
    ValueError
        As :func:`match_components`.

    See Also
    --------
    match_components : The matching rules.

    Examples
    --------
    >>> from skspectra.lines import component_scores
    >>> y_true = [[1.0, 50.0, 5.0, 2.0, 80.0, 4.0], [1.0, 20.0, 3.0, 0.0, 0.0, 0.0]]
    >>> y_pred = [[1.1, 51.0, 5.5, 0.0, 0.0, 0.0], [1.0, 20.5, 3.0, 0.0, 0.0, 0.0]]
    >>> s = component_scores(y_true, y_pred)
    >>> s.n_true, s.n_pred, s.n_matched, s.f1, s.count_accuracy
    (3, 2, 2, 0.8, 0.5)
    """
    true, pred = _check_pair(y_true, y_pred)
    matches = match_components(true.reshape(len(true), -1), pred.reshape(len(pred), -1), **criteria)
    count_true = np.count_nonzero(true[:, :, 0], axis=1)
    count_pred = np.count_nonzero(pred[:, :, 0], axis=1)
    n_true, n_pred, n_matched = int(count_true.sum()), int(count_pred.sum()), len(matches)
    labels = np.arange(max(true.shape[1], pred.shape[1]) + 1)
    return Bunch(
        n_true=n_true,
        n_pred=n_pred,
        n_matched=n_matched,
        precision=n_matched / n_pred if n_pred else 1.0,
        recall=n_matched / n_true if n_true else 1.0,
        f1=2 * n_matched / (n_true + n_pred) if n_true + n_pred else 1.0,
        count_accuracy=float(np.mean(count_true == count_pred)),
        count_confusion_matrix=confusion_matrix(count_true, count_pred, labels=labels),
        count_labels=labels,
        r2_amplitude=_matched_r2(matches, "amplitude"),
        r2_mean=_matched_r2(matches, "mean"),
        r2_sigma=_matched_r2(matches, "sigma"),
        matches=matches,
    )
