"""Gaussian lines of a window of a real spectrum: cut, subtract the continuum, fit, map to Å."""

import copy

import numpy as np
import pandas as pd
from astropy.constants import c as _speed_of_light
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.validation import check_is_fitted

from ..datasets import make_gaussian_spectra
from ..preprocessing import bin_edges, resample_spectra
from ._profiles import GAUSSIAN_SIGMA_TO_FWHM, gaussian_profile
from ._refine import _model_and_jacobian, refine_components

__all__ = [
    "LINE_WINDOWS",
    "SPEED_OF_LIGHT_KMS",
    "compare_lines",
    "fit_line_window",
    "make_window_spectra",
    "spzline_lines",
]

#: Rest-frame vacuum windows (Å) around line complexes of galaxy spectra, with >= 10 Å of
#: line-free continuum at each end for ``continuum="edges"`` (lines up to ~300 km/s wide).
LINE_WINDOWS = {
    "Hbeta": (4835.0, 4890.0),
    "[O III]": (4935.0, 5035.0),
    "Halpha+[N II]": (6520.0, 6620.0),
    "[S II]": (6690.0, 6760.0),
}

#: Speed of light in km/s, to turn a width in Å into a velocity dispersion.
SPEED_OF_LIGHT_KMS = _speed_of_light.to_value("km/s")

_SQRT_2PI = np.sqrt(2 * np.pi)

_COLUMNS = [
    "component",
    "center",
    "center_err",
    "sigma",
    "sigma_err",
    "fwhm",
    "fwhm_err",
    "sigma_kms",
    "sigma_kms_err",
    "amplitude",
    "amplitude_err",
    "area",
    "area_err",
    "probability",
]


def _as_1d(name, values, size=None):
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one spectrum), got shape {values.shape}.")
    if size is not None and values.size != size:
        raise ValueError(f"{name} has {values.size} pixels, wavelength has {size}.")
    return values


def _observed_window(window, z):
    """The window in observed Å: ``window * (1 + z)`` when ``z`` is given, else as is."""
    lo, hi = (float(v) for v in window)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"window must be a (low, high) pair of Å with low < high, got {window!r}.")
    if z is None:
        return lo, hi
    z = float(z)
    if not np.isfinite(z) or z <= -1:
        raise ValueError(f"z must be finite and > -1, got {z!r}.")
    return lo * (1 + z), hi * (1 + z)


def _edge_continuum(wave, flux, weight, lo, hi, width, degree):
    """Weighted polynomial through the pixels within ``width`` Å of either window edge.

    Only pixels with weight > 0 take part. The polynomial is fitted with
    :meth:`numpy.polynomial.Polynomial.fit` (which maps the wavelengths to [-1, 1]) and
    weights ``sqrt(ivar)``, and is evaluated on every pixel of the window.
    """
    edge = ((wave < lo + width) | (wave > hi - width)) & (weight > 0)
    # Each side must hold data, or the polynomial extrapolates across the lines.
    if not (np.any(edge & (wave < lo + width)) and np.any(edge & (wave > hi - width))):
        raise ValueError(
            f"No usable pixel within edge_width={width:.3g} Å of one of the window's edges "
            f"({lo:.2f}, {hi:.2f}) Å observed; widen the window or edge_width, or pass "
            "continuum as an array."
        )
    if np.count_nonzero(edge) <= degree:
        raise ValueError(
            f"{np.count_nonzero(edge)} usable edge pixels cannot fix a polynomial of degree "
            f"{degree}; lower continuum_degree or widen edge_width."
        )
    poly = np.polynomial.Polynomial.fit(wave[edge], flux[edge], degree, w=np.sqrt(weight[edge]))
    return poly(wave)


