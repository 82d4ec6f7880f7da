"""Readers of spectrum files: one per format, plus a reader of many files at once."""

from ._errors import InputError
from .collection import read_spectra
from .crossmatch import crossmatch, parse_2mass_designation
from .images import read_fits_images
from .loading import (
    check_training_images,
    check_training_spectra,
    load_gaia_xp_sample,
    load_hubble_sample,
    load_images,
    load_spectra,
)
from .models import load_model, save_model
from .sdss import SDSS_FLUX_UNIT, read_sdss_spectrum
from .tables import read_spectra_table

__all__ = [
    "InputError",
    "SDSS_FLUX_UNIT",
    "check_training_images",
    "check_training_spectra",
    "crossmatch",
    "load_gaia_xp_sample",
    "load_hubble_sample",
    "load_images",
    "load_model",
    "load_spectra",
    "parse_2mass_designation",
    "read_fits_images",
    "read_sdss_spectrum",
    "read_spectra",
    "read_spectra_table",
    "save_model",
]
