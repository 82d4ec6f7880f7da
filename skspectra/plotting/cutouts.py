"""Draw an image cutout beside a spectrum's report panels."""

import numpy as np

__all__ = ["plot_cutout", "spectrum_and_cutout_axes"]


def spectrum_and_cutout_axes(figsize=(12.5, 5)):
    """A figure with the two spectrum panels of ReconstructionDisplay and an image panel.

    Returns
    -------
    spectrum_axes : ndarray of two matplotlib Axes
        Flux and residual panels (sharing x), for ``ReconstructionDisplay.plot(ax=...)``.
    image_ax : matplotlib Axes
        The panel on the right, for :func:`plot_cutout`.
    """
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize)
    grid = fig.add_gridspec(2, 2, width_ratios=[3, 1.25], height_ratios=[2, 1], wspace=0.25)
    top = fig.add_subplot(grid[0, 0])
    bottom = fig.add_subplot(grid[1, 0], sharex=top)
    top.tick_params(labelbottom=False)
    image_ax = fig.add_subplot(grid[:, 1])
    return np.array([top, bottom]), image_ax


def plot_cutout(cutout, ax):
    """Show a :class:`~skspectra.io.cutouts.Cutout` with an asinh stretch.

    The stretch runs between the image's 0.25 and 99.75 percentiles, so that faint light and
    a bright core both show. FITS images keep their orientation (row 0 at the bottom). A
    cutout matched by position has the spectrum's position marked with a red circle. The
    title gives the file name and how it was matched.

    Parameters
    ----------
    cutout : Cutout
        From :func:`skspectra.io.cutouts.match_cutouts` (or :func:`read_cutouts`).
    ax : matplotlib Axes
        Where to draw.

    Returns
    -------
    image : matplotlib AxesImage
    """
    from astropy.visualization import AsinhStretch, ImageNormalize, PercentileInterval

    image = cutout.image
    if image.ndim == 2:
        finite = image[np.isfinite(image)]
        norm = (
            ImageNormalize(finite, interval=PercentileInterval(99.5), stretch=AsinhStretch(0.05))
            if finite.size and np.ptp(finite) > 0
            else None
        )
        shown = ax.imshow(image, origin=cutout.origin, cmap="gray", norm=norm)
    else:
        shown = ax.imshow(image, origin=cutout.origin)
    how = {"id": "matched by id", "position": "matched by position"}.get(cutout.matched_by, "")
    if cutout.matched_by == "position" and cutout.separation is not None:
        how += f", {cutout.separation.arcsec:.2f}″ away"
    if cutout.wcs is not None and cutout.target is not None:
        x, y = cutout.wcs.world_to_pixel(cutout.target)
        ax.plot(x, y, "o", mfc="none", mec="red", ms=14, mew=1.2)
    ax.set_title(f"{cutout.path.name}\n{how}".strip(), fontsize="small")
    ax.set_xlabel("x [pixel]")
    ax.set_ylabel("y [pixel]")
    return shown