def _covariance(params, x, weight, residual_variance):
    """Covariance of ``(a, mu, sigma)`` per line from the Gauss-Newton matrix ``(Jᵀ W J)⁻¹``.

    ``residual_variance`` scales it when the weights are relative (no ivar). Returns NaN
    where the matrix is singular.
    """
    jac = _model_and_jacobian(params.ravel(), x)[1]
    fisher = jac.T @ (weight[:, None] * jac)
    try:
        cov = np.linalg.inv(fisher) * residual_variance
    except np.linalg.LinAlgError:
        return np.full((params.size, params.size), np.nan)
    return cov if np.all(np.isfinite(cov)) else np.full_like(cov, np.nan)


def _line_table(params, errors_cov, probability):
    """The output table from fitted ``(a, mu, sigma)`` in Å and their covariance."""
    k = params.shape[0]
    a, mu, s = params[:, 0], params[:, 1], params[:, 2]
    var = np.diag(errors_cov).reshape(k, 3)
    err = np.sqrt(np.where(var >= 0, var, np.nan))
    # area = sqrt(2 pi) a sigma; its variance keeps the a-sigma covariance, which is
    # negative (a wider line needs a lower peak for the same flux).
    cov_as = np.array([errors_cov[3 * i, 3 * i + 2] for i in range(k)]) if k else np.empty(0)
    area_var = 2 * np.pi * (s**2 * var[:, 0] + a**2 * var[:, 2] + 2 * a * s * cov_as)
    table = pd.DataFrame(
        {
            "component": np.arange(k),
            "center": mu,
            "center_err": err[:, 1],
            "sigma": s,
            "sigma_err": err[:, 2],
            "fwhm": GAUSSIAN_SIGMA_TO_FWHM * s,
            "fwhm_err": GAUSSIAN_SIGMA_TO_FWHM * err[:, 2],
            "sigma_kms": SPEED_OF_LIGHT_KMS * s / mu,
            "sigma_kms_err": SPEED_OF_LIGHT_KMS * err[:, 2] / mu,
            "amplitude": a,
            "amplitude_err": err[:, 0],
            "area": _SQRT_2PI * a * s,
            "area_err": np.sqrt(np.where(area_var >= 0, area_var, np.nan)),
            "probability": probability,
        },
        columns=_COLUMNS,
    )
    return table


