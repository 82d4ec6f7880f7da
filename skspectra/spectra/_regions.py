"""Contiguous anomalous wavelength regions from a per-pixel anomaly map."""

import numpy as np

__all__ = ["anomalous_regions"]


def anomalous_regions(anomaly_map, wavelength=None, *, threshold=5.0, min_pixels=1):
    """Find the runs of pixels whose anomaly exceeds a threshold.

    Parameters
    ----------
    anomaly_map : array-like of shape (n_wavelengths,)
        Residual of one spectrum in σ, as from ``SpectralCAE.anomaly_map``.
    wavelength : array-like of shape (n_wavelengths,), default=None
        Wavelength of each pixel in Å. When given, regions are also reported
        in Å.
    threshold : float, default=5.0
        A pixel is anomalous where ``|anomaly_map| > threshold``.
    min_pixels : int, default=1
        Shortest run of anomalous pixels that counts as a region.

    Returns
    -------
    regions : list of dict
        One per region, in wavelength order, with ``start`` and ``stop``
        (pixel indices, ``stop`` exclusive), ``peak`` (the signed anomaly of
        largest magnitude) and, with ``wavelength``, ``wavelength_min`` and
        ``wavelength_max`` in Å: the outer edges of the region's first and last
        pixels (:func:`~skspectra.preprocessing.bin_edges`), so that a region of
        one pixel is as wide as that pixel, never of zero width.

    Raises
    ------
    ValueError
        If ``anomaly_map`` is not 1-D, ``wavelength`` does not match it, or
        ``threshold`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([0.1, 6.0, 7.0, 0.2, -8.0])
    >>> [(r["start"], r["stop"]) for r in anomalous_regions(z)]
    [(1, 3), (4, 5)]
    >>> wave = 4000.0 + 20.0 * np.arange(5)
    >>> [(r["wavelength_min"], r["wavelength_max"]) for r in anomalous_regions(z, wave)]
    [(4010.0, 4050.0), (4070.0, 4090.0)]
    """
    z = np.asarray(anomaly_map, dtype=float)
    if z.ndim != 1:
        raise ValueError(
            f"anomaly_map must be 1-D (one spectrum), got shape {z.shape}; pass one row at a time."
        )
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold!r}.")
    if wavelength is not None:
        wavelength = np.asarray(wavelength, dtype=float)
        if wavelength.shape != z.shape:
            raise ValueError(
                f"wavelength has shape {wavelength.shape} but anomaly_map has shape {z.shape}."
            )
    if wavelength is not None:
        from ..preprocessing import bin_edges

        edges = bin_edges(wavelength) if wavelength.size > 1 else wavelength[[0, 0]]
    flagged = np.abs(np.nan_to_num(z)) > threshold
    steps = np.diff(np.concatenate([[0], flagged.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(steps == 1), np.flatnonzero(steps == -1)
    regions = []
    for start, stop in zip(starts, stops, strict=True):
        if stop - start < min_pixels:
            continue
        seg = z[start:stop]
        region = {
            "start": int(start),
            "stop": int(stop),
            "peak": float(seg[np.argmax(np.abs(seg))]),
        }
        if wavelength is not None:
            region["wavelength_min"] = float(edges[start])
            region["wavelength_max"] = float(edges[stop])
        regions.append(region)
    return regions
