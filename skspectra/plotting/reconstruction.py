"""A spectrum against its reconstruction, with the residual and anomalous regions."""

import numpy as np

from ..spectra._regions import anomalous_regions

__all__ = ["ReconstructionDisplay"]


class ReconstructionDisplay:
    """Plot one spectrum, its model reconstruction, and the residual in σ.

    The top panel shows the observed flux and the reconstruction; the bottom
    panel shows the residual in units of its uncertainty, with the regions
    beyond ``threshold`` shaded. Build it with :meth:`from_estimator`, or
    directly from arrays, then call :meth:`plot`.

    Parameters
    ----------
    wavelength : ndarray of shape (n_wavelengths,)
        Wavelength of each pixel in Å (or pixel index when unknown).
    flux : ndarray of shape (n_wavelengths,)
        Observed flux.
    reconstruction : ndarray of shape (n_wavelengths,)
        The model's reconstruction of ``flux``.
    anomaly_map : ndarray of shape (n_wavelengths,)
        Residual in σ, as from ``SpectralCAE.anomaly_map``.
    threshold : float, default=5.0
        ``|residual|`` in σ above which pixels are shaded as anomalous.
    title : str, default=None
        Figure title, for example the spectrum id and its score.
    wavelength_unit : str, default='Å'
        Label of the wavelength axis unit.

    Attributes
    ----------
    regions_ : list of dict
        Anomalous regions, from :func:`skspectra.spectra.anomalous_regions`.
    figure_ : matplotlib.figure.Figure
        Set by :meth:`plot`.
    axes_ : ndarray of two matplotlib Axes
        Flux panel and residual panel, set by :meth:`plot`.

    Examples
    --------
    >>> from skspectra import SpectralCAE
    >>> from skspectra.datasets import load_gaia_xp
    >>> from skspectra.plotting import ReconstructionDisplay
    >>> data = load_gaia_xp()
    >>> cae = SpectralCAE(max_epochs=2, random_state=0).fit(data.flux[:300])
    >>> disp = ReconstructionDisplay.from_estimator(
    ...     cae, data.flux[:1], wavelength=data.wavelength)  # doctest: +SKIP
    >>> disp.figure_.savefig("star.png")  # doctest: +SKIP
    """

    def __init__(
        self,
        wavelength,
        flux,
        reconstruction,
        anomaly_map,
        *,
        threshold=5.0,
        title=None,
        wavelength_unit="Å",
    ):
        self.wavelength = np.asarray(wavelength, dtype=float)
        self.flux = np.asarray(flux, dtype=float)
        self.reconstruction = np.asarray(reconstruction, dtype=float)
        self.anomaly_map = np.asarray(anomaly_map, dtype=float)
        shapes = {a.shape for a in (self.wavelength, self.flux, self.reconstruction)}
        if len(shapes | {self.anomaly_map.shape}) != 1 or self.flux.ndim != 1:
            raise ValueError(
                "wavelength, flux, reconstruction and anomaly_map must be 1-D arrays of one "
                f"length; got shapes {self.wavelength.shape}, {self.flux.shape}, "
                f"{self.reconstruction.shape} and {self.anomaly_map.shape}."
            )
        self.threshold = threshold
        self.title = title
        self.wavelength_unit = wavelength_unit
        self.regions_ = anomalous_regions(self.anomaly_map, self.wavelength, threshold=threshold)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        ivar=None,
        wavelength=None,
        threshold=5.0,
        title=None,
        ax=None,
    ):
        """Reconstruct one spectrum with a fitted estimator and plot it.

        Parameters
        ----------
        estimator : fitted estimator with ``reconstruct`` and ``anomaly_map``
            For example :class:`skspectra.SpectralCAE`.
        X : array-like of shape (1, n_wavelengths) or (n_wavelengths,)
            One spectrum's flux.
        ivar : array-like of the shape of ``X``, default=None
            Its inverse variance (0 = masked); sets the residual's σ.
        wavelength : array-like of shape (n_wavelengths,), default=None
            Wavelength in Å; pixel indices when None.
        threshold : float, default=5.0
            ``|residual|`` in σ above which pixels are shaded.
        title : str, default=None
            Figure title.
        ax : array of two matplotlib Axes, default=None
            Where to draw; a new figure when None.

        Returns
        -------
        display : ReconstructionDisplay

        Raises
        ------
        ValueError
            If ``X`` holds more than one spectrum.
        """
        X = np.asarray(X, dtype=float)
        X = X.reshape(1, -1) if X.ndim == 1 else X
        if X.shape[0] != 1:
            raise ValueError(f"from_estimator plots one spectrum; X has {X.shape[0]} rows.")
        if ivar is not None:
            ivar = np.asarray(ivar, dtype=float).reshape(X.shape)
        unit = "Å"
        if wavelength is None:
            wavelength, unit = np.arange(X.shape[1]), "pixel"
        display = cls(
            wavelength,
            X[0],
            estimator.reconstruct(X)[0],
            estimator.anomaly_map(X, ivar=ivar)[0],
            threshold=threshold,
            title=title,
            wavelength_unit=unit,
        )
        return display.plot(ax=ax)

    def plot(self, *, ax=None, flux_label="flux"):
        """Draw the two panels.

        Parameters
        ----------
        ax : array of two matplotlib Axes, default=None
            Flux panel and residual panel; a new figure when None.
        flux_label : str, default='flux'
            y-axis label of the flux panel, e.g. with its unit.

        Returns
        -------
        display : ReconstructionDisplay
            Itself, with ``figure_`` and ``axes_`` set.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(
                2, 1, sharex=True, figsize=(9, 5), gridspec_kw={"height_ratios": [2, 1]}
            )
        top, bottom = ax
        top.plot(self.wavelength, self.flux, color="k", lw=1, label="observed")
        top.plot(self.wavelength, self.reconstruction, color="C1", lw=1.2, label="reconstruction")
        top.set_ylabel(flux_label)
        top.legend(loc="best", fontsize="small")
        bottom.plot(self.wavelength, self.anomaly_map, color="C0", lw=1)
        for sign in (-1, 1):
            bottom.axhline(sign * self.threshold, color="grey", ls="--", lw=0.8)
        half_pixel = (
            0.5 * np.abs(np.gradient(self.wavelength)) if self.wavelength.size > 1 else [0.5]
        )
        for region in self.regions_:
            lo = self.wavelength[region["start"]] - half_pixel[region["start"]]
            hi = self.wavelength[region["stop"] - 1] + half_pixel[region["stop"] - 1]
            for axis in ax:
                axis.axvspan(lo, hi, color="C3", alpha=0.25, lw=0)
        bottom.set_ylabel("residual [σ]")
        bottom.set_xlabel(f"wavelength [{self.wavelength_unit}]")
        if self.title:
            top.set_title(self.title)
        self.axes_ = np.asarray(ax)
        self.figure_ = top.figure
        return self