def fit_line_window(
    wavelength,
    flux,
    ivar=None,
    *,
    estimator,
    window=(6520.0, 6620.0),
    z=None,
    continuum="edges",
    continuum_degree=1,
    edge_width=10.0,
    mask=None,
    refine=True,
    min_snr=3.0,
    max_passes=3,
):
    r"""Find and measure the Gaussian lines in one wavelength window of a real spectrum.

    The window is cut out of the spectrum, its continuum is subtracted, and
    the result is resampled onto the channels of a fitted
    :class:`~skspectra.lines.GaussianLineFitter`, whose network counts the
    lines and gives first guesses. These are mapped back to Å and, with
    ``refine=True``, polished by inverse-variance weighted least squares
    (:func:`~skspectra.lines.refine_components`) on the original pixels of the
    window, which gives the uncertainties; lines below ``min_snr`` are
    dropped, and the network is asked again about the residual, for lines
    that a bright neighbour hid (see Notes).

    Parameters
    ----------
    wavelength : array-like of shape (n_wavelengths,)
        Pixel centres in Å (observed frame; vacuum for SDSS), strictly increasing.
    flux : array-like of shape (n_wavelengths,)
        Flux density, for example SDSS's 1e-17 erg s⁻¹ cm⁻² Å⁻¹.
    ivar : array-like of shape (n_wavelengths,), default=None
        Inverse variance of ``flux`` (0 = bad pixel). ``None`` weights every
        pixel alike and takes the noise from the fit's residual.
    estimator : GaussianLineFitter
        A fitted line fitter (trained on line parameters). Its number of
        channels sets the resampling grid; its own ``refine`` setting is
        ignored (the refinement here uses the native pixels instead).
    window : (float, float), default=(6520.0, 6620.0)
        The window in Å: rest frame when ``z`` is given, observed otherwise.
        The default holds Hα and [N II] λλ6548, 6584 (vacuum 6549.9, 6564.6,
        6585.3 Å) with 10 Å of continuum on either side; ``LINE_WINDOWS``
        has others.
    z : float, default=None
        Redshift, to place a rest-frame ``window``. Results stay in the
        observed frame.
    continuum : {'edges'}, array-like of shape (n_wavelengths,) or None, default='edges'
        'edges': a polynomial of degree ``continuum_degree`` fitted (weighted
        by ``ivar``) to the pixels within ``edge_width`` of either window
        edge. An array: a continuum model on the input pixels (for example a
        stellar population fit, which also removes the stellar absorption
        under Balmer lines; finite where ``flux`` is good), subtracted as is.
        ``None``: ``flux`` is already continuum-subtracted.
    continuum_degree : int, default=1
        Degree of the 'edges' polynomial.
    edge_width : float, default=10.0
        Width in Å (in the frame of ``window``) of the two continuum bands of
        'edges', inside the window.
    mask : array-like of bool of shape (n_wavelengths,), default=None
        True marks bad pixels, besides ``ivar == 0`` and non-finite flux.
    refine : bool, default=True
        Polish the network's lines by least squares on the window's native
        pixels and report errors. False keeps the network's first answer as
        it is (errors NaN, no pruning, one pass).
    min_snr : float, default=3.0
        With ``refine``, the smallest amplitude signal-to-noise ratio
        ``amplitude / amplitude_err`` of a kept line.
    max_passes : int, default=3
        With ``refine``, how many times the network is asked: once on the
        window, then on the residual of the fit so far, as long as that adds
        significant lines.

    Returns
    -------
    result : sklearn.utils.Bunch
        With fields

        lines : pandas.DataFrame
            One row per detected line, by increasing centre: ``component``;
            ``center``, ``sigma``, ``fwhm`` in observed Å; ``sigma_kms``, the
            width as a velocity dispersion, :math:`c\,\sigma/\lambda`;
            ``amplitude`` (peak, flux units of ``flux``); ``area``, the line
            flux :math:`\sqrt{2\pi}\,a\,\sigma` (flux units × Å, e.g.
            1e-17 erg s⁻¹ cm⁻²); ``probability`` (from the network's existence
            head); and a one-sigma ``*_err`` for each measured quantity.
            With ``z``, also ``center_rest`` = ``center / (1 + z)``.
        wavelength, flux, ivar, continuum, model : ndarray of shape (n_window,)
            The native pixels the fit used: wavelength (Å), continuum-subtracted
            flux, inverse variance (0 on bad pixels; None without ``ivar``), the
            subtracted continuum and the fitted sum of Gaussians.
        grid_wavelength, grid_flux, grid_ivar : ndarray of shape (n_channels,)
            What the network saw: the window resampled (flux-conserving) onto
            ``estimator.n_features_in_`` equal channels.
        window : (float, float)
            The window in observed Å.
        chi2, dof : float, int
            :math:`\sum \mathrm{ivar}\,(f - \mathrm{model})^2` over the good
            native pixels, and their number minus the fitted parameters
            (NaN without ``ivar``).

    Raises
    ------
    ValueError
        If the arrays are not 1-D of one length, ``ivar`` is negative, the
        window is not inside the spectrum or holds fewer than 4 good pixels,
        ``continuum`` is an unknown string or an array of the wrong length,
        or an 'edges' band holds no usable pixel.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.

    See Also
    --------
    GaussianLineFitter : The network that finds the lines.
    make_window_spectra : Training spectra for that network.
    spzline_lines : The SDSS pipeline's own line fits, in the same units.
    skspectra.io.read_sdss_spectrum : Reads SDSS spectra with their pipeline's line fits.
    skspectra.preprocessing.resample_spectra : The resampling onto the network's channels.

    Notes
    -----
    **Channels.** The window :math:`[\lambda_0, \lambda_1]` (observed) is cut
    into ``n`` equal channels of width :math:`\Delta = (\lambda_1 - \lambda_0)/n`,
    so a network mean :math:`\mu_c` and sigma :math:`\sigma_c` (channels) map to
    :math:`\lambda_0 + (\mu_c + 1/2)\Delta` and :math:`\sigma_c \Delta`.

    **Passes.** A network trained on spectra whose brightest line is at
    most ~10 times the faintest can miss a faint line next to a bright one
    (Hα and [N II] 6548). After the first fit, the network reads the
    resampled residual; its lines more than one sigma from every fitted
    line are added, all lines are refitted together, and the weakest line
    is dropped, one at a time, until every line has amplitude S/N >=
    ``min_snr``. Passes stop when no line is added.

    **Profile.** The model of each line is a Gaussian evaluated at the pixel
    centres, :math:`a \exp(-(\lambda - \mu)^2 / 2\sigma^2)`, as in the SDSS
    pipeline's fits (``linebackfit``); it is the observed profile, so
    ``sigma`` includes the instrumental dispersion.

    **Errors.** From the covariance :math:`(J^T W J)^{-1}` at the optimum,
    with :math:`W` = ``ivar``; without ``ivar`` it is scaled by the residual
    variance. The area error keeps the (negative) amplitude-sigma covariance.
    The continuum's own uncertainty is not propagated: a continuum error
    :math:`\delta c` shifts an area by about :math:`2.5\,\sigma\,\delta c`.

    Examples
    --------
    >>> import importlib.util, pathlib
    >>> from skspectra.io import read_sdss_spectrum
    >>> from skspectra.lines import GaussianLineFitter
    >>> from skspectra.lines.real import fit_line_window, make_window_spectra
    >>> ppxf_dir = pathlib.Path(importlib.util.find_spec("ppxf").origin).parent
    >>> spec = read_sdss_spectrum(ppxf_dir / "spectra" / "NGC3073_SDSS_DR18.fits")
    >>> X, y, _ = make_window_spectra(5000, 64, return_params=True, random_state=0)
    >>> fitter = GaussianLineFitter(
    ...     n_filters=4, hidden_size=64, max_epochs=8, batch_size=128, random_state=0
    ... ).fit(X, y)
    >>> result = fit_line_window(  # Hα and [N II], on the pipeline's (star) continuum
    ...     spec.wavelength, spec.flux, spec.ivar, mask=spec.mask, estimator=fitter,
    ...     window=(6520, 6620), z=spec.meta["z"], continuum=spec.model)
    >>> result.lines[["center", "sigma_kms", "area", "area_err"]].round(1)  # doctest: +SKIP
       center  sigma_kms   area  area_err
    0  6575.1       69.0   58.3       8.4
    1  6590.0       69.3  660.1      12.0
    2  6610.8       71.9  230.6       9.8
    """
    wavelength = _as_1d("wavelength", wavelength)
    n = wavelength.size
    flux = _as_1d("flux", flux, n)
    weight = None if ivar is None else _as_1d("ivar", ivar, n)
    if weight is not None and np.any(weight < 0):
        raise ValueError("ivar has negative values; inverse variances must be >= 0.")
    check_is_fitted(estimator)
    lo, hi = _observed_window(window, z)
    scale = 1.0 if z is None else 1.0 + float(z)
    cut = _cut_window(wavelength, flux, weight, mask, lo, hi)

    if isinstance(continuum, str):
        if continuum != "edges":
            raise ValueError(f"continuum must be 'edges', an array or None, got {continuum!r}.")
        if not 0 < edge_width * scale < (hi - lo) / 2:
            raise ValueError(
                f"edge_width must be > 0 and less than half the window, got {edge_width!r}."
            )
        cont = _edge_continuum(
            cut.wave, cut.flux, cut.weight, lo, hi, edge_width * scale, int(continuum_degree)
        )
    elif continuum is None:
        cont = np.zeros_like(cut.flux)
    else:
        cont = _as_1d("continuum", continuum, n)[cut.sel]
    line_flux = np.where(cut.good, cut.flux - cont, 0.0)

    network = copy.copy(estimator).set_params(refine=False)
    n_channels = int(estimator.n_features_in_)
    grid = lo + (np.arange(n_channels) + 0.5) * (hi - lo) / n_channels
    used = cut.weight > 0
    fit = _Fit(cut.wave[used], line_flux[used], cut.weight[used], ivar is not None)

    params, probability = np.empty((0, 3)), np.empty(0)
    grid_flux = grid_ivar = None
    for step in range(max(int(max_passes), 1) if refine else 1):
        residual = line_flux - _model(params, cut.wave)
        g_flux, g_ivar = resample_spectra(
            cut.wave,
            residual,
            None if ivar is None else cut.weight,
            new_wavelength=grid,
            mask=~cut.good,
        )
        if step == 0:
            grid_flux, grid_ivar = g_flux, g_ivar
        guess, prob = _network_lines(network, g_flux, lo, hi)
        if step and len(params):  # a residual line on top of a fitted one is not a new line
            near = np.abs(guess[:, 1, None] - params[None, :, 1]) < params[None, :, 2]
            keep = ~near.any(axis=1)
            guess, prob = guess[keep], prob[keep]
        if len(guess) == 0:
            break
        trial = np.concatenate([params, guess])
        trial_prob = np.concatenate([probability, prob])
        if not refine:
            params, probability = trial, trial_prob
            break
        trial, trial_prob = fit.significant(trial, trial_prob, min_snr)
        if len(trial) <= len(params):
            break
        params, probability = trial, trial_prob

    order = np.argsort(params[:, 1], kind="stable")
    params, probability = params[order], probability[order]
    model = _model(params, cut.wave)
    dof = int(used.sum() - params.size)
    chi2 = fit.chi2(params) if ivar is not None else np.nan
    cov = fit.covariance(params) if refine else np.full((params.size, params.size), np.nan)
    lines = _line_table(params, cov, probability)
    if z is not None:
        lines["center_rest"] = lines["center"] / scale
    return Bunch(
        lines=lines,
        wavelength=cut.wave,
        flux=line_flux,
        ivar=None if ivar is None else cut.weight,
        continuum=cont,
        model=model,
        grid_wavelength=grid,
        grid_flux=grid_flux,
        grid_ivar=grid_ivar,
        window=(lo, hi),
        chi2=chi2,
        dof=dof,
    )


