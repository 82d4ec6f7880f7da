"""Weighted least-squares polishing of a Gaussian decomposition, with parameter uncertainties,
and the choice of its number of lines by the Bayesian information criterion."""

import warnings
from functools import cached_property

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.optimize import least_squares
from sklearn.utils import Bunch

from ..spectra._outlier import robust_sigma

__all__ = ["refine_components", "select_components"]

# Narrowest line the refinement may fit, in channels: below it a "line" is one pixel.
_MIN_SIGMA = 0.3
_CONTINUUM_TERMS = {None: 0, "none": 0, "constant": 1, "linear": 2}
_AMPLITUDE_SIGNS = ("positive", "negative", "any")


def _model_and_jacobian(theta, x):
    """Sum of Gaussians at ``x`` and its Jacobian with respect to ``theta = [a1, mu1, s1, ...]``."""
    a, mu, s = theta[0::3, None], theta[1::3, None], theta[2::3, None]
    u = (x - mu) / s
    g = np.exp(-0.5 * u**2)  # (k, n)
    jac = np.empty((x.size, theta.size))
    jac[:, 0::3] = g.T
    jac[:, 1::3] = (a * g * u / s).T
    jac[:, 2::3] = (a * g * u**2 / s).T
    return (a * g).sum(axis=0), jac


def _check_amplitude_sign(amplitude_sign):
    if amplitude_sign not in _AMPLITUDE_SIGNS:
        raise ValueError(
            f"amplitude_sign must be 'positive' (emission lines), 'negative' (absorption "
            f"lines) or 'any', got {amplitude_sign!r}."
        )
    return amplitude_sign


def _signed_start(components, amplitude_sign):
    """A first guess whose amplitudes have the sign ``amplitude_sign`` asks for (|a| flipped)."""
    components = np.array(components, dtype=np.float64).reshape(-1, 3)
    if amplitude_sign == "positive":
        components[:, 0] = np.abs(components[:, 0])
    elif amplitude_sign == "negative":
        components[:, 0] = -np.abs(components[:, 0])
    return components


def _bounds(theta0, x, amplitude_sign="any"):
    """Bounds of ``least_squares``: amplitudes of the sign ``amplitude_sign`` (``'any'``:
    each keeps the sign of its first guess), means within half a channel span of the grid."""
    k = theta0.size // 3
    span = x[-1] - x[0] if x.size > 1 else 1.0
    lo = np.tile([0.0, x[0] - 0.5 * span, _MIN_SIGMA], k)
    hi = np.tile([np.inf, x[-1] + 0.5 * span, max(2.0 * span, 2 * _MIN_SIGMA)], k)
    if amplitude_sign == "positive":
        negative = np.zeros(k, dtype=bool)
    elif amplitude_sign == "negative":
        negative = np.ones(k, dtype=bool)
    else:
        negative = theta0[0::3] < 0
    lo[0::3] = np.where(negative, -np.inf, 0.0)
    hi[0::3] = np.where(negative, 0.0, np.inf)
    return lo, hi


def _start_inside(theta0, lo, hi):
    """Move a start point strictly inside the bounds, as ``least_squares`` requires."""
    width = np.where(np.isfinite(hi - lo), hi - lo, 1.0)
    margin = 1e-6 * np.maximum(width, 1.0)
    return np.clip(theta0, lo + margin, hi - margin)


