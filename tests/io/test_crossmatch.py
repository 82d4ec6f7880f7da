import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import Angle, SkyCoord

from skspectra.datasets import load_gaia_xp
from skspectra.io import crossmatch, parse_2mass_designation


@pytest.fixture(scope="module")
def stars():
    """Positions of the 3,000 real Gaia XP / APOGEE stars, from their 2MASS designations."""
    return parse_2mass_designation(load_gaia_xp().ids["apogee_id"])


def designation(ra_deg, dec_deg):
    """2MASS-style designation, written as 2MASS does: every field truncated, not rounded."""
    ra_cs = int(np.floor(ra_deg / 15 * 3600 * 100))  # hundredths of a second of time
    hh, rest = divmod(ra_cs, 360000)
    mm, rest = divmod(rest, 6000)
    dec_ds = int(np.floor(abs(dec_deg) * 3600 * 10))  # tenths of an arcsec
    dd, drest = divmod(dec_ds, 36000)
    am, drest = divmod(drest, 600)
    sign = "-" if dec_deg < 0 else "+"
    return f"2M{hh:02d}{mm:02d}{rest:04d}{sign}{dd:02d}{am:02d}{drest:03d}"


def test_parse_hand_worked_designations():
    c = parse_2mass_designation(["2M00000002+7417074", "2M12000000-0000001", "J23595999-8959599"])
    # RA 0.02 s (+0.005 s, the middle of the truncation box) = 0.375", Dec 74°17'07.45"
    ra_seconds = [0.025, 12 * 3600 + 0.005, 86399.995]
    np.testing.assert_allclose(c.ra.deg, np.array(ra_seconds) * 15 / 3600)
    np.testing.assert_allclose(
        c.dec.deg, [74 + 17 / 60 + 7.45 / 3600, -0.15 / 3600, -(89 + 59 / 60 + 59.95 / 3600)]
    )
    assert parse_2mass_designation("2MASS J00000002+7417074").shape == (1,)


def test_parse_recovers_positions_to_the_truncation_limit():
    rng = np.random.default_rng(0)
    ra = rng.uniform(0, 360, 500)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, 500)))
    parsed = parse_2mass_designation([designation(r, d) for r, d in zip(ra, dec, strict=True)])
    sep = parsed.separation(SkyCoord(ra, dec, unit="deg")).arcsec
    # half of 2MASS's worst case (0.149" in RA, 0.0996" in Dec), combined
    assert sep.max() <= np.hypot(0.0745, 0.0498) + 1e-6


def test_parse_refuses_other_ids():
    with pytest.raises(ValueError, match="'AP17153858-2835520x' is not a 2MASS designation"):
        parse_2mass_designation(["2M00000002+7417074", "AP17153858-2835520x"])
    with pytest.raises(ValueError, match=">= 60"):
        parse_2mass_designation(["2M00610002+7417074"])


def test_real_positions_are_all_over_the_sky(stars):
    assert len(stars) == 3000
    assert stars.ra.deg.min() < 10 and stars.ra.deg.max() > 350
    assert stars.dec.deg.min() < -60 and stars.dec.deg.max() > 60


def test_shuffled_copy_matches_back(stars):
    perm = np.random.default_rng(1).permutation(len(stars))
    m = crossmatch(stars, stars[perm], max_sep=0.1 * u.arcsec)
    np.testing.assert_array_equal(m.idx1, np.arange(len(stars)))
    np.testing.assert_array_equal(perm[m.idx2], m.idx1)
    assert m.unmatched1.size == 0 and m.unmatched2.size == 0
    assert np.all(m.separation.arcsec < 1e-6)


@pytest.mark.parametrize("method", ["one_to_one", "nearest"])
def test_perturbed_real_positions_are_recovered_and_far_ones_excluded(stars, method):
    rng = np.random.default_rng(2)
    n = len(stars)
    offset = np.where(np.arange(n) % 10 == 0, 5.0, 0.5)  # every 10th star moves 5"
    moved = stars.directional_offset_by(rng.uniform(0, 360, n) * u.deg, offset * u.arcsec)
    perm = rng.permutation(n)
    m = crossmatch(stars, moved[perm], max_sep=2.0, method=method)  # 2 = 2 arcsec
    far = np.flatnonzero(offset == 5.0)
    np.testing.assert_array_equal(m.unmatched1, far)
    np.testing.assert_array_equal(np.sort(perm[m.unmatched2]), far)
    np.testing.assert_array_equal(perm[m.idx2], m.idx1)
    assert isinstance(m.separation, Angle)
    np.testing.assert_allclose(m.separation.arcsec, 0.5, atol=1e-6)


def test_one_to_one_gives_the_loser_its_next_partner_and_nearest_does_not():
    arcsec = 1 / 3600
    c1 = [[10.0, 0.0], [10.0, 0.3 * arcsec]]
    c2 = [[10.0, 0.1 * arcsec], [10.0, 1.0 * arcsec]]
    one = crossmatch(c1, c2, max_sep=1.0)
    np.testing.assert_array_equal(one.idx2, [0, 1])
    near = crossmatch(c1, c2, max_sep=1.0, method="nearest")
    np.testing.assert_array_equal(near.idx2, [0, 0])
    np.testing.assert_array_equal(near.unmatched2, [1])


def test_duplicate_rows_match_once_in_one_to_one(stars):
    c2 = stars[[5, 5, 7]]
    one = crossmatch(stars[[5, 7]], c2, max_sep=0.5)
    np.testing.assert_array_equal(one.idx2, [0, 2])
    np.testing.assert_array_equal(one.unmatched2, [1])
    near = crossmatch(stars[[5, 5]], stars[[5]], max_sep=0.5, method="nearest")
    np.testing.assert_array_equal(near.idx2, [0, 0])


def test_max_sep_as_number_or_quantity_and_empty_catalogues(stars):
    a = crossmatch(stars[:50], stars[:50], max_sep=1.0)
    b = crossmatch(stars[:50], stars[:50], max_sep=1 / 3600 * u.deg)
    np.testing.assert_array_equal(a.idx2, b.idx2)
    empty = crossmatch(stars[:0], stars[:4], max_sep=1.0)
    assert empty.idx1.size == 0 and empty.separation.size == 0
    np.testing.assert_array_equal(empty.unmatched2, np.arange(4))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_sep": 1 * u.m}, "angle"),
        ({"max_sep": -1.0}, "positive"),
        ({"max_sep": "far"}, "arcsec"),
        ({"method": "best"}, "method"),
    ],
)
def test_bad_arguments_say_what_to_fix(stars, kwargs, match):
    with pytest.raises(ValueError, match=match):
        crossmatch(stars[:3], stars[:3], **kwargs)


def test_bad_coordinates_say_what_to_fix(stars):
    with pytest.raises(ValueError, match=r"\(n, 2\) array"):
        crossmatch(np.zeros((3, 3)), stars)
    with pytest.raises(ValueError, match="single position"):
        crossmatch(stars[0], stars)
