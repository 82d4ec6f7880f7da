"""ImageRegressor(aperture_radii=...): the dense layers read each band's aperture photometry."""

import pickle

import numpy as np
import pytest
import torch

from skspectra.images import ImageRegressor, aperture_photometry
from skspectra.nn import MLP

FAST = dict(n_filters=4, depth=2, hidden_layer_sizes=(16,), max_epochs=2, batch_size=16)


@pytest.fixture(scope="module")
def stamps():
    rng = np.random.default_rng(1)
    images = rng.normal(size=(40, 2, 12, 12))
    return images, rng.normal(size=(40, 3))


def _dense_input(reg, images):
    """What the first dense layer of ``reg`` reads for ``images``, captured by a hook."""
    seen = []
    mlp = reg.net_.module_.head[-1]
    handle = mlp.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    try:
        reg.predict(images)
    finally:
        handle.remove()
    return torch.cat(seen).double().numpy()


def test_dense_layers_read_aperture_means_of_the_standardised_bands(stamps):
    images, y = stamps
    radii = (2.0, 3.5)
    reg = ImageRegressor(**FAST, aperture_radii=radii, random_state=0).fit(images, y)
    features = _dense_input(reg, images)
    assert features.shape == (40, 16 + 2 * len(radii))
    standardised = (images - reg.input_mean_[:, None, None]) / reg.input_scale_[:, None, None]
    expected = [
        aperture_photometry(standardised, r) / aperture_photometry(np.ones((12, 12)), r)
        for r in radii
    ]  # (n, C) per radius, in the network's order: radius-major, then band
    np.testing.assert_allclose(features[:, 16:], np.hstack(expected), rtol=1e-5, atol=1e-5)


def test_centre_reaches_the_output_through_the_apertures_alone(stamps):
    """With the convolutions silenced, only the aperture path can carry the centre's flux."""
    images, y = stamps
    brighter = images.copy()
    brighter[:, :, 5:7, 5:7] += 3.0
    outputs = {}
    for radii in [(), (3.0,)]:
        reg = ImageRegressor(**FAST, aperture_radii=radii, random_state=0).fit(images, y)
        with torch.no_grad():
            for p in reg.net_.module_.encoder.parameters():
                p.zero_()
        outputs[radii] = reg.predict(images), reg.predict(brighter)
    np.testing.assert_allclose(*outputs[()], atol=1e-12)
    assert np.max(np.abs(outputs[(3.0,)][0] - outputs[(3.0,)][1])) > 1e-3


def test_pickle_keeps_the_apertures(stamps):
    images, y = stamps
    reg = ImageRegressor(**FAST, aperture_radii=(3.0,), random_state=0).fit(images, y)
    again = pickle.loads(pickle.dumps(reg))
    np.testing.assert_allclose(again.predict(images), reg.predict(images), rtol=1e-12)


def test_tabular_input_ignores_apertures():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), rng.normal(size=30)
    reg = ImageRegressor(hidden_layer_sizes=(8,), aperture_radii=(3.0,), max_epochs=1).fit(X, y)
    assert isinstance(reg.net_.module_, MLP)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"aperture_radii": (-1.0,)}, "positive numbers of pixels"),
        ({"aperture_radii": ("3",)}, "positive numbers of pixels"),
        ({"aperture_radii": (0.01,)}, "covers no pixel"),
        ({"aperture_radii": (3.0,), "hidden_layer_sizes": ()}, "at least one dense layer"),
    ],
)
def test_bad_apertures_are_clear(stamps, params, match):
    images, y = stamps
    with pytest.raises(ValueError, match=match):
        ImageRegressor(**{**FAST, **params}).fit(images, y)
