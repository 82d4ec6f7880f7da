"""Datasets: real spectra that ship with skspectra or come from installed packages, and tools
that make labelled test data from them."""

from ._anomalies import ANOMALY_KINDS, inject_anomalies
from ._gaia_xp import fetch_gaia_xp, load_gaia_xp
from ._gaussian import gaussian_spectra_preset, make_gaussian_spectra
from ._hubble import load_hubble_deep_field
from ._image_pairs import make_image_spectrum_pairs
from ._miles import fetch_miles

__all__ = [
    "ANOMALY_KINDS",
    "fetch_gaia_xp",
    "fetch_miles",
    "gaussian_spectra_preset",
    "inject_anomalies",
    "load_gaia_xp",
    "load_hubble_deep_field",
    "make_gaussian_spectra",
    "make_image_spectrum_pairs",
]
