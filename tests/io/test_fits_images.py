"""read_fits_images on every variety of FITS image file, each written here with astropy."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from skspectra.io import read_fits_images


def galaxy(shape=(64, 48), centre=None, sigma=5.0, amplitude=100.0):
    """A smooth round source on a zero background, float64."""
    y, x = np.indices(shape)
    cy, cx = centre if centre is not None else ((shape[0] - 1) / 2, (shape[1] - 1) / 2)
    return amplitude * np.exp(-0.5 * ((x - cx) ** 2 + (y - cy) ** 2) / sigma**2)


def celestial_wcs(shape, ra=150.1, dec=2.2, scale_arcsec=0.5):
    """A TAN WCS whose reference pixel is the image centre."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [(shape[1] + 1) / 2, (shape[0] + 1) / 2]  # FITS pixels are 1-based
    wcs.wcs.cdelt = [-scale_arcsec / 3600, scale_arcsec / 3600]
    return wcs


def test_2d_float_image_with_wcs(tmp_path):
    data = galaxy().astype(np.float32)
    header = celestial_wcs(data.shape).to_header()
    header["BUNIT"] = "electron/s"
    header["OBJECT"] = "NGC 1"
    fits.PrimaryHDU(data, header=header).writeto(tmp_path / "g.fits")
    images, meta = read_fits_images(tmp_path / "g.fits")
    assert images.shape == (1, 1, 64, 48) and images.dtype == np.float64
    np.testing.assert_array_equal(images[0, 0], data)
    row = meta.iloc[0]
    assert row["file"].endswith("g.fits") and row["hdu"] == 0 and row["extname"] == "PRIMARY"
    assert row["shape"] == (64, 48) and row["bitpix"] == -32
    assert row["bunit"] == "electron/s" and row["object"] == "NGC 1"
    assert row["ra"] == pytest.approx(150.1, abs=1e-9)
    assert row["dec"] == pytest.approx(2.2, abs=1e-9)
    assert row["pixel_scale"] == pytest.approx(0.5)
    assert row["n_blank"] == 0 and row["flux_factor"] == 1.0


def test_centre_off_the_reference_pixel(tmp_path):
    # reference pixel at the corner: the centre lies (nx-1)/2 pixels east-west of it
    data = np.zeros((11, 21), dtype=np.float32)
    wcs = celestial_wcs(data.shape, ra=10.0, dec=0.0, scale_arcsec=3.6)
    wcs.wcs.crpix = [1, 1]
    fits.PrimaryHDU(data, header=wcs.to_header()).writeto(tmp_path / "c.fits")
    _, meta = read_fits_images(tmp_path / "c.fits")
    # 10 pixels of -0.001 deg in RA and 5 of +0.001 deg in Dec at the equator
    assert meta["ra"][0] == pytest.approx(10.0 - 0.010, abs=1e-7)
    assert meta["dec"][0] == pytest.approx(0.005, abs=1e-7)


def test_no_wcs_gives_nan_coordinates(tmp_path):
    fits.PrimaryHDU(np.ones((8, 8))).writeto(tmp_path / "plain.fits")
    images, meta = read_fits_images(tmp_path / "plain.fits")
    assert np.isnan(meta["ra"][0]) and np.isnan(meta["dec"][0])
    assert meta["bitpix"][0] == -64 and meta["bunit"][0] is None


@pytest.mark.parametrize(
    ("dtype", "bitpix", "bscale", "bzero"),
    [
        ("uint8", 8, 2.0, -10.0),
        ("int16", 16, 0.5, 100.0),
        ("int32", 32, 0.25, -3.0),
    ],
)
def test_scaled_integer_images_give_physical_values(tmp_path, dtype, bitpix, bscale, bzero):
    rng = np.random.default_rng(0)
    raw = rng.integers(0, 200, size=(16, 12)).astype(dtype)
    physical = raw * bscale + bzero  # what the file means, computed here by hand
    hdu = fits.PrimaryHDU(physical.copy())  # scale() rewrites the array in place
    hdu.scale(dtype, bscale=bscale, bzero=bzero)
    hdu.writeto(tmp_path / "s.fits")
    with fits.open(tmp_path / "s.fits", do_not_scale_image_data=True) as hdul:
        assert hdul[0].header["BITPIX"] == bitpix  # stored as scaled integers
        np.testing.assert_array_equal(hdul[0].data, raw)
    images, meta = read_fits_images(tmp_path / "s.fits")
    np.testing.assert_allclose(images[0, 0], physical, rtol=0, atol=1e-12)
    assert meta["bitpix"][0] == bitpix


