import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from skspectra import SpectralCAE
from skspectra.plotting import ReconstructionDisplay


def test_display_from_arrays_shades_regions():
    wavelength = np.linspace(4000, 5000, 50)
    flux = np.ones(50)
    z = np.zeros(50)
    z[10:13] = 8.0
    z[30] = -7.0
    disp = ReconstructionDisplay(wavelength, flux, flux * 0.98, z, title="star 1").plot()
    assert len(disp.regions_) == 2
    top, bottom = disp.axes_
    assert top.get_title() == "star 1"
    assert len(top.lines) == 2  # observed and reconstruction
    # one shaded span per region on each panel; a one-pixel region still has a width
    spans = [p for p in bottom.patches]
    assert len(spans) == 2
    assert all(p.get_width() > 0 for p in spans)


def test_display_from_estimator(toy_spectra):
    flux, ivar = toy_spectra
    cae = SpectralCAE(n_components=2, n_filters=4, depth=1, max_epochs=2, random_state=0)
    cae.fit(flux)
    disp = ReconstructionDisplay.from_estimator(cae, flux[0], ivar=ivar[0])
    assert disp.wavelength_unit == "pixel"
    np.testing.assert_allclose(disp.anomaly_map, cae.anomaly_map(flux[:1], ivar=ivar[:1])[0])
    with pytest.raises(ValueError, match="one spectrum"):
        ReconstructionDisplay.from_estimator(cae, flux[:2])


def test_mismatched_arrays():
    with pytest.raises(ValueError, match="one length"):
        ReconstructionDisplay(np.arange(5), np.ones(5), np.ones(4), np.zeros(5))
