"""Simulated ugriz stamps of the Gaia XP stars, and the aperture-photometry features of the trees.

Shared by ``bench_image_to_spectrum_stamps.py`` and its dev search
``benchmarks/search/image_to_spectrum_stamps.py``.
"""

import numpy as np

from skspectra.datasets import load_gaia_xp, make_image_spectrum_pairs
from skspectra.images import aperture_photometry

#: Stamp size in pixels (0.396"/px, SDSS): 6.3", 4.5 PSF FWHM of 1.4".
IMAGE_SIZE = 16
#: Index of SDSS r among ugriz: the reference magnitude and the middle of the colours.
R_BAND = 2


def gaia_sample():
    """``load_gaia_xp()`` and the mask of its stars with any unmasked pixel (the ones used)."""
    gaia = load_gaia_xp()
    return gaia, np.any(gaia.ivar > 0, axis=1)


def gaia_stamps(seed):
    """Gaia XP stars with any unmasked pixel, rendered as ugriz stamps with ``random_state=seed``.

    ``make_image_spectrum_pairs`` defaults: point sources, Moffat PSF of FWHM 1.4", r
    uniform in 16-20 AB mag, sky of 100 counts per pixel (then subtracted), SDSS zeropoint 28.

    Returns
    -------
    images : ndarray of shape (n, 5, 16, 16), float32
        Counts.
    Y, ivar : ndarray of shape (n, 343)
        The median-normalised spectra and their inverse variance.
    sky : ndarray of shape (5,)
        Sky counts per pixel of each band.
    n_dropped : int
        Stars with no unmasked pixel.
    """
    gaia, ok = gaia_sample()
    pairs = make_image_spectrum_pairs(
        gaia.flux[ok], gaia.wavelength, image_size=IMAGE_SIZE, random_state=seed
    )
    images = pairs.images.astype(np.float32)
    return images, gaia.flux[ok], gaia.ivar[ok], pairs.sky_level, int(np.sum(~ok))


def aperture_features(images, radius, sky):
    """Asinh r magnitude and the four adjacent colours u−g, g−r, r−i, i−z: ``(n, 5)``.

    Fluxes are circular-aperture sums (:func:`~skspectra.images.aperture_photometry`). They
    become asinh magnitudes (Lupton, Gunn & Szalay 1999), ``-2.5 / ln 10 · asinh(f / 2b)``
    up to a constant per band, with the softening ``b`` the aperture's sky noise
    ``√(π r² · sky)``: a faint u or z flux may be negative, and stays finite.
    """
    flux = aperture_photometry(images, radius)
    b = np.sqrt(np.pi * radius**2 * np.asarray(sky, dtype=np.float64))
    mag = -2.5 / np.log(10) * np.arcsinh(flux / (2 * b))
    return np.column_stack([mag[:, R_BAND], mag[:, :-1] - mag[:, 1:]])


def normalise(images):
    """Each stamp mapped to [0, 1] by its own minimum and maximum over all bands and pixels.

    ``ImageNormalizer()`` (linear, ``per_channel=False``): the star's brightness goes, its
    colours (band ratios above the common offset) stay.
    """
    from skspectra.preprocessing import ImageNormalizer

    return ImageNormalizer().fit_transform(images).astype(np.float32)


def stretch(images, sky):
    """Asinh stretch of each pixel, ``asinh(counts / σ)``, σ = √sky the noise of an empty pixel."""
    sigma = np.sqrt(np.asarray(sky, dtype=np.float32))[None, :, None, None]
    return np.arcsinh(images / sigma).astype(np.float32)


def relative(images, radius):
    """Each stamp divided by its r-band aperture flux (radius in pixels; floored at 1 count).

    The band ratios near the centre are then the star's flux ratios (its colours), whatever
    its brightness.
    """
    flux = aperture_photometry(images, radius)[:, R_BAND]
    return (images / np.maximum(flux, 1.0)[:, None, None, None]).astype(np.float32)


def cnn_input(name, images, sky, radius=3.0):
    """The CNN's input by name, one of :data:`CNN_INPUTS`: ``"counts"`` (as rendered),
    ``"asinh stretch"``, ``"ImageNormalizer"`` or ``"÷ r aperture flux"`` (``radius`` px)."""
    if name == "counts":
        return images
    if name == "÷ r aperture flux":
        return relative(images, radius)
    if name == "asinh stretch":
        return stretch(images, sky)
    if name == "ImageNormalizer":
        return normalise(images)
    raise ValueError(f"unknown CNN input {name!r}; choose from {CNN_INPUTS}.")


#: The CNN inputs the dev search compares.
CNN_INPUTS = ("counts", "asinh stretch", "ImageNormalizer", "÷ r aperture flux")
