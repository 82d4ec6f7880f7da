import astropy.units as u
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from astropy.coordinates import SkyCoord  # noqa: E402
from astropy.io import fits  # noqa: E402
from astropy.wcs import WCS  # noqa: E402

from skspectra.io.cutouts import (  # noqa: E402
    cutouts_for_spectra,
    match_cutouts,
    read_cutouts,
    spectrum_positions,
)
from skspectra.plotting.cutouts import plot_cutout, spectrum_and_cutout_axes  # noqa: E402


def write_cutout(path, image, centre=None, pixel_arcsec=0.4):
    header = None
    if centre is not None:
        h, w = image.shape
        wcs = WCS(naxis=2)
        wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        wcs.wcs.crval = [centre.ra.deg, centre.dec.deg]
        wcs.wcs.crpix = [(w + 1) / 2, (h + 1) / 2]
        wcs.wcs.cdelt = [-pixel_arcsec / 3600, pixel_arcsec / 3600]
        header = wcs.to_header()
    fits.PrimaryHDU(image, header=header).writeto(path)


def test_read_fits_with_and_without_wcs_and_pictures(tmp_path):
    star = SkyCoord(150.0, 2.0, unit="deg")
    write_cutout(tmp_path / "a.fits", np.arange(48.0).reshape(6, 8), centre=star)
    write_cutout(tmp_path / "b.fits.gz", np.ones((1, 5, 5)))  # a degenerate axis is dropped
    plt.imsave(tmp_path / "c.png", np.random.default_rng(0).random((7, 9)))
    (tmp_path / "notes.txt").write_text("not an image")
    a, b, c = read_cutouts(tmp_path)
    assert (a.id, b.id, c.id) == ("a", "b", "c")
    assert a.image.shape == (6, 8) and a.image[0, 1] == 1.0 and a.origin == "lower"
    assert a.center.separation(star).arcsec < 1e-6
    assert b.image.shape == (5, 5) and b.wcs is None and b.center is None
    assert c.image.shape[:2] == (7, 9) and c.origin == "upper"


def test_read_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        read_cutouts(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="holds no image cutout"):
        read_cutouts(tmp_path)
    write_cutout(tmp_path / "cube.fits", np.ones((3, 4, 4)))
    with pytest.raises(ValueError, match="cube.fits.*2-D"):
        read_cutouts(tmp_path)
    (tmp_path / "cube.fits").unlink()
    (tmp_path / "x.fits").write_bytes(b"SIMPLE  = garbage")
    with pytest.raises(ValueError, match="x.fits"):
        read_cutouts(tmp_path)
    (tmp_path / "x.fits").unlink()
    write_cutout(tmp_path / "s.fits", np.ones((4, 4)))
    plt.imsave(tmp_path / "s.png", np.ones((4, 4)))
    with pytest.raises(ValueError, match="both cutouts of id 's'"):
        read_cutouts(tmp_path)


def test_positions_from_radec_labels_or_2mass_ids():
    ids = ["2M00000002+7417074", "plate-1-2", "other", "2M12000000-0000001"]
    labels = pd.DataFrame({"ra": [np.nan, 20.0, np.nan, 30.0], "dec": [np.nan, -1.0, np.nan, 5.0]})
    rows, coords = spectrum_positions(ids, labels)
    np.testing.assert_array_equal(rows, [0, 1, 3])
    np.testing.assert_allclose(coords.ra.deg[1:], [20.0, 30.0])  # labels win over the id
    assert coords[0].dec.deg == pytest.approx(74 + 17 / 60 + 7.45 / 3600)
    rows, _ = spectrum_positions(["a", "b"])
    assert rows.size == 0


def test_match_by_id_first_then_by_position(tmp_path):
    ids = ["2M00000002+7417074", "2M12000000-0000001", "2M06000000+3000000"]
    positions = spectrum_positions(ids)[1]
    write_cutout(tmp_path / f"{ids[0]}.fits", np.ones((8, 8)))
    near = positions[1].directional_offset_by(0 * u.deg, 1.0 * u.arcsec)
    write_cutout(tmp_path / "field7.fits", np.ones((8, 8)), centre=near)
    far = positions[2].directional_offset_by(0 * u.deg, 10.0 * u.arcsec)
    write_cutout(tmp_path / "field9.fits", np.ones((8, 8)), centre=far)
    matched, summary = cutouts_for_spectra(tmp_path, ids)
    assert set(matched) == {ids[0], ids[1]}
    assert matched[ids[0]].matched_by == "id"
    assert matched[ids[1]].matched_by == "position"
    assert matched[ids[1]].separation.arcsec == pytest.approx(1.0, abs=0.01)
    assert summary["matched_by_id"] == 1 and summary["matched_by_position"] == 1
    assert summary["unmatched_cutouts"] == ["field9.fits"]
    # a wider radius takes the far one too
    wide = match_cutouts(ids, read_cutouts(tmp_path), max_sep=15 * u.arcsec)
    assert wide[ids[2]].path.name == "field9.fits"


def test_plot_marks_the_spectrum_position(tmp_path):
    ids = ["2M12000000-0000001"]
    star = spectrum_positions(ids)[1][0]
    image = np.random.default_rng(0).normal(size=(16, 16))
    east = star.directional_offset_by(90 * u.deg, 2 * u.arcsec)
    write_cutout(tmp_path / "f.fits", image, centre=east)
    cutout = match_cutouts(ids, read_cutouts(tmp_path))[ids[0]]
    axes, image_ax = spectrum_and_cutout_axes()
    shown = plot_cutout(cutout, image_ax)
    np.testing.assert_array_equal(shown.get_array(), image)
    (marker,) = image_ax.lines
    x, y = marker.get_xdata()[0], marker.get_ydata()[0]
    # the centre is 2" east of the star, so the star is 5 pixels west: larger x (East left)
    assert x == pytest.approx(7.5 + 5, abs=0.05) and y == pytest.approx(7.5, abs=0.05)
    assert "matched by position, 2.00″" in image_ax.get_title()
    plt.close(axes[0].figure)
