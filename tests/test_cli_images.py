"""``skspectra anomalies --images DIR``: each plotted anomaly beside its image cutout."""

import json

import astropy.units as u
import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from skspectra.datasets import load_gaia_xp, make_image_spectrum_pairs
from skspectra.io import parse_2mass_designation

N_STARS = 20


def write_cutout(path, image, centre=None):
    header = None
    if centre is not None:
        wcs = WCS(naxis=2)
        wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        wcs.wcs.crval = [centre.ra.deg, centre.dec.deg]
        wcs.wcs.crpix = [(image.shape[1] + 1) / 2, (image.shape[0] + 1) / 2]
        wcs.wcs.cdelt = [-0.396 / 3600, 0.396 / 3600]
        header = wcs.to_header()
    fits.PrimaryHDU(image.astype(np.float32), header=header).writeto(path)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """20 real stars in an npz table, and simulated r-band cutouts of 16 of them: 10 named by
    id, 6 named otherwise with a WCS centred 0.5" from the star, and one far from every star."""
    root = tmp_path_factory.mktemp("cli_images")
    gaia = load_gaia_xp()
    ids = np.asarray(gaia.ids["apogee_id"][:N_STARS], dtype="U")
    np.savez(
        root / "stars.npz",
        flux=gaia.flux[:N_STARS],
        ivar=gaia.ivar[:N_STARS],
        wavelength=gaia.wavelength,
        ids=ids,
    )
    images = make_image_spectrum_pairs(
        gaia.flux[:N_STARS], gaia.wavelength, bands=["sdss2010-r"], image_size=16, random_state=0
    ).images[:, 0]
    folder = root / "cutouts"
    folder.mkdir()
    stars = parse_2mass_designation(ids)
    for k in range(10):
        write_cutout(folder / f"{ids[k]}.fits", images[k])
    for k in range(10, 16):
        centre = stars[k].directional_offset_by(45 * u.deg, 0.5 * u.arcsec)
        write_cutout(folder / f"field_{k}.fits", images[k], centre=centre)
    far = stars[0].directional_offset_by(0 * u.deg, 1 * u.deg)
    write_cutout(folder / "far_away.fits", images[0], centre=far)
    return root, ids


def test_every_anomaly_with_a_cutout_is_drawn_beside_it(case, run_cli):
    root, ids = case
    result = run_cli(
        "anomalies", "stars.npz", "--images", "cutouts", "--epochs", "1", "--top", str(N_STARS),
        "--quiet", "--out", "rep", cwd=root,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "17 image cutouts, 10 matched by id and 6 by position" in result.stderr
    run = json.loads((root / "rep" / "run.json").read_text())
    assert run["images"]["matched_by_id"] == 10 and run["images"]["matched_by_position"] == 6
    assert run["images"]["unmatched_cutouts"] == ["far_away.fits"]
    ranked = pd.read_csv(root / "rep" / "anomalies.csv")["id"]  # figures are in rank order
    widths = {
        star: matplotlib.image.imread(root / "rep" / name).shape[1]
        for star, name in zip(ranked, run["figures"], strict=False)
    }
    assert len(widths) == N_STARS
    with_image = [widths[i] for i in ids[:16]]
    without = [widths[i] for i in ids[16:]]
    # the cutout panel makes those figures wider than the spectrum-only ones
    assert min(with_image) > 1.2 * max(without)


def test_missing_image_directory_fails_fast_in_one_line(case, run_cli):
    root, _ = case
    result = run_cli("anomalies", "stars.npz", "--images", "no_such_dir", cwd=root)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "no_such_dir" in result.stderr