def _cut_window(wavelength, flux, weight, mask, lo, hi):
    """The pixels that overlap ``[lo, hi]``, with their weights (0 on bad pixels)."""
    edges = bin_edges(wavelength)
    if lo < edges[0] or hi > edges[-1]:
        raise ValueError(
            f"The window ({lo:.2f}, {hi:.2f}) Å observed is not inside the spectrum "
            f"({edges[0]:.2f}, {edges[-1]:.2f}) Å."
        )
    # Every pixel that overlaps the window, so that the channel grid is fully covered.
    sel = (edges[1:] > lo) & (edges[:-1] < hi)
    flux_w = flux[sel]
    good = np.isfinite(flux_w)
    if mask is not None:
        good &= ~np.asarray(mask, dtype=bool).reshape(wavelength.shape)[sel]
    w = np.ones_like(flux_w) if weight is None else weight[sel]
    good &= np.isfinite(w) & (w > 0)
    if np.count_nonzero(good) < 4:
        raise ValueError(f"The window ({lo:.2f}, {hi:.2f}) Å holds fewer than 4 good pixels.")
    return Bunch(
        sel=sel,
        wave=wavelength[sel],
        flux=np.where(good, flux_w, 0.0),
        weight=np.where(good, w, 0.0),
        good=good,
    )


