"""SpectralVAE(conditional=True): spectra from labels (predict_spectra, sample(y=...))."""

import numpy as np
import pytest

from skspectra.io import load_model, save_model
from skspectra.spectra import SpectralVAE

SMALL = dict(n_components=3, n_filters=4, depth=2, batch_size=32, max_epochs=15, random_state=0)
NOISE = 0.01


def labelled_spectra(n, seed):
    """Spectra whose shape the labels set: (slope, line depth, line centre) → flux of 64 pixels."""
    rng = np.random.default_rng(seed)
    x = np.linspace(-1, 1, 64)
    labels = np.column_stack(
        [rng.uniform(-0.3, 0.3, n), rng.uniform(0.1, 0.5, n), rng.uniform(-0.5, 0.5, n)]
    )
    slope, depth, centre = (labels[:, [i]] for i in range(3))
    model = 1 + slope * x - depth * np.exp(-0.5 * ((x - centre) / 0.15) ** 2)
    flux = model + rng.normal(0, NOISE, model.shape)
    return labels, flux, np.full(flux.shape, 1 / NOISE**2), model


def chi2_per_pixel(pred, flux, ivar):
    return np.median(np.mean(ivar * (pred - flux) ** 2, axis=1))


@pytest.fixture(scope="module")
def fitted():
    labels, flux, ivar, _ = labelled_spectra(300, 0)
    return SpectralVAE(conditional=True, **SMALL).fit(flux, labels, ivar=ivar)


def test_predict_follows_the_labels(fitted):
    labels, flux, ivar, _ = labelled_spectra(100, 1)
    pred = fitted.predict_spectra(labels)
    assert pred.shape == flux.shape
    chi2 = chi2_per_pixel(pred, flux, ivar)
    # the labels, not the mean spectrum: shuffled labels must predict far worse
    shuffled = chi2_per_pixel(
        fitted.predict_spectra(labels[np.random.default_rng(0).permutation(100)]), flux, ivar
    )
    mean_only = chi2_per_pixel(np.broadcast_to(fitted.mean_, flux.shape), flux, ivar)
    assert chi2 < 0.1 * mean_only
    assert chi2 < 0.1 * shuffled


def test_sample_given_labels_scatters_about_predict(fitted):
    labels = labelled_spectra(2, 2)[0]
    draws = fitted.sample(200, random_state=0, y=labels)
    assert draws.shape == (400, 64)
    np.testing.assert_array_equal(draws, fitted.sample(200, random_state=0, y=labels))
    pred = fitted.predict_spectra(labels)
    for i in range(2):
        rows = draws[i * 200 : (i + 1) * 200]
        assert np.std(rows, axis=0).max() > 0  # draws, not copies of the mean
        # each row's draws sit about its own prediction, nearer it than the other row's
        own = np.abs(rows.mean(axis=0) - pred[i]).max()
        other = np.abs(rows.mean(axis=0) - pred[1 - i]).max()
        assert own < 0.5 * other


def test_sample_scatter_follows_the_labels():
    """Where the labels leave part of the spectrum unexplained, draws scatter; elsewhere not."""
    rng = np.random.default_rng(7)
    n, x = 300, np.linspace(-1, 1, 64)
    labels = rng.uniform(-1, 1, (n, 2))  # a slope and a line depth
    hidden = rng.uniform(0, 0.4, n) * (labels[:, 0] < 0)  # a second line, for negative slopes
    flux = (
        1
        + 0.3 * labels[:, [0]] * x
        - 0.2 * (labels[:, [1]] + 1) * np.exp(-0.5 * ((x + 0.5) / 0.1) ** 2)
        - hidden[:, None] * np.exp(-0.5 * ((x - 0.5) / 0.1) ** 2)
        + rng.normal(0, NOISE, (n, 64))
    )
    ivar = np.full(flux.shape, 1 / NOISE**2)
    vae = SpectralVAE(conditional=True, **SMALL).fit(flux, labels, ivar=ivar)
    assert vae.latent_residuals_.shape == (n, 3)
    line = np.abs(x - 0.5) < 0.15
    spread = {}
    for name, slope in [("wild", -0.5), ("tame", 0.5)]:
        draws = vae.sample(100, random_state=0, y=[[slope, 0.0]])
        spread[name] = np.std(draws[:, line], axis=0).mean()
    # the hidden depth's spread, uniform(0, 0.4): 0.115 at the line centre
    assert spread["wild"] > 0.03
    assert spread["wild"] > 3 * spread["tame"]


def test_predict_spectra_only_when_conditional(fitted):
    assert not hasattr(SpectralVAE(), "predict_spectra")
    assert hasattr(fitted, "predict_spectra")
    # predict stays the outlier detector's: +1 / -1 per spectrum
    _, flux, ivar, _ = labelled_spectra(10, 6)
    assert set(np.unique(fitted.predict(flux, ivar=ivar))) <= {-1, 1}


def test_refit_unconditional_drops_the_label_head():
    labels, flux, ivar, _ = labelled_spectra(80, 3)
    vae = SpectralVAE(conditional=True, **{**SMALL, "max_epochs": 1}).fit(flux, labels, ivar=ivar)
    assert hasattr(vae, "label_regressor_")
    vae.set_params(conditional=False).fit(flux, labels, ivar=ivar)
    assert not hasattr(vae, "label_regressor_") and not hasattr(vae, "n_labels_")
    with pytest.raises(ValueError, match="conditional=True"):
        vae.sample(2, y=labels[:2])


def test_labels_errors(fitted):
    labels, flux, ivar, _ = labelled_spectra(40, 4)
    vae = SpectralVAE(conditional=True, **{**SMALL, "max_epochs": 1})
    with pytest.raises(ValueError, match="needs labels"):
        vae.fit(flux, ivar=ivar)
    with pytest.raises(ValueError, match="one row of labels per spectrum"):
        vae.fit(flux, labels[:-1], ivar=ivar)
    bad = labels.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        vae.fit(flux, bad, ivar=ivar)
    with pytest.raises(ValueError, match="fitted with 3"):
        fitted.predict_spectra(labels[:, :2])
    with pytest.raises(ValueError, match="fitted with 3"):
        fitted.sample(1, y=labels[:, :2])
    with pytest.raises(ValueError, match="partial_fit"):
        vae.partial_fit(flux, labels, ivar=ivar)


def test_save_and_load_keep_the_label_head(fitted, tmp_path):
    path = tmp_path / "vae.zip"
    save_model(fitted, path)
    loaded = load_model(path)
    labels = labelled_spectra(5, 5)[0]
    np.testing.assert_allclose(
        loaded.predict_spectra(labels), fitted.predict_spectra(labels), rtol=1e-10
    )
    np.testing.assert_allclose(
        loaded.sample(3, random_state=1, y=labels), fitted.sample(3, random_state=1, y=labels)
    )
