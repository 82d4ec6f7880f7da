"""MILES: 984 real stellar spectra (3540-7410 Å, 2.5 Å FWHM) with Teff, logg and [Fe/H].

The spectra and labels are read from the files that the ``sdss-mangadap`` package (BSD-3)
ships under ``mangadap/data/spectral_templates/miles/``. mangadap is located, not imported:
its dependencies pin an old ppxf, so it is installed with ``--no-deps`` and may not import.
"""

import importlib.util
import os
import re

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

__all__ = ["fetch_miles"]

_INSTALL_COMMAND = "pip install --no-deps sdss-mangadap"
_MILES_DIR = os.path.join("data", "spectral_templates", "miles")
_PARAMS_FILE = "paramsMILES_v9.1.txt"
_SPECTRUM_FILE = re.compile(r"^MILES_res2\.50_star_m(\d{4})V\.fits$")

#: Number of stars in mangadap's MILES template directory: the 985 of MILES v9.1 less m0970,
#: which mangadap moves to ``omit/`` (a shortened wavelength range and a red-end artefact).
N_MILES_STARS = 984
#: Resolution of the MILES spectra, FWHM in Å (Falcón-Barroso et al. 2011).
MILES_FWHM = 2.5

# Column spans of paramsMILES_v9.1.txt, a fixed-width table whose star names contain spaces.
_PARAM_COLSPECS = {
    "name": (0, 22),
    "miles_id": (22, 30),
    "spectral_type": (36, 51),
    "teff": (51, 58),
    "logg": (58, 66),
    "fe_h": (66, 74),
}
_PARAM_HEADER_LINES = 3
# paramsMILES_v9.1.txt (and mangadap's MILES_params.db, derived from it) writes the id of star
# m0221, HD 044691A, as "022.": it is the one file without a parsable row, and the one row
# without a file, between m0220 and m0222 in the table's order.
_MILES_ID_TYPOS = {"022.": "0221"}

_DESCR = f"""\
.. _miles_dataset:

MILES stellar library
---------------------

**Data Set Characteristics:**

    :Number of spectra: {N_MILES_STARS}
    :Pixels: 4300, 3540.5-7409.6 Å (air) in steps of 0.9 Å
    :Resolution: {MILES_FWHM} Å FWHM
    :Flux: relative flux (F_lambda), flux-calibrated, each spectrum normalised to order unity
    :Labels: Teff (K), log g (dex, cgs), [Fe/H] (dex); NaN where MILES gives none
      (3 stars lack all three, 39 lack [Fe/H])

MILES (Medium-resolution Isaac Newton Telescope Library of Empirical Spectra) holds
flux-calibrated long-slit spectra of 985 stars taken with the 2.5 m INT, spanning a wide
range of atmospheric parameters (Sánchez-Blázquez et al. 2006; Cenarro et al. 2007). This is
version 9.1, at the homogenised resolution of 2.5 Å FWHM (Falcón-Barroso et al. 2011; Beifiori
et al. 2011), with the stellar parameters of the library's ``paramsMILES_v9.1.txt``
(Cenarro et al. 2007). Wavelengths are in air, as MILES gives them; ``wavelength_vacuum`` is
the same pixels in vacuum (Ciddor 1996 formula, as in SDSS idlutils ``airtovac``).

**Source.** The MILES team (http://miles.iac.es), as redistributed in FITS form by the MaNGA
Data Analysis Pipeline, ``sdss-mangadap`` on PyPI (BSD 3-Clause licence, SDSS/K. Westfall),
files ``mangadap/data/spectral_templates/miles/MILES_res2.50_star_m????V.fits`` and
``paramsMILES_v9.1.txt``. mangadap leaves out star m0970 (see its README), so 984 remain.
Install with ``{_INSTALL_COMMAND}``.

**Licence.** BSD 3-Clause (the sdss-mangadap distribution). Cite the MILES papers below when
using the spectra.

.. topic:: References

    - Sánchez-Blázquez, P. et al. 2006, MNRAS 371, 703, "Medium-resolution Isaac Newton
      Telescope library of empirical spectra".
    - Cenarro, A. J. et al. 2007, MNRAS 374, 664, "MILES II. The stellar atmospheric
      parameters".
    - Falcón-Barroso, J. et al. 2011, A&A 532, A95, "An updated MILES stellar library and
      stellar population models".
    - Westfall, K. B. et al. 2019, AJ 158, 231, "The Data Analysis Pipeline for the SDSS-IV
      MaNGA IFU Galaxy Survey: Overview".
"""