def _network_lines(network, grid_flux, lo, hi):
    """The network's lines in a resampled window, in Å: ``(k, 3)`` guesses and probabilities."""
    step = (hi - lo) / grid_flux.size
    found = network.predict_components(grid_flux[None, :])
    guess = np.column_stack(
        [
            found["amplitude"].to_numpy(),
            lo + (found["mean"].to_numpy() + 0.5) * step,
            found["sigma"].to_numpy() * step,
        ]
    )
    return guess, found["probability"].to_numpy()


class _Fit:
    """Weighted least squares of Gaussians to the good pixels of a window."""

    def __init__(self, x, y, weight, has_ivar):
        self.x, self.y, self.weight, self.has_ivar = x, y, weight, has_ivar

    def refine(self, params):
        if len(params) == 0:
            return params
        weight = self.weight if self.has_ivar else None
        return refine_components(self.y, params, weight, x=self.x)[0]

    def chi2(self, params):
        return float(np.sum(self.weight * (self.y - _model(params, self.x)) ** 2))

    def covariance(self, params):
        dof = self.x.size - params.size
        if len(params) == 0 or dof <= 0:
            return np.full((params.size, params.size), np.nan)
        scale = 1.0 if self.has_ivar else self.chi2(params) / dof
        return _covariance(params, self.x, self.weight, scale)

    def significant(self, params, probability, min_snr):
        """Refine, then drop the least significant line until all have amplitude S/N >= min_snr."""
        while len(params):
            params = self.refine(params)
            # A line refined to zero amplitude has no defined centre or width, and would
            # make the covariance of all the others singular: drop it first.
            dead = params[:, 0] <= 1e-9 * np.max(np.abs(params[:, 0]))
            if dead.any() and not dead.all():
                params, probability = params[~dead], probability[~dead]
                continue
            err = np.sqrt(np.abs(np.diag(self.covariance(params))[0::3]))
            snr = np.where(np.isfinite(err) & (err > 0), params[:, 0] / err, 0.0)
            worst = int(np.argmin(snr))
            if snr[worst] >= min_snr:
                break
            params = np.delete(params, worst, axis=0)
            probability = np.delete(probability, worst)
        return params, probability