@pytest.mark.parametrize(("dtype", "bitpix"), [("float32", -32), ("float64", -64), ("int64", 64)])
def test_unscaled_bitpix(tmp_path, dtype, bitpix):
    data = (np.arange(30).reshape(5, 6) - 7).astype(dtype)
    fits.PrimaryHDU(data).writeto(tmp_path / "u.fits")
    images, meta = read_fits_images(tmp_path / "u.fits")
    np.testing.assert_array_equal(images[0, 0], data.astype(float))
    assert meta["bitpix"][0] == bitpix


def test_integer_blank_becomes_nan(tmp_path):
    raw = np.arange(20, dtype=np.int16).reshape(4, 5)
    raw[1, 2] = -32768
    hdu = fits.PrimaryHDU(raw)
    hdu.header["BLANK"] = -32768
    hdu.writeto(tmp_path / "blank.fits")
    # with BSCALE too: astropy itself turns BLANK into NaN
    scaled = fits.PrimaryHDU(raw)
    scaled.header["BLANK"] = -32768
    scaled.header["BSCALE"] = 2.0
    scaled.header["BZERO"] = 1.0
    scaled.writeto(tmp_path / "blank_scaled.fits", output_verify="silentfix")
    images, meta = read_fits_images([tmp_path / "blank.fits", tmp_path / "blank_scaled.fits"])
    for k, (scale, zero) in enumerate([(1.0, 0.0), (2.0, 1.0)]):
        assert np.isnan(images[k, 0, 1, 2])
        finite = np.ones(raw.shape, bool)
        finite[1, 2] = False
        np.testing.assert_array_equal(images[k, 0][finite], raw[finite] * scale + zero)
    assert list(meta["n_blank"]) == [1, 1]


def test_nan_blanks_kept_as_nan(tmp_path):
    data = galaxy((32, 32))
    data[4:8, 10:14] = np.nan
    fits.PrimaryHDU(data).writeto(tmp_path / "holes.fits")
    images, meta = read_fits_images(tmp_path / "holes.fits")
    assert meta["n_blank"][0] == 16
    np.testing.assert_array_equal(np.isnan(images[0, 0]), np.isnan(data))


def test_resizing_keeps_a_blank_region_masked_and_the_rest_finite(tmp_path):
    full = galaxy((64, 64), sigma=12)
    holes = full.copy()
    holes[:16, :16] = np.nan  # becomes output pixels [:4, :4] at size 16
    fits.PrimaryHDU(holes).writeto(tmp_path / "holes.fits")
    fits.PrimaryHDU(full).writeto(tmp_path / "full.fits")
    out = read_fits_images(tmp_path / "holes.fits", size=16)[0][0, 0]
    ref = read_fits_images(tmp_path / "full.fits", size=16)[0][0, 0]
    assert np.isnan(out[:3, :3]).all()  # well inside the blank block
    assert np.isfinite(out[5:, :]).all() and np.isfinite(out[:, 5:]).all()
    # far from the block the blanks change nothing; next to it they are left out of the
    # interpolation instead of pulling the values towards zero or NaN
    np.testing.assert_allclose(out[8:, 8:], ref[8:, 8:], rtol=1e-12)
    finite = np.isfinite(out)
    np.testing.assert_allclose(out[finite], ref[finite], rtol=0.1)


def test_cube_one_plane_or_all_planes(tmp_path):
    cube = np.stack([galaxy((20, 30), amplitude=a) for a in (1.0, 2.0, 3.0)]).astype(np.float32)
    header = fits.Header()
    header["CTYPE3"] = "WAVE"
    fits.PrimaryHDU(cube, header=header).writeto(tmp_path / "cube.fits")
    all_planes, meta = read_fits_images(tmp_path / "cube.fits")
    assert all_planes.shape == (1, 3, 20, 30)
    np.testing.assert_array_equal(all_planes[0], cube)
    assert meta["shape"][0] == (3, 20, 30) and meta["plane"][0] is None
    one, meta = read_fits_images(tmp_path / "cube.fits", plane=1)
    assert one.shape == (1, 1, 20, 30)
    np.testing.assert_array_equal(one[0, 0], cube[1])
    assert meta["plane"][0] == 1
    last, meta = read_fits_images(tmp_path / "cube.fits", plane=-1)
    np.testing.assert_array_equal(last[0, 0], cube[2])
    assert meta["plane"][0] == 2
    resized, _ = read_fits_images(tmp_path / "cube.fits", size=(10, 15))
    assert resized.shape == (1, 3, 10, 15)
    # planes are resized one by one: plane k is still k times plane 0
    np.testing.assert_allclose(resized[0, 2], 3 * resized[0, 0], rtol=1e-6)


