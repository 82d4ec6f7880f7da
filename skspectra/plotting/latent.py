"""A 2-D map of a latent space, coloured by a label such as Teff."""

import numbers

import numpy as np
from sklearn.utils import check_array, check_random_state

__all__ = ["LatentDisplay"]

_METHODS = ("pca", "tsne", "first_two")
_AXIS_LABELS = {"pca": "PC", "tsne": "t-SNE", "first_two": "z"}


def _embed(Z, method, random_state):
    """2-D embedding of latent vectors ``Z`` of shape (n_samples, n_components)."""
    if method == "first_two":
        if Z.shape[1] < 2:
            raise ValueError(f"method='first_two' needs at least 2 latents; Z has {Z.shape[1]}.")
        return Z[:, :2]
    if Z.shape[1] < 2:
        raise ValueError(f"A 2-D map needs at least 2 latents; Z has {Z.shape[1]}.")
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2).fit_transform(Z)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(30.0, max(1.0, (Z.shape[0] - 1) / 3))
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
        tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
        return tsne.fit_transform(Z)
    raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")


class LatentDisplay:
    """Scatter plot of a 2-D map of latent vectors, coloured by a label.

    The latent vectors of an estimator (``transform``) are mapped to 2-D with
    PCA, t-SNE or by keeping the first two latents, and each spectrum is drawn
    as a point coloured by a label: a numeric one (Teff, logg...) with a
    colour bar, a categorical one (spectral class...) with a legend. Build it
    with :meth:`from_estimator` or :meth:`from_latent`, which plot it, or
    from a ready embedding, then call :meth:`plot`.

    Parameters
    ----------
    embedding : ndarray of shape (n_samples, 2)
        The 2-D coordinates of each spectrum.
    labels : array-like of shape (n_samples,), default=None
        Colour of each point: numbers (NaN drawn in grey) or categories.
    label_name : str, default=None
        Name of the label, for the colour bar or legend title.
    method : {'pca', 'tsne', 'first_two'} or None, default=None
        How ``embedding`` was made; names the axes.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes with the scatter plot, set by :meth:`plot`.
    figure_ : matplotlib Figure
        Its figure.
    scatter_ : matplotlib PathCollection or list of them
        The points: one collection for numeric labels or none, one per
        category otherwise.
    colorbar_ : matplotlib Colorbar or None
        The colour bar, for numeric labels.

    See Also
    --------
    skspectra.plotting.ReconstructionDisplay : A spectrum against its reconstruction.
    sklearn.inspection.DecisionBoundaryDisplay : The Display pattern this follows.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skspectra.datasets import load_gaia_xp
    >>> from skspectra.plotting.latent import LatentDisplay
    >>> from skspectra.spectra import SpectralVAE
    >>> data = load_gaia_xp()
    >>> vae = SpectralVAE(max_epochs=2, random_state=0).fit(data.flux[:300], ivar=data.ivar[:300])
    >>> disp = LatentDisplay.from_estimator(
    ...     vae, data.flux[:300], labels=data.labels["teff"][:300], method="pca")
    >>> disp.colorbar_.ax.get_ylabel()
    'teff'
    """

    def __init__(self, embedding, *, labels=None, label_name=None, method=None):
        self.embedding = np.asarray(embedding, dtype=float)
        if self.embedding.ndim != 2 or self.embedding.shape[1] != 2:
            raise ValueError(
                f"embedding must have shape (n_samples, 2), got {self.embedding.shape}."
            )
        if labels is not None:
            if label_name is None:
                label_name = getattr(labels, "name", None)
            labels = np.asarray(labels)
            if labels.shape != (self.embedding.shape[0],):
                raise ValueError(
                    f"labels must have shape ({self.embedding.shape[0]},), one per point; "
                    f"got {labels.shape}."
                )
        self.labels = labels
        self.label_name = label_name
        self.method = method

    @classmethod
    def from_latent(
        cls,
        Z,
        *,
        labels=None,
        label_name=None,
        method="pca",
        random_state=None,
        ax=None,
        **scatter_kwargs,
    ):
        """Map latent vectors to 2-D and plot them.

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_components)
            Latent vectors, for example ``vae.transform(X)``.
        labels : array-like of shape (n_samples,), default=None
            Label of each spectrum for the colours. A pandas Series names the
            colour bar.
        label_name : str, default=None
            Name for the colour bar or legend; the Series name when None.
        method : {'pca', 'tsne', 'first_two'}, default='pca'
            'pca': the two leading principal components of ``Z``;
            'tsne': :class:`sklearn.manifold.TSNE` (seconds for thousands of
            points); 'first_two': ``Z[:, :2]`` as they are.
        random_state : int, RandomState instance or None, default=None
            Seeds t-SNE.
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        **scatter_kwargs
            Passed to :meth:`plot` (``cmap``, ``s``, ``alpha``...).

        Returns
        -------
        display : LatentDisplay

        Raises
        ------
        ValueError
            If ``method`` is unknown, ``Z`` has fewer than 2 columns, or
            ``labels`` has not one entry per row of ``Z``.
        """
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
        Z = check_array(Z, dtype=np.float64, input_name="Z")
        embedding = _embed(Z, method, random_state)
        display = cls(embedding, labels=labels, label_name=label_name, method=method)
        return display.plot(ax=ax, **scatter_kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        labels=None,
        label_name=None,
        method="pca",
        random_state=None,
        ax=None,
        **scatter_kwargs,
    ):
        """Encode spectra with a fitted estimator, map the latents to 2-D and plot them.

        Parameters
        ----------
        estimator : fitted transformer
            Anything with ``transform`` giving latent vectors:
            :class:`~skspectra.spectra.SpectralVAE`,
            :class:`~skspectra.spectra.SpectralCAE`,
            :class:`~sklearn.decomposition.PCA`, or a Pipeline ending in one.
        X : array-like of shape (n_samples, n_wavelengths)
            Flux of the spectra to place on the map.
        labels, label_name, method, random_state, ax, **scatter_kwargs
            As for :meth:`from_latent`.

        Returns
        -------
        display : LatentDisplay

        Raises
        ------
        ValueError
            As for :meth:`from_latent`, or if ``estimator`` has no ``transform``.
        """
        if not hasattr(estimator, "transform"):
            raise ValueError(
                f"{type(estimator).__name__} has no transform method to give latent vectors."
            )
        return cls.from_latent(
            estimator.transform(X),
            labels=labels,
            label_name=label_name,
            method=method,
            random_state=random_state,
            ax=ax,
            **scatter_kwargs,
        )

    def _is_numeric(self):
        """Numbers get a colour map; booleans, strings and other objects are categories."""
        if self.labels is None or self.labels.dtype.kind == "b":
            return False
        return self.labels.dtype.kind in "iuf" or all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in self.labels.tolist()
        )

    def plot(self, ax=None, *, cmap="viridis", colorbar=True, s=6, alpha=0.8, **scatter_kwargs):
        """Draw the points.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        cmap : str or Colormap, default='viridis'
            Colour map for numeric labels.
        colorbar : bool, default=True
            Add a colour bar for numeric labels.
        s : float, default=6
            Marker area in points².
        alpha : float, default=0.8
            Marker opacity.
        **scatter_kwargs
            Passed to :meth:`matplotlib.axes.Axes.scatter`.

        Returns
        -------
        display : LatentDisplay
            Itself, with ``ax_``, ``figure_``, ``scatter_`` and ``colorbar_`` set.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 5))
        x, y = self.embedding.T
        kwargs = {"s": s, "alpha": alpha, "linewidths": 0, **scatter_kwargs}
        self.colorbar_ = None
        if self.labels is None:
            self.scatter_ = ax.scatter(x, y, **kwargs)
        elif self._is_numeric():
            values = self.labels.astype(float)
            missing = ~np.isfinite(values)
            if missing.any():
                ax.scatter(x[missing], y[missing], color="lightgrey", **kwargs)
            self.scatter_ = ax.scatter(
                x[~missing], y[~missing], c=values[~missing], cmap=cmap, **kwargs
            )
            if colorbar:
                self.colorbar_ = ax.figure.colorbar(self.scatter_, ax=ax)
                self.colorbar_.set_label(self.label_name or "label")
        else:
            categories = list(dict.fromkeys(self.labels.tolist()))
            self.scatter_ = [
                ax.scatter(x[self.labels == c], y[self.labels == c], label=str(c), **kwargs)
                for c in categories
            ]
            ax.legend(title=self.label_name, fontsize="small", markerscale=2)
        prefix = _AXIS_LABELS.get(self.method, "dimension")
        ax.set_xlabel(f"{prefix} 1")
        ax.set_ylabel(f"{prefix} 2")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
