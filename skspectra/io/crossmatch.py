"""Match two catalogues by sky position, and read positions out of 2MASS designations."""

import re

import numpy as np
from sklearn.utils import Bunch

from ._errors import InputError

__all__ = ["crossmatch", "parse_2mass_designation"]

#: ``2M`` / ``2MASS J`` / ``J`` + hhmmssSS ± ddmmssS (APOGEE ids are ``2M`` + designation).
_DESIGNATION = re.compile(
    r"^\s*(?:2MASS\s*J|2MASX\s*J|2M|J)?"
    r"(\d{2})(\d{2})(\d{2})(\d{2})([+-])(\d{2})(\d{2})(\d{2})(\d)\s*$"
)
METHODS = ("one_to_one", "nearest")


def _as_skycoord(coords, name):
    from astropy.coordinates import SkyCoord

    if not isinstance(coords, SkyCoord):
        array = np.asarray(coords, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != 2:
            raise InputError(
                f"{name} must be an astropy SkyCoord or an (n, 2) array of (ra, dec) in "
                f"degrees, got shape {array.shape}."
            )
        coords = SkyCoord(array[:, 0], array[:, 1], unit="deg", frame="icrs")
    if coords.isscalar:
        raise InputError(f"{name} is a single position; wrap it in a list: SkyCoord([...]).")
    return coords


def _as_angle(max_sep):
    import astropy.units as u
    from astropy.coordinates import Angle

    if isinstance(max_sep, u.Quantity):
        if not max_sep.unit.is_equivalent(u.deg):
            raise InputError(f"max_sep must be an angle, got unit {max_sep.unit}.")
        angle = Angle(max_sep)
    else:
        try:
            angle = Angle(float(max_sep), u.arcsec)
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"max_sep must be an angle Quantity or a number of arcsec, got {max_sep!r}."
            ) from exc
    if not angle.isscalar or not np.isfinite(angle.value) or angle.value <= 0:
        raise InputError(f"max_sep must be one positive angle, got {max_sep!r}.")
    return angle


def crossmatch(coords1, coords2, max_sep=1.0, *, method="one_to_one"):
    """Pair the rows of two catalogues whose sky positions lie within ``max_sep``.

    Parameters
    ----------
    coords1, coords2 : astropy.coordinates.SkyCoord or array-like of shape (n, 2)
        Positions of the two catalogues, as SkyCoord arrays (any frame; astropy converts), or
        arrays of (ra, dec) in degrees (ICRS).
    max_sep : astropy Quantity (angle) or float, default=1.0
        Largest separation of a match; a plain number is in arcsec.
    method : {"one_to_one", "nearest"}, default="one_to_one"
        ``one_to_one``: every row is in at most one pair. All pairs closer than ``max_sep``
        (``SkyCoord.search_around_sky``) are taken greedily from the closest; a pair is kept
        if neither row is taken yet. So a row that loses its nearest partner to a closer pair
        may still match its second-nearest, and of two identical (duplicate) rows only the
        first (lowest index) is matched. ``nearest``: every row of ``coords1`` is paired with
        its nearest row of ``coords2`` (``SkyCoord.match_to_catalog_sky``) if within
        ``max_sep``; a row of ``coords2`` may then appear in several pairs.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        idx1, idx2 : ndarray of shape (n_matches,), int
            Row of ``coords1`` and row of ``coords2`` of each pair, sorted by ``idx1``.
        separation : astropy.coordinates.Angle of shape (n_matches,)
            Separation of each pair (in arcsec).
        unmatched1, unmatched2 : ndarray of int
            Rows of ``coords1`` (``coords2``) in no pair, in increasing order.

    Raises
    ------
    InputError
        If the coordinates are neither SkyCoord arrays nor (n, 2) arrays, ``max_sep`` is not
        a positive angle, or ``method`` is unknown.

    See Also
    --------
    parse_2mass_designation : Positions from 2MASS (and APOGEE) ids.

    Examples
    --------
    >>> from skspectra.io import crossmatch
    >>> spectra = [[10.0, 20.0], [30.0, -5.0]]
    >>> images = [[30.0, -5.0002], [50.0, 1.0]]
    >>> m = crossmatch(spectra, images, max_sep=1.0)
    >>> m.idx1, m.idx2, m.unmatched1, m.unmatched2
    (array([1]), array([0]), array([0]), array([1]))
    >>> round(float(m.separation[0].arcsec), 2)
    0.72
    """
    import astropy.units as u
    from astropy.coordinates import Angle, search_around_sky

    if method not in METHODS:
        raise InputError(f"method must be one of {METHODS}, got {method!r}.")
    c1, c2 = _as_skycoord(coords1, "coords1"), _as_skycoord(coords2, "coords2")
    max_sep = _as_angle(max_sep)
    n1, n2 = len(c1), len(c2)
    if n1 == 0 or n2 == 0:
        i1 = i2 = np.empty(0, dtype=np.intp)
        sep = Angle(np.empty(0), u.arcsec)
    elif method == "nearest":
        nearest, sep, _ = c1.match_to_catalog_sky(c2)
        close = sep <= max_sep
        i1, i2, sep = np.flatnonzero(close), np.asarray(nearest)[close], sep[close]
    else:
        a, b, sep, _ = search_around_sky(c1, c2, max_sep)
        order = np.lexsort((b, a, sep.to_value(u.arcsec)))
        used1, used2 = np.zeros(n1, dtype=bool), np.zeros(n2, dtype=bool)
        keep = []
        for k in order:
            if not used1[a[k]] and not used2[b[k]]:
                used1[a[k]] = used2[b[k]] = True
                keep.append(k)
        keep = np.asarray(keep, dtype=np.intp)
        keep = keep[np.argsort(a[keep], kind="stable")]
        i1, i2, sep = a[keep], b[keep], sep[keep]
    return Bunch(
        idx1=np.asarray(i1, dtype=np.intp),
        idx2=np.asarray(i2, dtype=np.intp),
        separation=Angle(sep).to(u.arcsec),
        unmatched1=np.setdiff1d(np.arange(n1), i1),
        unmatched2=np.setdiff1d(np.arange(n2), i2),
    )