def _model(params, x):
    """Sum of the Gaussians ``params`` (k, 3) at ``x``."""
    if len(params) == 0:
        return np.zeros_like(x)
    return gaussian_profile(x, params[:, 0, None], params[:, 1, None], params[:, 2, None]).sum(0)


def spzline_lines(spzline, *, min_snr=None):
    r"""The SDSS pipeline's Gaussian line fits (SPZLINE) in the units of :func:`fit_line_window`.

    Parameters
    ----------
    spzline : astropy.table.Table
        The SPZLINE table of an SDSS spec file, as :func:`skspectra.io.read_sdss_spectrum`
        returns it (``LINENAME``, ``LINEWAVE``, ``LINEZ``, ``LINEZ_ERR``, ``LINESIGMA``,
        ``LINESIGMA_ERR``, ``LINEAREA``, ``LINEAREA_ERR``).
    min_snr : float, default=None
        Keep only lines with ``LINEAREA / LINEAREA_ERR > min_snr`` (and a positive error).
        None keeps every line the pipeline fitted (``LINEAREA_ERR > 0``).

    Returns
    -------
    lines : pandas.DataFrame
        One row per line: ``name``, ``rest`` (vacuum Å), ``center`` and ``center_err``
        (observed Å), ``sigma`` and ``sigma_err`` (Å), ``sigma_kms`` and ``sigma_kms_err``,
        ``area`` and ``area_err`` (flux units × Å, 1e-17 erg s⁻¹ cm⁻²) and ``snr``.

    Notes
    -----
    The pipeline (idlspec2d ``speclinefit`` → ``linebackfit``) fits Gaussians in
    :math:`\log_{10}\lambda` on top of a scaled continuum model, with no correction for the
    instrumental resolution: ``LINESIGMA`` is the observed width, :math:`\sigma_\lambda =
    \lambda\,\sigma_v / c` here. It ties the redshifts and the widths of all Balmer lines,
    and of all forbidden lines, and some flux ratios (for example [O III] 4959/5007), so
    tied lines share errors and S/N.

    References
    ----------
    .. [1] idlspec2d, ``pro/spec1d/linebackfit.pro`` and ``speclinefit.pro`` (D. Schlegel).
    """
    t = spzline
    rest = np.asarray(t["LINEWAVE"], dtype=np.float64)
    z = np.asarray(t["LINEZ"], dtype=np.float64)
    center = rest * (1 + z)
    sigma_kms = np.asarray(t["LINESIGMA"], dtype=np.float64)
    sigma_kms_err = np.asarray(t["LINESIGMA_ERR"], dtype=np.float64)
    area = np.asarray(t["LINEAREA"], dtype=np.float64)
    area_err = np.asarray(t["LINEAREA_ERR"], dtype=np.float64)
    fitted = area_err > 0
    snr = np.where(fitted, area / np.where(fitted, area_err, 1.0), 0.0)
    lines = pd.DataFrame(
        {
            "name": [str(v).strip() for v in t["LINENAME"]],
            "rest": rest,
            "center": center,
            "center_err": rest * np.asarray(t["LINEZ_ERR"], dtype=np.float64),
            "sigma": center * sigma_kms / SPEED_OF_LIGHT_KMS,
            "sigma_err": center * sigma_kms_err / SPEED_OF_LIGHT_KMS,
            "sigma_kms": sigma_kms,
            "sigma_kms_err": sigma_kms_err,
            "area": area,
            "area_err": area_err,
            "snr": snr,
        }
    )
    keep = fitted if min_snr is None else fitted & (snr > min_snr)
    return lines[keep].reset_index(drop=True)