def _robust_noise(y):
    """White-noise sigma of ``y`` from its first differences (MAD), barely biased by lines.

    ``y`` of shape ``(..., n_channels)`` gives one sigma per spectrum, shape ``(...)``: a
    batch costs one vectorised call instead of one per spectrum.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.shape[-1] > 2:
        noise = robust_sigma(np.diff(y, axis=-1), axis=-1, about_zero=True) / np.sqrt(2)
    else:
        noise = np.zeros(y.shape[:-1])
    floor = 1e-12 * np.maximum(np.max(np.abs(y), axis=-1, initial=0.0), 1e-300)
    return np.maximum(noise, floor)


def _prior_scale(components, prior_width):
    """Standard deviations of the prior on ``[a1, mu1, s1, ...]`` (see ``refine_components``)."""
    width = np.asarray(prior_width, dtype=np.float64)
    if width.shape != (3,) or not np.all(np.isfinite(width)) or np.any(width <= 0):
        raise ValueError(
            f"prior_width must be three positive numbers (amplitude, mean, sigma), "
            f"got {prior_width!r}."
        )
    a, s = np.abs(components[:, 0]), np.abs(components[:, 2])
    tiny = np.finfo(np.float64).tiny
    scale = np.column_stack([width[0] * a, width[1] * s, width[2] * s])
    return np.maximum(scale, tiny).ravel()


def _continuum_terms(continuum):
    if continuum not in _CONTINUUM_TERMS:
        raise ValueError(
            f"continuum must be 'linear', 'constant' or None, got {continuum!r}; it names the "
            "polynomial fitted under the lines."
        )
    return _CONTINUUM_TERMS[continuum]


class _Problem:
    """One spectrum's weighted least-squares problem: Gaussians plus a polynomial continuum.

    ``sw`` is the square root of the weights. Without ``ivar`` every channel weighs
    ``1 / noise**2``, with ``noise`` as given by the caller (for instance estimated for a
    whole batch at once) or else estimated from the spectrum itself (``_robust_noise``), so
    that χ² and the matched-filter gains are in units of the noise variance.
    """

    def __init__(self, y, ivar, x, continuum, amplitude_sign="any", noise=None):
        self.amplitude_sign = _check_amplitude_sign(amplitude_sign)
        if noise is not None:  # computed by the caller, for a whole batch at once
            if not (np.isfinite(noise) and noise > 0):
                raise ValueError(
                    f"noise must be a positive, finite sigma in flux units, got {noise!r}; "
                    "pass None to estimate it from the spectrum."
                )
            self.noise = float(noise)
        self.x_full = np.arange(y.size, dtype=np.float64) if x is None else np.asarray(x, float)
        weight = np.ones_like(y) if ivar is None else np.asarray(ivar, dtype=np.float64)
        self.used = used = weight > 0
        self.x, self.y = self.x_full[used], y[used]
        self.known_noise = ivar is not None
        self.sw = np.sqrt(weight[used])
        self.n_terms = _continuum_terms(continuum)
        mid = 0.5 * (self.x_full[0] + self.x_full[-1])
        half = max(0.5 * (self.x_full[-1] - self.x_full[0]), 1e-300)
        self.basis = np.vander((self.x - mid) / half, self.n_terms, increasing=True)
        self.n = self.x.size

    @cached_property
    def noise(self):
        """The white-noise sigma of the spectrum itself (``_robust_noise``), computed once."""
        return _robust_noise(self.y)

    def noise_weighted(self):
        """``sw`` in units of the noise (χ² units), for priors and matched filtering."""
        return self.sw if self.known_noise else self.sw / self.noise

    def linear_continuum(self, components):
        """Weighted linear least-squares continuum under fixed lines."""
        if not self.n_terms:
            return np.empty(0)
        rest = self.y - _model_and_jacobian(components.ravel(), self.x)[0]
        coef, *_ = np.linalg.lstsq(self.basis * self.sw[:, None], rest * self.sw, rcond=None)
        return coef

    def fit(self, components, coef0, prior=None, prior_centre=None):
        """Least squares from ``components`` (k, 3) and continuum ``coef0``; a result Bunch."""
        components = _signed_start(components, self.amplitude_sign)
        k = components.shape[0]
        sw = self.noise_weighted() if prior is not None else self.sw
        if k == 0:
            coef = self.linear_continuum(components)
            resid = sw * (self.basis @ coef - self.y) if self.n_terms else -sw * self.y
            return self._result(components, coef, resid, None)
        lo, hi = _bounds(components.ravel(), self.x_full, self.amplitude_sign)
        lo = np.concatenate([lo, np.full(self.n_terms, -np.inf)])
        hi = np.concatenate([hi, np.full(self.n_terms, np.inf)])
        theta0 = _start_inside(np.concatenate([components.ravel(), coef0]), lo, hi)
        basis, x, y, n3 = self.basis, self.x, self.y, 3 * k
        if prior is not None:
            inv_prior = 1.0 / prior
            centre = prior_centre.ravel()
            prior_jac = np.zeros((n3, theta0.size))
            prior_jac[:, :n3] = np.diag(inv_prior)

        # least_squares asks for the Jacobian at the point whose residual it has just
        # computed, so the lines' model and Jacobian are computed once per point.
        last = {}

        def lines(theta):
            if "theta" not in last or not np.array_equal(theta, last["theta"]):
                last["theta"] = theta.copy()
                last["value"] = _model_and_jacobian(theta[:n3], x)
            return last["value"]

        def residual(theta):
            r = sw * (lines(theta)[0] + basis @ theta[n3:] - y)
            if prior is None:
                return r
            return np.concatenate([r, (theta[:n3] - centre) * inv_prior])

        def jacobian(theta):
            jac = sw[:, None] * np.hstack([lines(theta)[1], basis])
            return jac if prior is None else np.vstack([jac, prior_jac])

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = least_squares(residual, theta0, jac=jacobian, bounds=(lo, hi), x_scale="jac")
        theta = fit.x
        resid = fit.fun[: self.n]
        return self._result(theta[:n3].reshape(k, 3), theta[n3:], resid, fit.jac)

    @staticmethod
    def _result(components, coef, resid, jac):
        n_par = components.size + coef.size
        return Bunch(
            components=components, continuum=coef, rss=float(resid @ resid), n_par=n_par, jac=jac
        )

    def bic(self, result):
        """BIC of a fit: χ² + p ln n with a known noise, n ln(RSS / n) + p ln n without."""
        penalty = result.n_par * np.log(self.n)
        if self.known_noise:
            return result.rss + penalty
        rss = self.rss_data(result)
        return self.n * np.log(max(rss / self.n, 1e-300)) + penalty

    def rss_data(self, result):
        """Unweighted-by-prior residual sum of squares, in the units of ``self.sw``
        (computed once per fit, kept in ``result``)."""
        if "rss_data" not in result:
            model = _model_and_jacobian(result.components.ravel(), self.x)[0]
            if self.n_terms:
                model = model + self.basis @ result.continuum
            r = self.sw * (model - self.y)
            result.rss_data = float(r @ r)
        return result.rss_data

    @staticmethod
    def covariance(result):
        """``(Jᵀ J)⁻¹`` at the fit, in the units of its residual vector; None where singular
        or not finite. Computed once per fit, kept in ``result``."""
        if "covariance" not in result:
            try:
                cov = np.linalg.inv(result.jac.T @ result.jac)
            except np.linalg.LinAlgError:
                cov = None
            result.covariance = cov if cov is not None and np.all(np.isfinite(cov)) else None
        return result.covariance

    def errors(self, result, prior=None):
        """One-sigma errors of the lines from ``(Jᵀ J)⁻¹`` (scaled by the reduced χ² when
        the noise is unknown and there is no prior); NaN where undefined."""
        k = result.components.shape[0]
        errors = np.full(3 * k, np.nan)
        dof = self.n - result.n_par
        if k == 0 or result.jac is None or dof <= 0:
            return errors.reshape(k, 3)
        cov = self.covariance(result)
        if cov is None:
            return errors.reshape(k, 3)
        if not self.known_noise and prior is None:
            cov = cov * (self.rss_data(result) / dof)
        diag = np.diag(cov)[: 3 * k]
        errors = np.where(diag >= 0, np.sqrt(np.abs(diag)), np.nan)
        return errors.reshape(k, 3)

    def best_new_line(self, result, sigmas):
        """The Gaussian that most reduces χ² when added to ``result`` with the rest held:
        a matched filter of the residual over positions and ``sigmas``. Returns
        ``(components (1, 3), gain in χ² units)``."""
        sw = self.noise_weighted()
        w = np.zeros_like(self.x_full)
        r = np.zeros_like(self.x_full)
        used = self.used
        model = _model_and_jacobian(result.components.ravel(), self.x)[0]
        if self.n_terms:
            model = model + self.basis @ result.continuum
        w[used] = sw**2
        r[used] = self.y - model
        best, best_gain = None, -np.inf
        for s in sigmas:
            # Σ w r g and Σ w g² for a unit Gaussian of sigma s at every channel
            # (gaussian_filter1d's kernel sums to 1; g² is a Gaussian of sigma s / √2).
            num = gaussian_filter1d(w * r, s, mode="constant") * (s * np.sqrt(2 * np.pi))
            den = gaussian_filter1d(w, s / np.sqrt(2), mode="constant") * (s * np.sqrt(np.pi))
            allowed = den > 0
            if self.amplitude_sign != "any":  # the new line's amplitude is num / den
                allowed &= num > 0 if self.amplitude_sign == "positive" else num < 0
            with np.errstate(divide="ignore", invalid="ignore"):
                gain = np.where(allowed, num**2 / den, 0.0)
            j = int(np.argmax(gain))
            if gain[j] > best_gain and allowed[j]:
                best_gain = float(gain[j])
                best = np.array([[num[j] / den[j], self.x_full[j], s]])
        return best, best_gain


# Excess χ² over its degrees of freedom, in its standard deviations, above which the fit of
# the first guess is not trusted to have every line (see ``select_components``).
_EXCESS_CHI2_SIGMAS = 3.0


def _default_sigmas(x):
    """Trial widths of a new line: 1 channel to an eighth of the window, in √2 steps."""
    step = float(np.median(np.diff(x))) if x.size > 1 else 1.0
    top = max((x[-1] - x[0]) / 8.0, 2 * step) if x.size > 1 else 1.0
    return step * np.sqrt(2.0) ** np.arange(0, int(np.log2(top / step) * 2) + 1)


def refine_components(
    y,
    components,
    ivar=None,
    x=None,
    prior_width=None,
    continuum=None,
    amplitude_sign="any",
    noise=None,
):
    r"""Fit a sum of Gaussians to one spectrum by weighted least squares, from a first guess.

    Parameters
    ----------
    y : ndarray of shape (n_channels,)
        The spectrum, in flux units.
    components : ndarray of shape (n_components, 3)
        First guess ``(amplitude, mean, sigma)`` per component, means and
        sigmas in the units of ``x``.
    ivar : ndarray of shape (n_channels,) or None
        Inverse variance of ``y`` (0 = masked). ``None`` weights every
        channel alike and takes the noise variance from the residual:
        ``sum(r**2) / (n_channels - n_parameters)``.
    x : ndarray of shape (n_channels,) or None
        Channel positions; ``None`` means ``0, 1, ..., n_channels - 1``.
    prior_width : (float, float, float) or None, default=None
        If given, a Gaussian prior centred on the first guess regularises the
        fit (a maximum a posteriori estimate): its standard deviations are
        ``prior_width[0] * |a0|`` for the amplitude, ``prior_width[1] * s0``
        for the mean and ``prior_width[2] * s0`` for the sigma of a line
        guessed as ``(a0, mu0, s0)``. ``None`` fits by plain least squares.
    continuum : {'linear', 'constant'} or None, default=None
        A polynomial continuum fitted at the same time as the lines (its
        coefficients are not returned). None fits the lines alone, on a
        zero baseline.
    amplitude_sign : {'positive', 'negative', 'any'}, default='any'
        Sign of the fitted amplitudes: ``'positive'`` for emission lines,
        ``'negative'`` for absorption lines (the ``negamp`` option of
        pyspeckit's Gaussian fitter); a first guess of the other sign starts
        at its absolute value. ``'any'`` imposes no sign: each line keeps the
        sign of its first guess (it cannot cross zero, where its mean and
        sigma would be undefined).
    noise : float or None, default=None
        With ``prior_width`` and without ``ivar``, the white-noise sigma of
        ``y`` in flux units, for instance estimated for a whole batch at once
        as :class:`~skspectra.lines.GaussianLineFitter` does (the same robust
        estimate, see Notes). None estimates it from ``y``. Unused otherwise.

    Returns
    -------
    params : ndarray of shape (n_components, 3)
        Fitted ``(amplitude, mean, sigma)``.
    errors : ndarray of shape (n_components, 3)
        One-sigma uncertainties from the covariance ``(Jᵀ W J)⁻¹``, scaled by
        the reduced χ² when ``ivar`` is None (with ``prior_width``: of the
        posterior, see Notes). NaN where they are undefined
        (as many free parameters as used channels, or a singular problem).

    Raises
    ------
    ValueError
        If ``prior_width`` is not three positive numbers, ``continuum`` or
        ``amplitude_sign`` is not one of the options, or ``noise`` is not a
        positive number.

    See Also
    --------
    select_components : The same fit, choosing the number of lines.

    Notes
    -----
    Uses :func:`scipy.optimize.least_squares` (trust-region reflective,
    analytic Jacobian), whose bounds hold the amplitudes to their sign (see
    ``amplitude_sign``), sigmas above 0.3 channels, and means within half
    the window's span of its edges.

    **Prior.** Blended lines are nearly degenerate: flux can move between
    them at almost no cost in χ², and plain least squares then lands, now
    and then, far from the truth (one line swallowing its neighbour). With
    ``prior_width``, the residual vector gains one term
    :math:`(\theta_j - \theta_{0,j}) / \tau_j` per parameter, so that the
    minimum is that of :math:`\chi^2 + \sum_j ((\theta_j - \theta_{0,j}) /
    \tau_j)^2`: the data decide where they can, the first guess where they
    cannot. The χ² needs the noise in absolute terms: without ``ivar`` it is
    estimated from the spectrum, :math:`1.4826\,\mathrm{MAD}(\Delta y) /
    \sqrt 2` (robust to the lines), and the errors are those of the
    posterior, :math:`(J^T W J + \mathrm{diag}(\tau^{-2}))^{-1}`.
    """
    components = _signed_start(components, _check_amplitude_sign(amplitude_sign))
    k = components.shape[0]
    n_terms = _continuum_terms(continuum)
    prior = None if prior_width is None else _prior_scale(components, prior_width)
    if k == 0:
        return np.empty((0, 3)), np.empty((0, 3))
    y = np.asarray(y, dtype=np.float64)
    problem = _Problem(y, ivar, x, continuum, amplitude_sign, noise)
    coef0 = problem.linear_continuum(components) if n_terms else np.empty(0)
    result = problem.fit(components, coef0, prior, components)
    return result.components, problem.errors(result, prior)


def _more_than(probability):
    """``P(K > k)``, k = 0..K-1, from the existence probabilities of ordered slots: slot
    ``k`` exists when there are more than ``k`` lines, so ``P(K > k) = p_k``, clipped to
    [0, 1] and made non-increasing."""
    return np.minimum.accumulate(np.clip(np.asarray(probability, dtype=np.float64), 0.0, 1.0))


def _count_log_prior(more_than):
    """ln P(K = k), k = 0..K, from ``P(K > k)``, k = 0..K-1 (``_more_than``):
    ``P(K = k) = P(K > k - 1) - P(K > k)``.
    """
    more = np.concatenate([[1.0], more_than, [0.0]])
    p = np.clip(more[:-1] - more[1:], 1e-4, 1.0)
    return np.log(p)


def _at_least(criterion):
    """``P(K >= k)`` as a function of ``k``, from the criterion of each number of lines tried
    (``exp(-criterion / 2)`` normalised: the BIC approximation of their posterior)."""
    counts = np.array(sorted(criterion))
    values = np.array([criterion[k] for k in counts])
    posterior = np.exp(-0.5 * (values - values.min()))
    posterior /= posterior.sum()
    return lambda k: 1.0 if k <= counts[0] else float(posterior[counts >= k].sum())


def _line_probability(components, errors, at_least):
    """Probability of each line of a fit: ``P(K > j)`` for the line ranked ``j`` by Wald
    statistic ``(a / σ_a)²`` (undefined errors rank last)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        wald = np.where(np.isfinite(errors[:, 0]), (components[:, 0] / errors[:, 0]) ** 2, 0.0)
    rank = np.empty(len(wald), dtype=int)
    rank[np.argsort(-wald, kind="stable")] = np.arange(len(wald))
    return np.array([at_least(j + 1) for j in rank], dtype=np.float64)


def select_components(
    y,
    components,
    ivar=None,
    x=None,
    *,
    max_components=3,
    continuum="linear",
    count_probability=None,
    prior_width=None,
    search="local",
    fast=True,
    threshold=None,
    amplitude_sign="any",
    search_probability=None,
    noise=None,
):
    r"""Fit Gaussian lines to one spectrum, choosing their number by BIC.

    Starting from a first guess of ``K`` lines, fits ``K`` lines by
    least squares (:func:`refine_components`), then ``K - 1`` (the
    weakest line dropped) and ``K + 1`` (a line added where a matched
    filter of the residual gains most), and keeps moving in the direction
    that lowers the criterion. With an empty first guess and
    ``search='forward'`` it is the classic greedy decomposition: fit 0, 1,
    ..., ``max_components`` lines, each start the previous fit plus the
    best new line, and keep the best.

    Parameters
    ----------
    y : ndarray of shape (n_channels,)
        The spectrum, in flux units.
    components : ndarray of shape (K, 3)
        First guess ``(amplitude, mean, sigma)`` per line (``K`` may be 0).
    ivar : ndarray of shape (n_channels,) or None
        Inverse variance (0 = masked); None estimates the noise from the
        residual (see Notes).
    x : ndarray of shape (n_channels,) or None
        Channel positions; None means ``0, 1, ..., n_channels - 1``.
    max_components : int, default=3
        Most lines to consider.
    continuum : {'linear', 'constant'} or None, default='linear'
        Polynomial continuum fitted with the lines.
    count_probability : ndarray of shape (max_components,) or None
        Optional prior on the number of lines: ``count_probability[k]`` is
        the probability that there are more than ``k`` lines (the existence
        probabilities of :class:`~skspectra.lines.GaussianLineFitter`'s
        ordered slots). The criterion becomes ``BIC - 2 ln P(K)``.
    prior_width : (float, float, float) or None, default=None
        Prior on the first-guess lines, as for :func:`refine_components`.
        Used only for the fit of ``K`` lines; the other fits are plain.
    search : {'local', 'forward'}, default='local'
        ``'local'``: from ``K``, move to ``K ± 1`` while the criterion
        falls. ``'forward'``: fit every number from ``K`` to
        ``max_components`` and keep the best.
    fast : bool, default=True
        With ``search='local'``, skip fits whose outcome is clear (see
        Notes).
    threshold : float in (0, 1) or None, default=None
        None keeps the number of lines of lowest criterion (the most
        probable number). A float keeps the most lines ``k`` such that the
        probability of at least ``k`` lines is at least ``threshold``, so
        that every line kept has a ``probability`` of at least
        ``threshold`` (see Notes).
    amplitude_sign : {'positive', 'negative', 'any'}, default='any'
        Sign of the amplitudes, as for :func:`refine_components`; with a
        sign, a line added by the search has that sign too.
    search_probability : float in [0, 1) or None, default=None
        With ``count_probability`` and ``search='local'``, one line more
        than ``k`` is not tried where ``count_probability[k]``, the
        probability of more than ``k`` lines, is below this: the first
        guess is trusted not to have missed a line (see Notes). None always
        tries.
    noise : float or None, default=None
        Without ``ivar``, the white-noise sigma of ``y`` in flux units, for
        instance estimated for a whole batch at once, as
        :class:`~skspectra.lines.GaussianLineFitter` does (the same robust
        estimate, see Notes). None estimates it from ``y``. Unused with
        ``ivar``.

    Returns
    -------
    result : sklearn.utils.Bunch
        ``components`` (n, 3) and ``errors`` (n, 3) of the chosen fit, by
        increasing mean; ``probability`` (n,), the probability that each of
        these lines exists (see Notes); ``continuum``, its polynomial coefficients in
        ``t = (x - centre) / half-width``; ``n_components``; ``criterion``,
        a dict from each tried number of lines to its criterion value;
        ``n_fits``, the number of non-linear fits made.

    Raises
    ------
    ValueError
        If ``search``, ``continuum`` or ``amplitude_sign`` is not one of the
        options, ``threshold`` is not in (0, 1), or ``noise`` is not a positive
        number.

    Notes
    -----
    The Bayesian information criterion is
    :math:`\mathrm{BIC} = \chi^2 + p \ln n` with a known noise (``ivar``),
    and :math:`n \ln(\mathrm{RSS}/n) + p \ln n` without, for ``p`` free
    parameters (3 per line plus the continuum's) and ``n`` used channels.

    The local search is a hill-climb on the number of lines: both neighbours
    of the best fit so far are fitted, from it, and the search moves to the
    best until no neighbour is left to try; a number of lines reached along
    two paths keeps the better fit.

    With ``fast=True``, fits whose outcome is clear are skipped. Let
    :math:`B` be the change of χ² at which ``K ± 1`` lines score as well as
    ``K``: :math:`B = \Delta p \ln n` for one line more (:math:`\Delta p =
    3`), :math:`-\Delta p \ln n` for one fewer, each plus
    :math:`2 \ln (P(K) / P(K \pm 1))` with ``count_probability``. ``K - 1``
    is not fitted when every line has a Wald statistic
    :math:`(a / \sigma_a)^2` (the rise of χ² its removal causes) above
    :math:`2 |B|`; ``K + 1`` is not fitted when the best new line of the
    matched filter lowers χ² by less than :math:`B / 2`.

    **Line probabilities.** ``exp(-criterion / 2)``, normalised over the
    numbers of lines tried, is the BIC approximation of the posterior
    probability of each number of lines [1]_, with ``count_probability`` as
    its prior (a flat prior without). The line ranked ``j`` (from 0) by its
    Wald statistic :math:`(a / \sigma_a)^2` in the chosen fit gets the
    posterior probability of more than ``j`` lines: the fit of one line
    fewer is the fit without the weakest line. A number of lines the search
    did not try (with ``fast=True``, because its outcome was clear) counts
    as improbable, so a line may get a probability of 1.

    **Trusting the first guess.** Trying ``k + 1`` lines costs a matched
    filter of the residual over every position and trial width, and most
    often adds nothing when the first guess comes from a good detector.
    With ``search_probability``, it is skipped where the detector gives
    more than ``k`` lines a probability below that value *and* the fit of
    ``k`` lines explains the data: its χ² exceeds its degrees of freedom
    ``ν`` by less than :math:`3 \sqrt{2 \nu}` (the noise from ``ivar``, or
    else the robust spread of the first differences). A line that a
    wrongly confident detector missed leaves an excess χ², and is still
    searched for when it is strong.

    References
    ----------
    .. [1] Schwarz, G. 1978, Ann. Stat. 6, 461, "Estimating the dimension of a model".
    """
    if search not in ("local", "forward"):
        raise ValueError(f"search must be 'local' or 'forward', got {search!r}.")
    if threshold is not None and not 0 < threshold < 1:
        raise ValueError(f"threshold must be a probability in (0, 1) or None, got {threshold!r}.")
    if search_probability is not None and not 0 <= search_probability < 1:
        raise ValueError(
            f"search_probability must be a probability in [0, 1) or None, got "
            f"{search_probability!r}."
        )
    y = np.asarray(y, dtype=np.float64)
    components = _signed_start(components, _check_amplitude_sign(amplitude_sign))
    problem = _Problem(y, ivar, x, continuum, amplitude_sign, noise)
    sigmas = _default_sigmas(problem.x_full)
    more_than = None if count_probability is None else _more_than(count_probability)
    log_prior = None if count_probability is None else _count_log_prior(more_than)
    line_cost = 3 * np.log(problem.n)
    fits, crit, n_fits = {}, {}, 0

    def score(k, result):
        """Record a fit of ``k`` lines, keeping the better one when ``k`` was fitted before."""
        value = problem.bic(result)
        if log_prior is not None:
            value -= 2.0 * log_prior[min(k, len(log_prior) - 1)]
        if k not in crit or value < crit[k]:
            fits[k], crit[k] = result, value
            expanded.discard((k, -1))
            expanded.discard((k, +1))

    def fit_from(start, coef0, prior=None, centre=None):
        nonlocal n_fits
        n_fits += start.shape[0] > 0
        result = problem.fit(start, coef0, prior, centre)
        result.prior = prior
        return result

    def prior_odds(k_more, k_fewer):
        """2 ln(P(k_fewer) / P(k_more)): the χ² a line must gain to beat the prior."""
        if log_prior is None:
            return 0.0
        last = len(log_prior) - 1
        return 2.0 * (log_prior[min(k_fewer, last)] - log_prior[min(k_more, last)])

    def trust_first_guess(k):
        """True where the detector gives more than ``k`` lines a probability below
        ``search_probability`` and the fit of ``k`` lines leaves no excess χ²."""
        if search_probability is None or more_than is None:
            return False
        if k < len(more_than) and more_than[k] >= search_probability:
            return False
        dof = problem.n - fits[k].n_par
        if dof <= 0:
            return False
        chi2 = problem.rss_data(fits[k])
        if not problem.known_noise:
            chi2 /= problem.noise**2
        return chi2 - dof < _EXCESS_CHI2_SIGMAS * np.sqrt(2.0 * dof)

    def grow(k):
        new, gain = problem.best_new_line(fits[k], sigmas)
        if new is None:  # no line of the allowed sign fits the residual
            return None, True
        # One line more pays if it lowers χ² by more than this.
        break_even = line_cost + prior_odds(k + 1, k)
        return np.vstack([fits[k].components, new]), gain < 0.5 * break_even

    def shrink(k):
        comps = fits[k].components
        err = problem.errors(fits[k])
        with np.errstate(divide="ignore", invalid="ignore"):
            wald = np.where(np.isfinite(err[:, 0]), (comps[:, 0] / err[:, 0]) ** 2, 0.0)
        j = int(np.argmin(wald))
        # Dropping the line raises χ² by about its Wald statistic; it pays below this.
        break_even = line_cost + prior_odds(k, k - 1)
        return np.delete(comps, j, axis=0), wald[j] > 2 * max(break_even, 0.0)

    expanded = set()
    k0 = min(components.shape[0], max_components)
    start = components[np.argsort(-np.abs(components[:, 0]), kind="stable")[:k0]]
    prior = None if prior_width is None or k0 == 0 else _prior_scale(start, prior_width)
    score(k0, fit_from(start, problem.linear_continuum(start), prior, start))

    if search == "forward":
        for k in range(k0, max_components):
            comps, _ = grow(k)
            if comps is None:
                break
            score(k + 1, fit_from(comps, fits[k].continuum))
    else:
        # Hill-climb on the number of lines: fit both neighbours of the best so far (each
        # from the best's fit, less its weakest line or plus the best new one), move to the
        # best, and stop when the best has no untried neighbour.
        best = k0
        while True:
            for direction in (-1, +1):
                k = best + direction
                if not 0 <= k <= max_components or (best, direction) in expanded:
                    continue
                if direction > 0 and trust_first_guess(best):
                    continue
                expanded.add((best, direction))
                comps, clear = shrink(best) if direction < 0 else grow(best)
                if comps is not None and not (fast and clear):
                    score(k, fit_from(comps, fits[best].continuum))
            new_best = min(crit, key=crit.get)
            if new_best == best:
                break
            best = new_best
    at_least = _at_least(crit)
    if threshold is None:
        best = min(crit, key=crit.get)
    else:
        best = max(k for k in crit if at_least(k) >= threshold)
    chosen = fits[best]
    errors = problem.errors(chosen, chosen.prior)
    probability = _line_probability(chosen.components, errors, at_least)
    order = np.argsort(chosen.components[:, 1], kind="stable")
    return Bunch(
        components=chosen.components[order],
        errors=errors[order],
        probability=probability[order],
        continuum=chosen.continuum,
        n_components=int(best),
        criterion=crit,
        n_fits=n_fits,
    )
