import numpy as np
import pytest

from skspectra.spectra import anomalous_regions


def test_runs_above_threshold_in_both_signs():
    z = np.array([0.0, 6.0, 7.0, 0.0, 0.0, -9.0, -6.0, -5.5, 0.0, 5.1])
    wavelength = 4000.0 + 2.0 * np.arange(z.size)
    regions = anomalous_regions(z, wavelength, threshold=5.0)
    assert [(r["start"], r["stop"]) for r in regions] == [(1, 3), (5, 8), (9, 10)]
    assert [r["peak"] for r in regions] == [7.0, -9.0, 5.1]
    # the outer edges of pixels 5 and 7 (centres 4010 and 4014 Å, 2 Å wide)
    assert regions[1]["wavelength_min"] == 4009.0 and regions[1]["wavelength_max"] == 4015.0


@pytest.mark.parametrize("index", [0, 3, 9])
def test_a_one_pixel_region_is_as_wide_as_its_pixel(index):
    """Not "4180-4180": a region spans at least one pixel, also at either end of the grid."""
    z = np.zeros(10)
    z[index] = 8.0
    wavelength = 4000.0 * 1.001 ** np.arange(z.size)  # log-linear: pixels widen to the red
    (region,) = anomalous_regions(z, wavelength)
    assert region["wavelength_min"] < wavelength[index] < region["wavelength_max"]
    step = wavelength[1 if index == 0 else index] - wavelength[0 if index == 0 else index - 1]
    width = region["wavelength_max"] - region["wavelength_min"]
    assert width == pytest.approx(step, rel=2e-3)


def test_min_pixels_and_nan():
    z = np.array([np.nan, 8.0, 0.0, 8.0, 8.0, 8.0])
    assert [(r["start"], r["stop"]) for r in anomalous_regions(z, min_pixels=2)] == [(3, 6)]
    assert anomalous_regions(np.zeros(5)) == []


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((np.zeros((2, 3)),), {}, "1-D"),
        ((np.zeros(3), np.zeros(4)), {}, "wavelength has shape"),
        ((np.zeros(3),), {"threshold": 0}, "threshold must be positive"),
    ],
)
def test_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        anomalous_regions(*args, **kwargs)
