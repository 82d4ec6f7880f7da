"""Images against their reconstructions, with the residual: one row per image."""

import warnings

import numpy as np

__all__ = ["ImageReconstructionDisplay"]


def _as_nchw(X, image_shape=None, name="X"):
    """``X`` as float (n, C, H, W): from (n, H, W), (n, C, H, W) or flat with image_shape."""
    X = np.asarray(X, dtype=float)
    if X.ndim == 4:
        return X
    if X.ndim == 3:
        return X[:, None]
    if X.ndim == 2:
        if image_shape is None:
            raise ValueError(
                f"{name} is flat, of shape {X.shape}: give image_shape=(C, H, W) or (H, W) to "
                "draw it as images."
            )
        shape = tuple(int(s) for s in image_shape)
        shape = shape if len(shape) == 3 else (1, *shape)
        if int(np.prod(shape)) != X.shape[1]:
            raise ValueError(
                f"image_shape={tuple(image_shape)} holds {int(np.prod(shape))} pixels, but "
                f"{name} has {X.shape[1]} per row."
            )
        return X.reshape(X.shape[0], *shape)
    raise ValueError(
        f"{name} must be images of shape (n, H, W) or (n, C, H, W), or flat (n, C*H*W) "
        f"with image_shape; got shape {X.shape}."
    )


def _limits(image):
    """(vmin, vmax) of an image's finite pixels; (0, 1) when it has none or is constant."""
    finite = image[np.isfinite(image)]
    if finite.size == 0 or finite.min() == finite.max():
        return 0.0, 1.0
    return float(finite.min()), float(finite.max())


