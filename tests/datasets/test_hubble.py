"""load_hubble_deep_field: stamps cut around sources in scikit-image's HDF rendering."""

import numpy as np
import pytest

from skspectra.datasets import load_hubble_deep_field


@pytest.fixture(scope="module")
def hdf():
    return load_hubble_deep_field(size=32)


def test_stamps(hdf):
    n = len(hdf.images)
    assert n >= 500
    assert hdf.images.shape == (n, 3, 32, 32)
    assert hdf.images.min() >= 0 and hdf.images.max() <= 1
    assert len(hdf.sources) == n and {"x", "y", "peak", "is_bright_star"} <= set(hdf.sources)
    # stamps are centred on their sources: the centre is brighter than the stamp's median
    gray = hdf.images.mean(axis=1)
    assert np.mean(gray[:, 15:17, 15:17].mean(axis=(1, 2)) > np.median(gray, axis=(1, 2))) > 0.95
    assert "not calibrated flux" in hdf.DESCR


def test_bright_star(hdf):
    assert hdf.sources.is_bright_star.sum() == 1
    star = hdf.sources.iloc[hdf.bright_star_index]
    assert star.is_bright_star and (star.x, star.y) == (754, 578)
    # the star saturates the rendering at its centre
    assert hdf.images[hdf.bright_star_index][:, 14:18, 14:18].min() > 0.9


def test_gray_and_bad_size():
    gray = load_hubble_deep_field(size=16, as_gray=True)
    assert gray.images.ndim == 3 and gray.images.shape[1:] == (16, 16)
    assert gray.image_shape == (1, 16, 16)
    with pytest.raises(ValueError, match="size"):
        load_hubble_deep_field(size=4)