def test_cube_with_celestial_wcs_and_degenerate_axes(tmp_path):
    image = galaxy((12, 10))
    wcs = WCS(naxis=4)
    wcs.wcs.ctype = ["RA---SIN", "DEC--SIN", "FREQ", "STOKES"]
    wcs.wcs.crval = [45.0, -30.0, 1.4e9, 1]
    wcs.wcs.crpix = [5.5, 6.5, 1, 1]
    wcs.wcs.cdelt = [-1 / 3600, 1 / 3600, 1e6, 1]
    fits.PrimaryHDU(image[None, None], header=wcs.to_header()).writeto(tmp_path / "radio.fits")
    images, meta = read_fits_images(tmp_path / "radio.fits")
    assert images.shape == (1, 1, 12, 10)
    np.testing.assert_array_equal(images[0, 0], image)
    assert meta["shape"][0] == (1, 1, 12, 10)
    assert meta["ra"][0] == pytest.approx(45.0) and meta["dec"][0] == pytest.approx(-30.0)
    assert meta["pixel_scale"][0] == pytest.approx(1.0)


def test_empty_primary_then_image_extension(tmp_path):
    data = galaxy((16, 16))
    header = celestial_wcs(data.shape, ra=200.0, dec=-45.0).to_header()
    fits.HDUList(
        [
            fits.PrimaryHDU(),
            fits.BinTableHDU.from_columns([fits.Column("a", "E", array=[1.0])]),
            fits.ImageHDU(data, header=header, name="SCI"),
        ]
    ).writeto(tmp_path / "ext.fits")
    images, meta = read_fits_images(tmp_path / "ext.fits")
    np.testing.assert_array_equal(images[0, 0], data)
    assert meta["hdu"][0] == 2 and meta["extname"][0] == "SCI"
    assert meta["ra"][0] == pytest.approx(200.0) and meta["dec"][0] == pytest.approx(-45.0)
    by_name, meta = read_fits_images(tmp_path / "ext.fits", hdu="SCI")
    np.testing.assert_array_equal(by_name, images)
    by_index, _ = read_fits_images(tmp_path / "ext.fits", hdu=2)
    np.testing.assert_array_equal(by_index, images)
    by_negative, meta = read_fits_images(tmp_path / "ext.fits", hdu=-1)
    np.testing.assert_array_equal(by_negative, images)
    assert meta["hdu"][0] == 2


def test_compressed_hdu(tmp_path):
    rng = np.random.default_rng(1)
    data = rng.integers(-1000, 1000, size=(40, 40)).astype(np.int32)
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, compression_type="RICE_1")]).writeto(
        tmp_path / "c.fits.fz"
    )
    with fits.open(tmp_path / "c.fits.fz", disable_image_compression=True) as hdul:
        assert isinstance(hdul[1], fits.BinTableHDU)  # really stored compressed
    images, meta = read_fits_images(tmp_path / "c.fits.fz")
    np.testing.assert_array_equal(images[0, 0], data)  # lossless for integers
    assert meta["hdu"][0] == 1 and meta["bitpix"][0] == 32
    # a lossy float compression (quantised) gives the values to within the quantisation
    floats = galaxy((40, 40)).astype(np.float32) + rng.normal(0, 1, (40, 40)).astype(np.float32)
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(floats)]).writeto(tmp_path / "f.fits.fz")
    images, _ = read_fits_images(tmp_path / "f.fits.fz")
    np.testing.assert_allclose(images[0, 0], floats, atol=0.2)


def test_directories_and_lists(tmp_path):
    folder = tmp_path / "stamps"
    folder.mkdir()
    for k, name in enumerate(["b.fits", "a.fit", "c.fits.gz"]):
        fits.PrimaryHDU(np.full((6, 6), float(k))).writeto(folder / name)
    (folder / "notes.txt").write_text("not an image")
    (folder / "sub").mkdir()
    fits.PrimaryHDU(np.zeros((6, 6))).writeto(folder / "sub" / "deeper.fits")
    fits.PrimaryHDU(np.full((6, 6), 9.0)).writeto(tmp_path / "extra.fits")
    images, meta = read_fits_images([folder, str(tmp_path / "extra.fits")])
    names = [f.rsplit("/", 1)[-1] for f in meta["file"]]
    assert names == ["a.fit", "b.fits", "c.fits.gz", "extra.fits"]  # sorted, then as given
    np.testing.assert_array_equal(images[:, 0, 0, 0], [1.0, 0.0, 2.0, 9.0])


