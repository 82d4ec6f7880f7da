import numpy as np
import pytest

from skspectra.images import aperture_photometry


def test_uniform_image_gives_the_circle_area():
    images = np.full((2, 3, 41, 41), 2.0)
    flux = aperture_photometry(images, 10.0)
    assert flux.shape == (2, 3)
    np.testing.assert_allclose(flux, 2.0 * np.pi * 100, rtol=5e-3)


def test_a_point_inside_counts_fully_and_one_outside_not_at_all():
    image = np.zeros((15, 15))
    image[7, 7] = 5.0  # the centre pixel
    image[0, 0] = 100.0  # far outside a radius of 3
    assert aperture_photometry(image, 3.0) == pytest.approx(5.0)
    assert aperture_photometry(image, 3.0, center=(0, 0)) == pytest.approx(100.0 + 0.0)


def test_annulus_removes_a_flat_background():
    rng = np.random.default_rng(0)
    image = np.zeros((3, 31, 31)) + rng.normal(0, 0.01, (3, 31, 31)) + 7.0
    image[:, 15, 15] += 50.0
    flux = aperture_photometry(image, 4.0, annulus=(8, 12))
    np.testing.assert_allclose(flux, 50.0, atol=1.0)


@pytest.mark.parametrize(
    "images, kwargs, match",
    [
        (np.ones(5), {}, "must have shape"),
        (np.full((4, 4), np.nan), {}, "NaN"),
        (np.ones((4, 4)), {"radius": 0.0}, "positive"),
        (np.ones((4, 4)), {"annulus": (3, 2)}, "inner < outer"),
        (np.ones((4, 4)), {"annulus": (30, 40)}, "holds no pixel"),
    ],
)
def test_bad_input_raises_clearly(images, kwargs, match):
    kwargs = {"radius": 1.0} | kwargs
    with pytest.raises(ValueError, match=match):
        aperture_photometry(images, **kwargs)