def _miles_directory():
    """Path of mangadap's MILES template directory, found without importing mangadap."""
    spec = importlib.util.find_spec("mangadap")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "fetch_miles reads the MILES spectra shipped with the sdss-mangadap package, which "
            f"is not installed. Install it with:  {_INSTALL_COMMAND}  (--no-deps because its "
            "dependencies pin an old ppxf).",
            name="mangadap",
        )
    path = os.path.join(spec.submodule_search_locations[0], _MILES_DIR)
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"sdss-mangadap is installed but has no MILES directory {path}; reinstall it with: "
            "pip install --force-reinstall --no-deps sdss-mangadap"
        )
    return path


def _spectrum_files(directory):
    """``{miles_id: path}`` of the MILES spectra in ``directory`` (``omit/`` is not read)."""
    files = {}
    for name in os.listdir(directory):
        match = _SPECTRUM_FILE.match(name)
        if match:
            files[int(match.group(1))] = os.path.join(directory, name)
    return dict(sorted(files.items()))


def _read_params(path):
    """Names, spectral types and parameters of ``paramsMILES_v9.1.txt``, indexed by MILES id.

    The file marks missing parameters with ``--``; they become NaN.
    """
    names, spans = zip(*_PARAM_COLSPECS.items(), strict=True)
    table = pd.read_fwf(
        path,
        colspecs=list(spans),
        names=list(names),
        skiprows=_PARAM_HEADER_LINES,
        na_values=["--"],
        dtype=str,
    )
    table = table.dropna(subset=["miles_id"])
    table["miles_id"] = _fix_miles_id_typos(table["miles_id"].str.strip())
    for column in ("teff", "logg", "fe_h"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    table["miles_id"] = table["miles_id"].astype(int)
    table["name"] = table["name"].fillna("").str.strip()
    table["spectral_type"] = table["spectral_type"].fillna("").str.strip()
    return table.set_index("miles_id")


def _fix_miles_id_typos(miles_ids):
    """Replace the malformed MILES ids of ``_MILES_ID_TYPOS`` in a Series of id strings."""
    return miles_ids.replace(_MILES_ID_TYPOS)


def _read_spectrum(path):
    """Flux and the linear air-wavelength grid (Å) of one MILES FITS file."""
    from astropy.io import fits

    with fits.open(path, memmap=False) as hdul:
        header = hdul[0].header
        flux = np.asarray(hdul[0].data, dtype=np.float64)
        pixels = np.arange(flux.size) + 1.0 - header["CRPIX1"]
        wavelength = header["CRVAL1"] + header["CDELT1"] * pixels
    return flux, wavelength


def _air_to_vacuum(wavelength):
    """Vacuum wavelength (Å) of air wavelengths (Å): Ciddor (1996) as in SDSS idlutils ``airtovac``.

    Two fixed-point iterations of ``vac = air * n(vac)``; the refractive index ``n`` depends
    on the vacuum wavenumber. Converged to better than 1e-8 Å over 3000-10000 Å.
    """
    air = np.asarray(wavelength, dtype=np.float64)
    vacuum = air.copy()
    for _ in range(2):
        sigma2 = (1e4 / vacuum) ** 2
        vacuum = air * (1.0 + 5.792105e-2 / (238.0185 - sigma2) + 1.67917e-3 / (57.362 - sigma2))
    return vacuum


def fetch_miles(*, as_frame=False):
    """Load the 984 real MILES stellar spectra with Teff, logg and [Fe/H].

    The spectra are read, with :mod:`astropy.io.fits`, from the installed ``sdss-mangadap``
    package (BSD-3; ``pip install --no-deps sdss-mangadap``), which is located, not imported.
    Nothing is downloaded. All spectra share one wavelength grid, so none is resampled.

    ================== ===============================================
    Spectra            984
    Pixels             4300, 3540.5-7409.6 Å (air), steps of 0.9 Å
    Resolution         2.5 Å FWHM
    Flux               relative F_lambda, of order unity
    Labels             Teff, logg, [Fe/H] (some NaN)
    ================== ===============================================

    Parameters
    ----------
    as_frame : bool, default=False
        If True, ``flux`` is a pandas DataFrame whose columns are ``feature_names``. The label
        and id tables are DataFrames either way.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        flux : ndarray or DataFrame of shape (984, 4300), float64
            Flux-calibrated spectra in relative F_lambda units, as the MILES team normalised
            them (median of a spectrum between about 0.8 and 1.1). A few pixels at the ends
            of faint spectra are slightly negative (noise). No inverse variance is given.
        wavelength : ndarray of shape (4300,), float64
            Wavelength in Å, **in air** (the native MILES grid):
            ``3540.5 + 0.9 * np.arange(4300)``.
        wavelength_vacuum : ndarray of shape (4300,), float64
            The same pixels' wavelengths in vacuum, in Å (1.0-2.0 Å longer), to compare with
            SDSS spectra.
        labels : DataFrame of shape (984, 3)
            ``teff`` (K), ``logg`` (dex, cgs) and ``fe_h`` (dex) from ``paramsMILES_v9.1.txt``
            (Cenarro et al. 2007); NaN where MILES gives none: all three for m0407, m0443 and
            m0445, [Fe/H] for 36 more (many of them hot supergiants or M stars).
        ids : DataFrame of shape (984, 3)
            ``miles_id`` (int, the ``m????`` number of the file), ``name`` (star name) and
            ``spectral_type`` (as given by MILES; may be empty).
        resolution_fwhm : float
            2.5, the spectral resolution FWHM in Å.
        feature_names : ndarray of shape (4300,), object
            ``"flux_3540.5A"``, ..., ``"flux_7409.6A"`` (air wavelengths).
        DESCR : str
            Description of the data set: source, licence, references.

    Raises
    ------
    ImportError
        If sdss-mangadap is not installed. The message gives the command to install it:
        ``pip install --no-deps sdss-mangadap``.
    FileNotFoundError
        If sdss-mangadap is installed without its MILES files.
    ValueError
        If the MILES files are not all on one wavelength grid, or the parameter table lacks a
        star.

    See Also
    --------
    load_gaia_xp : Low-resolution (R ~ 50) Gaia XP spectra of APOGEE stars.

    Notes
    -----
    mangadap moves spectrum m0970 of the 985 MILES v9.1 stars to an ``omit/`` directory
    (a shortened wavelength range and a red-end artefact); it is not read. The parameter
    table writes the id of m0221 (HD 044691A) as ``022.``; it is read as 221. Reading the
    984 FITS files takes a few seconds.

    References
    ----------
    .. [1] Sánchez-Blázquez, P. et al. 2006, MNRAS 371, 703.
    .. [2] Cenarro, A. J. et al. 2007, MNRAS 374, 664.
    .. [3] Falcón-Barroso, J. et al. 2011, A&A 532, A95.

    Examples
    --------
    >>> from skspectra.datasets import fetch_miles
    >>> data = fetch_miles()  # doctest: +SKIP
    >>> data.flux.shape, data.wavelength[[0, -1]]  # doctest: +SKIP
    ((984, 4300), array([3540.5, 7409.6]))
    >>> data.labels.columns.tolist()  # doctest: +SKIP
    ['teff', 'logg', 'fe_h']
    """
    directory = _miles_directory()
    files = _spectrum_files(directory)
    params = _read_params(os.path.join(directory, _PARAMS_FILE))
    missing = sorted(set(files) - set(params.index))
    if missing:
        raise ValueError(f"{_PARAMS_FILE} has no row for MILES stars {missing[:5]}.")

    fluxes = []
    wavelength = None
    for miles_id, path in files.items():
        flux, grid = _read_spectrum(path)
        if wavelength is None:
            wavelength = grid
        elif grid.shape != wavelength.shape or not np.allclose(grid, wavelength, rtol=0, atol=1e-6):
            raise ValueError(
                f"MILES star m{miles_id:04d} is not on the wavelength grid of the others; "
                "resample the spectra with skspectra.preprocessing.resample_spectra first."
            )
        fluxes.append(flux)
    flux = np.vstack(fluxes)

    ids_index = list(files)
    table = params.loc[ids_index]
    labels = table[["teff", "logg", "fe_h"]].astype(np.float64).reset_index(drop=True)
    ids = pd.DataFrame(
        {
            "miles_id": np.asarray(ids_index, dtype=np.int64),
            "name": table["name"].to_numpy(dtype=object),
            "spectral_type": table["spectral_type"].to_numpy(dtype=object),
        }
    )
    feature_names = np.array([f"flux_{w:.1f}A" for w in wavelength], dtype=object)
    if as_frame:
        flux = pd.DataFrame(flux, columns=feature_names)
    return Bunch(
        flux=flux,
        wavelength=wavelength,
        wavelength_vacuum=_air_to_vacuum(wavelength),
        labels=labels,
        ids=ids,
        resolution_fwhm=MILES_FWHM,
        feature_names=feature_names,
        DESCR=_DESCR,
    )
