"""Galaxy stamps cut from scikit-image's colour rendering of the Hubble Deep Field."""

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._base import _load_descr

__all__ = ["load_hubble_deep_field"]

_DESCR_FILE = "hubble_deep_field.rst"

#: ``(x, y)`` pixel position, in ``skimage.data.hubble_deep_field()``, of the bright foreground star
#: with diffraction spikes. It was identified by eye (its spikes); no brightness rule singles it
#: out, since several galaxies' cores saturate the 8-bit rendering as much.
BRIGHT_STAR_XY = (754, 578)

#: Detection: Gaussian smoothing (pixels) of the grayscale image, peak threshold on it (the sky
#: sits at about 0.05) and the minimum distance between two peaks (pixels).
SMOOTHING_SIGMA = 2.0
PEAK_THRESHOLD = 0.15
MIN_DISTANCE = 8


def _detect_sources(gray, size):
    """Rows and columns of the peaks of the smoothed image whose ``size`` stamp fits inside it."""
    from skimage.feature import peak_local_max
    from skimage.filters import gaussian

    smooth = gaussian(gray, sigma=SMOOTHING_SIGMA)
    half = size // 2
    peaks = peak_local_max(
        smooth, min_distance=MIN_DISTANCE, threshold_abs=PEAK_THRESHOLD, exclude_border=False
    )
    rows, cols = peaks[:, 0], peaks[:, 1]
    inside = (
        (rows >= half)
        & (rows - half + size <= gray.shape[0])
        & (cols >= half)
        & (cols - half + size <= gray.shape[1])
    )
    rows, cols = rows[inside], cols[inside]
    order = np.lexsort((cols, rows))  # a fixed order: top to bottom, left to right
    rows, cols = rows[order], cols[order]
    return rows, cols, smooth[rows, cols]


def load_hubble_deep_field(size=32, *, as_gray=False):
    """Load stamps of the sources detected in the Hubble Deep Field image of scikit-image.

    The image is an 8-bit colour (RGB) rendering of the Hubble Deep Field that
    ships with scikit-image (``skimage.data.hubble_deep_field()``, 872 × 1000
    pixels), **not calibrated flux**. Sources are the local maxima of the
    grayscale image smoothed by a Gaussian of σ = 2 pixels, above 0.15 (the sky
    is at about 0.05), at least 8 pixels apart; every stamp lies fully inside
    the image. With ``size=32`` that gives 600 or so stamps, nearly all of them
    galaxies. One is centred on a bright foreground star with diffraction
    spikes (``sources.is_bright_star``), a natural anomaly.

    Parameters
    ----------
    size : int, default=32
        Stamp side in pixels (at least 8).
    as_gray : bool, default=False
        Return one grayscale band (:func:`skimage.color.rgb2gray`) instead of
        the three colour bands.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        images : ndarray of shape (n_stamps, 3, size, size) or, ``as_gray``, (n_stamps, size, size)
            Pixel values in [0, 1] (the 8-bit values divided by 255), bands
            in R, G, B order.
        sources : pandas.DataFrame
            One row per stamp: ``x``, ``y`` (column and row of the stamp
            centre in the parent image, pixels), ``peak`` (smoothed grayscale
            value at the centre) and ``is_bright_star``.
        bright_star_index : int
            Row of the stamp centred on the bright star with diffraction spikes.
        image_shape : tuple of int
            ``(C, size, size)`` of one stamp.
        DESCR : str
            Description, source and licence.

    Raises
    ------
    ValueError
        If ``size`` is smaller than 8 or too large for the image.

    Examples
    --------
    >>> from skspectra.datasets import load_hubble_deep_field
    >>> hdf = load_hubble_deep_field(size=32)
    >>> hdf.images.shape[1:]
    (3, 32, 32)
    >>> bool(hdf.sources.is_bright_star.sum() == 1)
    True
    """
    from skimage import data
    from skimage.color import rgb2gray

    if not isinstance(size, int | np.integer) or size < 8 or size > 256:
        raise ValueError(f"size must be an integer between 8 and 256 pixels, got {size!r}.")
    rgb = data.hubble_deep_field().astype(np.float64) / 255.0
    gray = rgb2gray(rgb)
    rows, cols, peak = _detect_sources(gray, size)
    half = size // 2
    source = gray if as_gray else np.moveaxis(rgb, -1, 0)
    images = np.stack(
        [
            source[..., r - half : r - half + size, c - half : c - half + size]
            for r, c in zip(rows, cols, strict=True)
        ]
    )
    distance = np.hypot(cols - BRIGHT_STAR_XY[0], rows - BRIGHT_STAR_XY[1])
    star = int(np.argmin(distance))
    if distance[star] > 3:
        raise RuntimeError(
            "the bright star of the Hubble Deep Field was not detected; the image shipped "
            "with this scikit-image version differs from the one this loader was written for."
        )
    sources = pd.DataFrame(
        {"x": cols, "y": rows, "peak": peak, "is_bright_star": np.arange(len(rows)) == star}
    )
    return Bunch(
        images=images,
        sources=sources,
        bright_star_index=star,
        image_shape=tuple(images.shape[1:]) if not as_gray else (1, size, size),
        DESCR=_load_descr(_DESCR_FILE),
    )