class ImageReconstructionDisplay:
    """Images, their reconstructions and residuals: a row of three panels per image.

    Each row shows an image, the model's reconstruction of it on the same grey scale (the
    image's minimum to maximum), and the residual on a diverging scale symmetric about 0.
    Three-channel images are drawn in colour (channels as RGB, the image's limits for
    all three); other multi-channel images as the mean over channels. The residual is
    averaged over channels. Build it with :meth:`from_estimator`, which picks the
    worst-scored images and plots them, or from arrays, then call :meth:`plot`.

    Parameters
    ----------
    images : ndarray of shape (n_images, H, W) or (n_images, C, H, W)
        The images, any unit (NaN = masked, drawn blank).
    reconstructions : ndarray of the shape of ``images``
        The model's reconstructions.
    residuals : ndarray of shape (n_images, H, W) or (n_images, C, H, W), default=None
        What the third panel shows, e.g. ``anomaly_map`` in σ. Default:
        ``images - reconstructions``.
    titles : list of str, default=None
        One label per row, e.g. a rank, an id and a score.
    residual_label : str, default='residual'
        Title of the residual column, e.g. with its unit.

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
        Set by :meth:`plot`.
    axes_ : ndarray of matplotlib Axes of shape (n_images, 3)
        Image, reconstruction and residual panels, row by row, set by :meth:`plot`.
    indices_ : ndarray of shape (n_images,) or None
        Set by :meth:`from_estimator`: the rows of ``X`` shown, most anomalous first.
    scores_ : ndarray of shape (n_images,) or None
        Set by :meth:`from_estimator`: their ``score_samples``.

    See Also
    --------
    skspectra.plotting.ReconstructionDisplay : the same for one spectrum.
    skspectra.plotting.LatentDisplay : the map of the latent space.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skspectra.plotting import ImageReconstructionDisplay
    >>> images = np.random.default_rng(0).random((2, 8, 8))
    >>> disp = ImageReconstructionDisplay(images, 0.9 * images).plot()
    >>> disp.axes_.shape
    (2, 3)
    """

    def __init__(
        self, images, reconstructions, residuals=None, *, titles=None, residual_label="residual"
    ):
        self.images = _as_nchw(images, name="images")
        self.reconstructions = _as_nchw(reconstructions, name="reconstructions")
        if self.reconstructions.shape != self.images.shape:
            raise ValueError(
                f"reconstructions have shape {self.reconstructions.shape}, but images have "
                f"{self.images.shape}; they must match."
            )
        if residuals is None:
            residuals = self.images - self.reconstructions
        self.residuals = _as_nchw(residuals, name="residuals")
        n, _, h, w = self.images.shape
        if self.residuals.shape[0] != n or self.residuals.shape[2:] != (h, w):
            raise ValueError(
                f"residuals have shape {self.residuals.shape}; they must be ({n}, H, W) or "
                f"({n}, C, H, W) with (H, W) = {(h, w)}."
            )
        if titles is not None and len(titles) != n:
            raise ValueError(f"titles must have one entry per image ({n}), got {len(titles)}.")
        self.titles = titles
        self.residual_label = residual_label
        self.indices_ = None
        self.scores_ = None

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        ivar=None,
        n_images=6,
        indices=None,
        ids=None,
        image_shape=None,
        residual="anomaly_map",
        axes=None,
    ):
        """Reconstruct images with a fitted estimator and plot the worst-scored ones.

        Parameters
        ----------
        estimator : fitted estimator with ``reconstruct``
            For example :class:`skspectra.images.ImageAutoencoder`, or a Pipeline ending
            in one (the images are then shown as its last step sees them, after the
            earlier steps' ``transform``). ``score_samples`` ranks the images;
            ``anomaly_map`` gives the residual.
        X : array-like of shape (n_samples, H, W), (n_samples, C, H, W) or (n_samples, C·H·W)
            Images, as the estimator takes them.
        ivar : array-like of the shape of X, default=None
            Inverse variance (0 = masked), passed to ``score_samples`` and ``anomaly_map``.
        n_images : int, default=6
            How many of the lowest-scored (most anomalous) images to show.
        indices : array-like of int, default=None
            Rows of X to show instead, in this order; no ranking is done.
        ids : array-like of shape (n_samples,), default=None
            Names of the images for the row labels; row numbers when None.
        image_shape : (C, H, W) or (H, W), default=None
            Shape of each image when X is flat; the estimator's ``image_shape_`` or
            ``image_shape`` when None.
        residual : {'anomaly_map', 'difference'}, default='anomaly_map'
            Third panel: the estimator's ``anomaly_map`` (residual in σ with ``ivar``), or
            ``X - reconstruction`` in the units of X. 'anomaly_map' falls back to
            'difference' for an estimator without one.
        axes : array of matplotlib Axes of shape (n_images, 3), default=None
            Where to draw; a new figure when None.

        Returns
        -------
        display : ImageReconstructionDisplay

        Raises
        ------
        ValueError
            If ``estimator`` has no ``reconstruct``, ``residual`` is unknown, or X is flat
            without an image shape.
        """
        from sklearn.pipeline import Pipeline

        if isinstance(estimator, Pipeline):
            X = estimator[:-1].transform(X)
            estimator = estimator[-1]
        if not hasattr(estimator, "reconstruct"):
            raise ValueError(f"{type(estimator).__name__} has no reconstruct method.")
        if residual not in ("anomaly_map", "difference"):
            raise ValueError(f"residual must be 'anomaly_map' or 'difference', got {residual!r}.")
        X = np.asarray(X, dtype=float)
        kwargs = {} if ivar is None else {"ivar": np.asarray(ivar, dtype=float)}
        can_score = hasattr(estimator, "score_samples")
        if indices is None and can_score:
            scores = np.asarray(estimator.score_samples(X, **kwargs))
            indices = np.argsort(scores, kind="stable")[:n_images]
            shown_scores = scores[indices]
        else:
            if indices is None:
                indices = np.arange(min(n_images, len(X)))
            indices = np.asarray(indices, dtype=int)
            shown_scores = (
                np.asarray(estimator.score_samples(X[indices], **_take(kwargs, indices)))
                if can_score
                else None
            )
        sub, sub_kwargs = X[indices], _take(kwargs, indices)
        reconstructions = estimator.reconstruct(sub)
        if residual == "anomaly_map" and hasattr(estimator, "anomaly_map"):
            residuals = estimator.anomaly_map(sub, **sub_kwargs)
            label = "residual [σ]" if ivar is not None else "anomaly map"
        else:
            residuals, label = None, "residual (image − reconstruction)"
        if image_shape is None and X.ndim == 2:
            image_shape = getattr(estimator, "image_shape_", None)
            if image_shape is None:
                image_shape = getattr(estimator, "image_shape", None)
        images = _as_nchw(sub, image_shape)
        reconstructions = _as_nchw(reconstructions, image_shape, "reconstructions")
        if residuals is not None:
            residuals = np.asarray(residuals, dtype=float)
            if residuals.ndim == 2:
                residuals = residuals.reshape(images.shape)
        names = np.arange(len(X)) if ids is None else np.asarray(ids)
        titles = [str(names[i]) for i in indices]
        if shown_scores is not None:
            titles = [f"{t}\nscore {v:.3g}" for t, v in zip(titles, shown_scores, strict=True)]
        display = cls(images, reconstructions, residuals, titles=titles, residual_label=label)
        display.indices_ = indices
        display.scores_ = shown_scores
        return display.plot(axes=axes)

    def _colour(self, image, limits):
        """What imshow draws: an RGB array in [0, 1] for 3 channels, else a 2-D map."""
        if image.shape[0] == 3:
            lo, hi = limits
            rgb = np.clip((np.moveaxis(image, 0, -1) - lo) / (hi - lo), 0, 1)
            return np.nan_to_num(rgb, nan=0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels stay NaN
            return np.nanmean(image, axis=0)

    def plot(self, *, axes=None, cmap="gray", residual_cmap="RdBu_r"):
        """Draw one row of three panels per image.

        Parameters
        ----------
        axes : array of matplotlib Axes of shape (n_images, 3), default=None
            Where to draw; a new figure when None.
        cmap : str or Colormap, default='gray'
            Colour map of single-channel images and reconstructions.
        residual_cmap : str or Colormap, default='RdBu_r'
            Diverging colour map of the residuals (red: image above reconstruction).

        Returns
        -------
        display : ImageReconstructionDisplay
            Itself, with ``figure_`` and ``axes_`` set.
        """
        import matplotlib.pyplot as plt

        n = self.images.shape[0]
        if axes is None:
            _, axes = plt.subplots(
                n, 3, figsize=(7.2, 2.3 * n + 0.4), squeeze=False, layout="constrained"
            )
        axes = np.asarray(axes).reshape(n, 3)
        for row, (image, recon, resid) in enumerate(
            zip(self.images, self.reconstructions, self.residuals, strict=True)
        ):
            limits = _limits(image)
            for ax, shown in ((axes[row, 0], image), (axes[row, 1], recon)):
                ax.imshow(
                    self._colour(shown, limits),
                    cmap=cmap,
                    vmin=limits[0],
                    vmax=limits[1],
                    origin="lower",
                    interpolation="nearest",
                )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                mean_resid = np.nanmean(resid, axis=0)
            finite = np.abs(mean_resid[np.isfinite(mean_resid)])
            vmax = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
            im = axes[row, 2].imshow(
                mean_resid,
                cmap=residual_cmap,
                vmin=-vmax,
                vmax=vmax,
                origin="lower",
                interpolation="nearest",
            )
            axes[row, 2].figure.colorbar(im, ax=axes[row, 2], fraction=0.046, pad=0.04)
            for ax in axes[row]:
                ax.set_xticks([])
                ax.set_yticks([])
            if self.titles is not None:
                axes[row, 0].set_ylabel(self.titles[row], fontsize="small")
        for ax, name in zip(axes[0], ("image", "reconstruction", self.residual_label), strict=True):
            ax.set_title(name, fontsize="small")
        self.axes_ = axes
        self.figure_ = axes[0, 0].figure
        return self


def _take(kwargs, indices):
    return {key: value[indices] for key, value in kwargs.items()}
