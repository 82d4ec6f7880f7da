import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA

from skspectra.plotting.latent import LatentDisplay


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def latent():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(60, 4))
    teff = pd.Series(4000 + 1000 * Z[:, 0], name="teff")
    return Z, teff


def test_numeric_labels_get_a_colorbar(latent):
    Z, teff = latent
    disp = LatentDisplay.from_latent(Z, labels=teff, method="first_two")
    np.testing.assert_array_equal(disp.embedding, Z[:, :2])
    assert disp.colorbar_ is not None and disp.colorbar_.ax.get_ylabel() == "teff"
    np.testing.assert_allclose(disp.scatter_.get_array(), teff.to_numpy())
    assert disp.ax_.get_xlabel() == "z 1" and disp.figure_ is disp.ax_.figure


def test_missing_numeric_labels_drawn_grey(latent):
    Z, teff = latent
    teff = teff.copy()
    teff[:5] = np.nan
    disp = LatentDisplay.from_latent(Z, labels=teff, method="pca")
    assert len(disp.ax_.collections) == 2  # grey NaN points + coloured ones
    assert disp.scatter_.get_offsets().shape == (55, 2)
    assert disp.ax_.get_xlabel() == "PC 1"


def test_categorical_labels_get_a_legend(latent):
    Z, _ = latent
    kind = np.where(Z[:, 1] > 0, "giant", "dwarf")
    disp = LatentDisplay.from_latent(Z, labels=kind, label_name="class", method="first_two")
    assert disp.colorbar_ is None and len(disp.scatter_) == 2
    legend = disp.ax_.get_legend()
    assert legend.get_title().get_text() == "class"
    assert sorted(t.get_text() for t in legend.get_texts()) == ["dwarf", "giant"]
    # booleans are categories, not a colour scale
    disp = LatentDisplay.from_latent(Z, labels=Z[:, 0] > 0, method="first_two")
    assert disp.colorbar_ is None


def test_pca_and_tsne_embeddings(latent):
    Z, teff = latent
    disp = LatentDisplay.from_latent(Z, method="pca")
    np.testing.assert_allclose(
        np.abs(disp.embedding), np.abs(PCA(2).fit_transform(Z)), rtol=1e-6, atol=1e-9
    )
    a = LatentDisplay.from_latent(Z, labels=teff, method="tsne", random_state=0)
    b = LatentDisplay.from_latent(Z, labels=teff, method="tsne", random_state=0)
    assert a.embedding.shape == (60, 2)
    np.testing.assert_allclose(a.embedding, b.embedding)
    assert a.ax_.get_xlabel() == "t-SNE 1"


def test_from_estimator_uses_transform_and_given_axes(latent):
    Z, teff = latent
    pca = PCA(3).fit(Z)
    fig, ax = plt.subplots()
    disp = LatentDisplay.from_estimator(pca, Z, labels=teff, method="first_two", ax=ax, s=20)
    assert disp.ax_ is ax
    np.testing.assert_allclose(disp.embedding, pca.transform(Z)[:, :2])
    np.testing.assert_allclose(disp.scatter_.get_sizes(), [20])


def test_from_estimator_with_vae(toy_spectra):
    from skspectra.spectra.vae import SpectralVAE

    flux, ivar = toy_spectra
    vae = SpectralVAE(n_components=2, n_filters=2, depth=1, max_epochs=2, random_state=0)
    disp = LatentDisplay.from_estimator(vae.fit(flux, ivar=ivar), flux, labels=flux[:, 0])
    assert disp.embedding.shape == (flux.shape[0], 2)


def test_bad_inputs(latent):
    Z, teff = latent
    with pytest.raises(ValueError, match="method"):
        LatentDisplay.from_latent(Z, method="umap")
    with pytest.raises(ValueError, match="at least 2"):
        LatentDisplay.from_latent(Z[:, :1], method="first_two")
    with pytest.raises(ValueError, match="at least 2"):
        LatentDisplay.from_latent(Z[:, :1], method="pca")
    with pytest.raises(ValueError, match="one per point"):
        LatentDisplay.from_latent(Z, labels=teff[:10])
    with pytest.raises(ValueError, match="shape"):
        LatentDisplay(Z)
    with pytest.raises(ValueError, match="transform"):
        LatentDisplay.from_estimator(object(), Z)