def make_window_spectra(
    n_samples=1000,
    n_channels=64,
    *,
    n_components=(0, 3),
    amplitude_range=(0.3, 4.0),
    sigma_range=(0.6, 4.0),
    noise_range=(0.01, 0.1),
    baseline_scale=2.0,
    trough_depth=6.0,
    return_params=False,
    random_state=None,
):
    r"""Synthetic line windows: Gaussian lines on an imperfectly subtracted continuum.

    Training spectra for the :class:`~skspectra.lines.GaussianLineFitter` that
    :func:`fit_line_window` uses: :func:`~skspectra.datasets.make_gaussian_spectra`
    lines, plus the residue a continuum subtraction leaves in a real window, so that
    the network learns to ignore it: a random offset and slope, and in half the
    spectra a broad shallow dip (the wings of a stellar absorption line). The defaults
    suit windows of ~100 Å of SDSS spectra (~1.5 Å per channel): narrow lines, a
    contrast of up to ~13 between lines, peak S/N 3 to 400.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of spectra.
    n_channels : int, default=64
        Channels per spectrum.
    n_components, amplitude_range, sigma_range, noise_range
        As for :func:`~skspectra.datasets.make_gaussian_spectra` (channels, flux units).
    baseline_scale : float, default=2.0
        Standard deviation of the offset and of the end-to-end half-slope of the
        baseline, in units of each spectrum's noise.
    trough_depth : float, default=6.0
        Largest depth of the dip, in units of the noise (drawn uniformly from 0 to it);
        its sigma is drawn from ``n_channels / 16`` to ``n_channels / 4`` channels.
    return_params : bool, default=False
        Also return the line parameters and the noise levels.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.

    Returns
    -------
    X : ndarray of shape (n_samples, n_channels)
        The spectra.
    params : ndarray of shape (n_samples, 3 * max_components)
        Only with ``return_params``: the lines, as
        :func:`~skspectra.datasets.make_gaussian_spectra` gives them (the baseline is
        not a line).
    noise : ndarray of shape (n_samples,)
        Only with ``return_params``: the noise standard deviations.

    Notes
    -----
    Each spectrum is
    :math:`f(x) = \sum_k a_k e^{-(x-\mu_k)^2/2\sigma_k^2} + s\,(b_0 + b_1 t(x)
    - d\, e^{-(x - m)^2 / 2 w^2}) + \epsilon(x)`, with :math:`t` running from -1 to 1
    over the window, :math:`s` the noise level, :math:`b_0, b_1 \sim
    \mathcal{N}(0, \mathrm{baseline\_scale}^2)` and :math:`d` zero in half the spectra.

    Examples
    --------
    >>> from skspectra.lines.real import make_window_spectra
    >>> X, y, noise = make_window_spectra(10, 64, return_params=True, random_state=0)
    >>> X.shape, y.shape
    ((10, 64), (10, 9))
    """
    rng = check_random_state(random_state)
    X, params, noise = make_gaussian_spectra(
        n_samples,
        n_channels,
        n_components=n_components,
        amplitude_range=amplitude_range,
        sigma_range=sigma_range,
        noise_range=noise_range,
        return_params=True,
        random_state=rng,
    )
    x = np.arange(n_channels, dtype=np.float64)
    t = np.linspace(-1.0, 1.0, n_channels)
    b0, b1 = rng.normal(0.0, baseline_scale, (2, n_samples, 1))
    depth = rng.uniform(0.0, trough_depth, (n_samples, 1)) * (rng.random((n_samples, 1)) < 0.5)
    centre = rng.uniform(0.0, n_channels, (n_samples, 1))
    width = rng.uniform(n_channels / 16, n_channels / 4, (n_samples, 1))
    dip = depth * np.exp(-0.5 * ((x - centre) / width) ** 2)
    X = X + noise[:, None] * (b0 + b1 * t - dip)
    if return_params:
        return X, params, noise
    return X