def test_resize_does_not_conserve_flux_by_default(tmp_path):
    data = galaxy((96, 96), sigma=10)
    fits.PrimaryHDU(data).writeto(tmp_path / "g.fits")
    images, meta = read_fits_images(tmp_path / "g.fits", size=32)
    assert images.shape == (1, 1, 32, 32) and meta["flux_factor"][0] == 1.0
    # surface brightness is kept: the peak and the mean stay, the sum shrinks by 9
    assert images.max() == pytest.approx(data.max(), rel=0.05)
    assert images.sum() == pytest.approx(data.sum() / 9, rel=0.01)


def test_resize_conserves_flux_on_request(tmp_path):
    data = galaxy((96, 80), sigma=10)
    fits.PrimaryHDU(data).writeto(tmp_path / "g.fits")
    for size in (32, (24, 40), 128):
        images, meta = read_fits_images(tmp_path / "g.fits", size=size, conserve_flux=True)
        assert images.sum() == pytest.approx(data.sum(), rel=0.01), size
        out_pixels = images.shape[2] * images.shape[3]
        assert meta["flux_factor"][0] == pytest.approx(96 * 80 / out_pixels)


def test_shapes_must_agree_without_size(tmp_path):
    fits.PrimaryHDU(np.zeros((8, 8))).writeto(tmp_path / "a.fits")
    fits.PrimaryHDU(np.zeros((8, 9))).writeto(tmp_path / "b.fits")
    with pytest.raises(ValueError, match=r"differ in shape.*b\.fits.*size="):
        read_fits_images(tmp_path)
    images, _ = read_fits_images(tmp_path, size=4)
    assert images.shape == (2, 1, 4, 4)


def test_bad_files_name_the_file(tmp_path):
    good = galaxy((32, 32)).astype(np.float32)
    fits.PrimaryHDU(good).writeto(tmp_path / "good.fits")
    whole = (tmp_path / "good.fits").read_bytes()
    (tmp_path / "truncated.fits").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "cut_header.fits").write_bytes(whole[:1000])
    (tmp_path / "text.fits").write_text("this is not FITS\n" * 100)
    fits.HDUList(
        [fits.PrimaryHDU(), fits.BinTableHDU.from_columns([fits.Column("a", "E", array=[1.0])])]
    ).writeto(tmp_path / "table.fits")
    fits.PrimaryHDU(np.arange(5.0)).writeto(tmp_path / "spectrum.fits")
    fits.PrimaryHDU(np.zeros((2, 3, 4, 5))).writeto(tmp_path / "hypercube.fits")
    cases = [
        ("missing.fits", {}, "no such file"),
        ("truncated.fits", {}, "not a readable FITS file"),
        ("cut_header.fits", {}, "not a readable FITS file"),
        ("text.fits", {}, "not a readable FITS file"),
        ("table.fits", {}, "no image HDU"),
        ("spectrum.fits", {}, "no image HDU"),
        ("good.fits", {"hdu": 3}, "no HDU 3"),
        ("good.fits", {"hdu": "SCI"}, "no HDU 'SCI'"),
        ("table.fits", {"hdu": 1}, "holds no image"),
        ("hypercube.fits", {}, "4 axes"),
    ]
    for name, kwargs, message in cases:
        paths = [tmp_path / name] if kwargs else [tmp_path / "good.fits", tmp_path / name]
        with pytest.raises(ValueError, match=message) as exc:
            read_fits_images(paths, **kwargs)
        assert name in str(exc.value), (name, str(exc.value))


def test_bad_arguments(tmp_path):
    cube = np.zeros((3, 4, 4))
    fits.PrimaryHDU(cube).writeto(tmp_path / "cube.fits")
    with pytest.raises(ValueError, match=r"cube\.fits: plane=3 is out of range"):
        read_fits_images(tmp_path / "cube.fits", plane=3)
    with pytest.raises(ValueError, match="no paths"):
        read_fits_images([])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no FITS images found in .*empty"):
        read_fits_images(empty)
    for size in (0, (4,), "big", (4, -1)):
        with pytest.raises(ValueError, match="size must be"):
            read_fits_images(tmp_path / "cube.fits", size=size)
    with pytest.raises(ValueError, match="plane must be"):
        read_fits_images(tmp_path / "cube.fits", plane=1.5)
    with pytest.raises(ValueError, match="conserve_flux"):
        read_fits_images(tmp_path / "cube.fits", conserve_flux=True)
