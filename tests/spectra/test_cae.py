"""SpectralCAE: shapes, learning, anomaly scores, ivar handling, pipelines and persistence."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn import config_context
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import EarlyStopping

from skspectra import SpectralCAE

from _equality import assert_same_bits

SMALL = dict(n_components=4, n_filters=4, depth=2, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def fitted(toy_spectra):
    flux, ivar = toy_spectra
    return SpectralCAE(
        max_epochs=60, lr=3e-3, lr_schedule="constant", validation_fraction=None, **SMALL
    ).fit(flux, ivar=ivar)


def test_shapes(fitted, toy_spectra):
    flux, _ = toy_spectra
    Z = fitted.transform(flux)
    assert Z.shape == (len(flux), 4)
    assert fitted.inverse_transform(Z).shape == flux.shape
    assert fitted.reconstruct(flux).shape == flux.shape
    assert fitted.anomaly_map(flux).shape == flux.shape
    assert fitted.score_samples(flux).shape == (len(flux),)
    assert fitted.residual_scale_.shape == (flux.shape[1],)
    assert list(fitted.get_feature_names_out()) == [f"spectralcae{i}" for i in range(4)]


def test_learns_to_reconstruct(fitted, toy_spectra):
    flux, _ = toy_spectra
    mse = np.mean((fitted.reconstruct(flux) - flux) ** 2)
    # the spectra vary by ~0.2 around their mean; a useful model does far better than that
    assert mse < 0.05 * np.var(flux - flux.mean(axis=0))
    history = fitted.history_[:, "train_loss"]
    assert history[-1] < 0.2 * history[0]


def test_inverse_transform_of_transform_is_reconstruct(fitted, toy_spectra):
    flux, _ = toy_spectra
    np.testing.assert_allclose(
        fitted.inverse_transform(fitted.transform(flux)), fitted.reconstruct(flux), atol=1e-10
    )


def test_injected_lines_score_lowest(fitted, toy_spectra):
    flux, ivar = toy_spectra
    spiked = flux[:20].copy()
    rows = np.arange(0, 20, 4)
    spiked[rows, 10] += 0.5  # 50σ emission spikes in five spectra
    scores = fitted.score_samples(spiked, ivar=ivar[:20])
    assert set(np.argsort(scores)[:5]) == set(rows)
    z = fitted.anomaly_map(spiked, ivar=ivar[:20])
    assert np.all(np.argmax(z[rows], axis=1) == 10)
    assert np.all(z[rows, 10] > 20)


def test_masked_pixels_do_not_count(fitted, toy_spectra):
    flux, ivar = toy_spectra
    corrupted, weights = flux[:10].copy(), ivar[:10].copy()
    corrupted[:, 30:35] = 1e3
    weights[:, 30:35] = 0
    clean_weights = weights.copy()
    z = fitted.anomaly_map(corrupted, ivar=weights)
    assert np.all(z[:, 30:35] == 0)
    expected = fitted.score_samples(flux[:10], ivar=clean_weights)
    # what a masked pixel holds never reaches the encoder: the scores are the same exactly
    assert_same_bits(fitted.score_samples(corrupted, ivar=weights), expected)
    assert_same_bits(
        fitted.reconstruct(corrupted, ivar=weights), fitted.reconstruct(flux[:10], ivar=weights)
    )
    assert np.all(fitted.score_samples(corrupted) < fitted.score_samples(flux[:10]))


@pytest.mark.parametrize("contamination", [0.05, 0.2])
def test_contamination_sets_training_outlier_fraction(toy_spectra, contamination):
    flux, ivar = toy_spectra
    est = SpectralCAE(max_epochs=3, contamination=contamination, **SMALL).fit(flux, ivar=ivar)
    labels = est.predict(flux, ivar=ivar)
    assert set(np.unique(labels)) == {-1, 1}
    assert abs(np.mean(labels == -1) - contamination) <= 1 / len(flux)
    np.testing.assert_allclose(
        est.decision_function(flux, ivar=ivar), est.score_samples(flux, ivar=ivar) - est.offset_
    )


def test_float64_inference_is_batch_invariant(fitted, toy_spectra):
    flux, _ = toy_spectra
    full = fitted.score_samples(flux)
    parts = np.concatenate([fitted.score_samples(flux[i : i + 7]) for i in range(0, len(flux), 7)])
    # float32 inference differs at ~1e-7 between batch layouts; float64 only at rounding level
    np.testing.assert_allclose(full, parts, rtol=1e-12)


def test_float32_inference_is_close(fitted, toy_spectra):
    flux, _ = toy_spectra
    fast = fitted.set_params(inference_dtype="float32").reconstruct(flux)
    fitted.set_params(inference_dtype="float64")
    np.testing.assert_allclose(fast, fitted.reconstruct(flux), atol=1e-4)


def test_seeding_is_local_and_reproducible(toy_spectra):
    flux, _ = toy_spectra
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a = SpectralCAE(max_epochs=2, **SMALL).fit(flux).transform(flux)
    after = torch.rand(3)
    b = SpectralCAE(max_epochs=2, **SMALL).fit(flux).transform(flux)
    assert_same_bits(a, b)
    torch.testing.assert_close(after, expected_next)
    c = SpectralCAE(max_epochs=2, **{**SMALL, "random_state": 1}).fit(flux).transform(flux)
    assert not np.allclose(a, c)


def test_verbose_shows_progress_and_validation(toy_spectra, capsys):
    flux, _ = toy_spectra
    SpectralCAE(max_epochs=2, verbose=1, **SMALL).fit(flux)
    err = capsys.readouterr().err
    assert "SpectralCAE epoch 2/2" in err and "SpectralCAE: validation (" in err
    SpectralCAE(max_epochs=2, verbose=0, **SMALL).fit(flux)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_callbacks_are_copied_and_used(toy_spectra):
    flux, _ = toy_spectra
    stopper = EarlyStopping(patience=1, threshold=10.0, threshold_mode="abs")
    est = SpectralCAE(max_epochs=50, callbacks=[stopper], **SMALL).fit(flux)
    assert len(est.history_) < 50
    assert stopper.dynamic_threshold_ is None  # the user's object was not touched


def test_pipeline_with_scaler_and_ivar_routing(toy_spectra, monkeypatch):
    flux, ivar = toy_spectra
    ivar = ivar * np.linspace(0.5, 2.0, flux.shape[1])  # not a constant: it has to arrive
    seen = []
    original = SpectralCAE.fit

    def spy(self, X, y=None, ivar=None):
        seen.append((X, ivar))
        return original(self, X, y, ivar=ivar)

    monkeypatch.setattr(SpectralCAE, "fit", spy)
    pipe = make_pipeline(StandardScaler(), SpectralCAE(max_epochs=2, **SMALL))
    pipe.fit(flux, spectralcae__ivar=ivar)
    ((X_seen, ivar_seen),) = seen
    np.testing.assert_array_equal(ivar_seen, ivar)
    np.testing.assert_allclose(X_seen, StandardScaler().fit_transform(flux))  # scaled flux
    assert pipe.transform(flux).shape == (len(flux), 4)
    assert pipe.score_samples(flux).shape == (len(flux),)
    assert set(np.unique(pipe.predict(flux))) <= {-1, 1}
    with config_context(enable_metadata_routing=True):
        cae = SpectralCAE(max_epochs=2, **SMALL).set_fit_request(ivar=True)
        routed = make_pipeline(StandardScaler().set_fit_request(), cae).fit(flux, ivar=ivar)
        assert routed[-1].n_features_in_ == flux.shape[1]
    assert len(seen) == 2
    np.testing.assert_array_equal(seen[1][1], ivar)


def test_grid_search(toy_spectra):
    flux, _ = toy_spectra
    search = GridSearchCV(
        SpectralCAE(max_epochs=20, lr=3e-3, **{**SMALL, "n_components": 1}),
        {"n_components": [1, 4]},
        cv=2,
    ).fit(flux)
    assert search.best_params_ == {"n_components": 4}
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_joblib_round_trip(fitted, toy_spectra, tmp_path):
    flux, ivar = toy_spectra
    joblib.dump(fitted, tmp_path / "cae.joblib")
    loaded = joblib.load(tmp_path / "cae.joblib")
    assert_same_bits(loaded.score_samples(flux, ivar=ivar), fitted.score_samples(flux, ivar=ivar))
    assert loaded.offset_ == fitted.offset_


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the CPU-only fallback")
def test_model_saved_on_cuda_loads_on_cpu(toy_spectra):
    """A net labelled 'cuda' (as after GPU training) is remapped to CPU on load."""
    flux, _ = toy_spectra
    est = SpectralCAE(max_epochs=2, **SMALL).fit(flux)
    expected = est.transform(flux)
    est.net_.device = "cuda"
    buffer = io.BytesIO()
    pickle.dump(est, buffer)
    buffer.seek(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = pickle.load(buffer)
    assert str(loaded.net_.device) == "cpu"
    assert any("cuda" in str(w.message).lower() for w in caught)
    assert_same_bits(loaded.transform(flux), expected)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"kernel_size": 4}, "kernel_size must be odd"),
        ({"contamination": 0.9}, "contamination"),
        ({"n_components": 0}, "n_components"),
    ],
)
def test_bad_parameters(toy_spectra, params, match):
    flux, _ = toy_spectra
    with pytest.raises(ValueError, match=match):
        SpectralCAE(max_epochs=1, **{**SMALL, **params}).fit(flux)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_missing_gpu_is_a_clear_error(toy_spectra):
    with pytest.raises(ValueError, match="no CUDA GPU"):
        SpectralCAE(max_epochs=1, device="cuda", **SMALL).fit(toy_spectra[0])


def test_bad_ivar_and_shapes(fitted, toy_spectra):
    flux, ivar = toy_spectra
    with pytest.raises(ValueError, match="ivar has shape"):
        fitted.score_samples(flux, ivar=ivar[:, :10])
    with pytest.raises(ValueError, match="negative"):
        fitted.score_samples(flux, ivar=-ivar)
    all_masked = ivar.copy()
    all_masked[3] = 0
    with pytest.raises(ValueError, match="every pixel masked"):
        SpectralCAE(max_epochs=1, **SMALL).fit(flux, ivar=all_masked)
    with pytest.raises(ValueError, match="features"):
        fitted.transform(flux[:, :10])
    with pytest.raises(ValueError, match="n_components"):
        fitted.inverse_transform(np.zeros((2, 3)))
    nan_flux = flux.copy()
    nan_flux[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SpectralCAE(max_epochs=1, **SMALL).fit(nan_flux)


def test_cosine_schedule_anneals_the_learning_rate(toy_spectra):
    flux, _ = toy_spectra
    est = SpectralCAE(max_epochs=10, lr=1e-2, lr_schedule="cosine", **SMALL).fit(flux)
    lrs = est.history_[:, "event_lr"]
    assert lrs[0] == pytest.approx(1e-2)
    assert all(a > b for a, b in zip(lrs, lrs[1:], strict=False))
    assert lrs[-1] < 0.05 * lrs[0]


def test_top_pixel_score_is_not_diluted_by_spectrum_length(fitted, toy_spectra):
    flux, ivar = toy_spectra
    fitted.set_params(anomaly_score="residual")
    spiked = flux[:1].copy()
    spiked[0, 20] += 0.3  # one 30σ pixel
    z2 = fitted.anomaly_map(spiked, ivar=ivar[:1]) ** 2
    expected = -np.mean(np.sort(z2[0])[-fitted.n_top_pixels :])
    assert fitted.score_samples(spiked, ivar=ivar[:1])[0] == pytest.approx(expected)
    reduced = fitted.set_params(n_top_pixels=None).score_samples(spiked, ivar=ivar[:1])[0]
    fitted.set_params(n_top_pixels=5, anomaly_score="combined")
    assert reduced == pytest.approx(-np.mean(z2[0]))
    assert expected < reduced  # the spike weighs more in the top-pixel score