def compare_lines(fitted, reference, *, max_offset=3.0):
    """Pair each reference line with the nearest fitted line, and difference them.

    Parameters
    ----------
    fitted : pandas.DataFrame
        ``fit_line_window(...).lines`` (or several concatenated).
    reference : pandas.DataFrame
        Lines to compare with, in the same columns and units, for example
        :func:`spzline_lines`; a ``name`` column is carried over.
    max_offset : float, default=3.0
        Largest centre distance, in Å, for a fitted line to count as the reference
        line (about two SDSS pixels).

    Returns
    -------
    comparison : pandas.DataFrame
        One row per reference line: ``name``, ``found``, and for ``center``,
        ``sigma_kms`` and ``area`` the reference value (``*_ref``), the fitted one,
        the difference (``d_*``, fitted - reference) and the combined one-sigma error
        ``d_*_err`` = ``hypot(err_fitted, err_ref)`` (NaN where a line was not found).
    """
    rows = []
    centers = fitted["center"].to_numpy() if len(fitted) else np.empty(0)
    for _, ref in reference.iterrows():
        row = {"name": ref.get("name", ""), "found": False}
        j = int(np.argmin(np.abs(centers - ref["center"]))) if centers.size else -1
        hit = j >= 0 and abs(centers[j] - ref["center"]) <= max_offset
        row["found"] = bool(hit)
        for q in ("center", "sigma_kms", "area"):
            mine = fitted.iloc[j] if hit else None
            row[f"{q}_ref"] = ref[q]
            row[q] = mine[q] if hit else np.nan
            row[f"d_{q}"] = row[q] - ref[q]
            row[f"d_{q}_err"] = np.hypot(mine[f"{q}_err"], ref[f"{q}_err"]) if hit else np.nan
        rows.append(row)
    return pd.DataFrame(rows)