def parse_2mass_designation(designations):
    """Sky positions encoded in 2MASS designations, such as APOGEE ids.

    A 2MASS All-Sky designation is ``Jhhmmss.ss±ddmmss.s`` without the points; APOGEE writes
    it after ``2M`` (``2M00000002+7417074``). ``2MASS J``, ``2MASX J``, ``J`` or no prefix are
    accepted too.

    Parameters
    ----------
    designations : str or sequence of str
        The ids.

    Returns
    -------
    coords : astropy.coordinates.SkyCoord of shape (n,)
        ICRS (J2000) positions, one per id (an array even for one id).

    Raises
    ------
    InputError
        Naming the first id that does not have the form above (APOGEE also has ids of other
        forms, for stars outside 2MASS), or one with minutes or seconds >= 60.

    Notes
    -----
    2MASS truncates the decimals of its designations (IAU convention), so the true position
    lies up to 0.01 s of RA and 0.1" of Dec further from zero. This function returns the middle
    of that box (it adds 0.005 s and 0.05"), which halves the 2MASS worst case of 0.149" in RA
    and 0.0996" in Dec [1]_. Use a ``max_sep`` of at least 0.2" when matching on them.

    References
    ----------
    .. [1] 2MASS All-Sky Data Release Explanatory Supplement, I.8.a, "2MASS Source Naming
       Convention" (Cutri et al. 2003).

    Examples
    --------
    >>> from skspectra.io import parse_2mass_designation
    >>> c = parse_2mass_designation(["2M00000002+7417074", "2M12381140-0539416"])
    >>> c.to_string("hmsdms", precision=3)
    ['00h00m00.025s +74d17m07.450s', '12h38m11.405s -05d39m41.650s']
    """
    from astropy.coordinates import SkyCoord

    names = [designations] if isinstance(designations, str) else list(designations)
    parts = np.empty((len(names), 9), dtype=np.float64)
    sign = np.empty(len(names))
    for k, name in enumerate(names):
        match = _DESIGNATION.match(str(name))
        if match is None:
            raise InputError(
                f"{name!r} is not a 2MASS designation (2Mhhmmssss+ddmmsss, as in "
                "'2M00000002+7417074'); keep such rows out or give positions another way."
            )
        groups = match.groups()
        sign[k] = -1.0 if groups[4] == "-" else 1.0
        parts[k] = [float(g) for g in groups[:4]] + [0.0] + [float(g) for g in groups[5:]]
    hh, mm, ss, cs, _, dd, am, asec, ds = parts.T
    if np.any(mm >= 60) or np.any(ss >= 60) or np.any(am >= 60) or np.any(asec >= 60):
        bad = np.flatnonzero((mm >= 60) | (ss >= 60) | (am >= 60) | (asec >= 60))[0]
        raise InputError(f"{names[bad]!r} has minutes or seconds >= 60; it is not a position.")
    ra_seconds = hh * 3600 + mm * 60 + ss + (cs + 0.5) / 100
    dec_arcsec = dd * 3600 + am * 60 + asec + (ds + 0.5) / 10
    return SkyCoord(ra_seconds * 15 / 3600, sign * dec_arcsec / 3600, unit="deg", frame="icrs")
