import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skspectra.datasets import make_gaussian_spectra
from skspectra.lines import GaussianLineFitter, component_scores, count_components

from _equality import assert_same_bits

N_CHANNELS = 64
# Well separated lines of 0 to 2 per spectrum, SNR 10 to 40.
SETTING = dict(
    n_components=(0, 2),
    amplitude_range=(1.0, 4.0),
    mean_range=(8, 56),
    sigma_range=(1.5, 4.0),
    noise_range=0.1,
    min_separation=12.0,
)


def tiny(**params):
    """A small, fast fitter for the tests that do not look at accuracy."""
    defaults = dict(
        max_components=2, n_filters=2, n_blocks=2, hidden_size=16, max_epochs=2, random_state=0
    )
    return GaussianLineFitter(**{**defaults, **params})


@pytest.fixture(scope="module")
def data():
    X, y, _ = make_gaussian_spectra(2400, N_CHANNELS, return_params=True, random_state=0, **SETTING)
    return X[:2000], y[:2000], X[2000:], y[2000:]


@pytest.fixture(scope="module")
def fitted(data):
    X, y, _, _ = data
    return GaussianLineFitter(max_components=2, max_epochs=8, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def small_data():
    X, y, _ = make_gaussian_spectra(200, N_CHANNELS, return_params=True, random_state=1, **SETTING)
    return X, y


def test_learns_to_count_and_measure_lines(fitted, data):
    _, _, X_test, y_test = data
    y_pred = fitted.predict(X_test)
    scores = component_scores(y_test, y_pred)
    # Chance for three balanced classes is 1/3.
    assert scores.count_accuracy > 0.85
    assert scores.f1 > 0.85
    r2 = [scores.r2_amplitude, scores.r2_mean, scores.r2_sigma]
    assert np.mean(r2) > 0.9, r2
    assert scores.r2_mean > 0.97


def test_predict_layout(fitted, data):
    _, _, X_test, _ = data
    y_pred = fitted.predict(X_test)
    assert y_pred.shape == (len(X_test), 6) and y_pred.dtype == np.float64
    comps = y_pred.reshape(len(X_test), 2, 3)
    n = count_components(y_pred)
    np.testing.assert_array_equal(n, fitted.predict_n_components(X_test))
    for row, k in zip(comps, n, strict=True):
        np.testing.assert_array_equal(row[k:], 0.0)
        assert np.all(row[:k, 2] > 0)
        assert np.all(np.diff(row[:k, 1]) > 0)


def test_predict_components_table(fitted, data):
    _, _, X_test, _ = data
    table = fitted.predict_components(X_test[:50])
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == [
        "spectrum",
        "component",
        "amplitude",
        "mean",
        "sigma",
        "probability",
    ]
    n = fitted.predict_n_components(X_test[:50])
    np.testing.assert_array_equal(
        table.groupby("spectrum").size().reindex(range(50), fill_value=0), n
    )
    assert table["probability"].between(0.5, 1.0).all()
    y_pred = fitted.predict(X_test[:50]).reshape(50, 2, 3)
    values = y_pred[table["spectrum"], table["component"]]
    np.testing.assert_allclose(table[["amplitude", "mean", "sigma"]].to_numpy(), values)


def test_amplitudes_scale_with_flux_means_and_widths_do_not(fitted, data):
    _, _, X_test, _ = data
    y1 = fitted.predict(X_test[:20]).reshape(20, 2, 3)
    y2 = fitted.predict(1e-17 * X_test[:20]).reshape(20, 2, 3)
    np.testing.assert_allclose(y2[..., 0], 1e-17 * y1[..., 0], rtol=1e-9, atol=0)
    np.testing.assert_allclose(y2[..., 1:], y1[..., 1:], rtol=1e-9)


def test_refine_improves_noisy_single_lines_and_gives_honest_errors(fitted):
    noise = 0.3
    X, y, _ = make_gaussian_spectra(
        300,
        N_CHANNELS,
        n_components=1,
        amplitude_range=(1.5, 4.0),
        mean_range=(16, 48),
        sigma_range=(2.0, 4.0),
        noise_range=noise,
        return_params=True,
        random_state=5,
    )
    raw = fitted.predict(X)
    # The spectra have a zero baseline: fit none, so that the model is the true one.
    refiner = fitted.set_params(refine=True, refine_continuum=None)
    try:
        refined, std = refiner.predict(X, return_std=True)
        refined_ivar, std_ivar = refiner.predict(
            X, ivar=np.full(X.shape, 1 / noise**2), return_std=True
        )
    finally:
        fitted.set_params(refine=False, refine_continuum="linear")
    one = (count_components(raw) == 1) & (count_components(refined) == 1)
    assert one.mean() > 0.9
    truth, raw, refined, std = y[one, :3], raw[one, :3], refined[one, :3], std[one, :3]
    err_raw = np.mean((raw - truth) ** 2, axis=0)
    err_refined = np.mean((refined - truth) ** 2, axis=0)
    assert np.all(err_refined < err_raw), (err_raw, err_refined)
    assert np.all(np.isfinite(std)) and np.all(std > 0)
    # The pulls (refined - true) / error should have unit spread.
    pull_spread = np.std((refined - truth) / std, axis=0)
    assert np.all((pull_spread > 0.7) & (pull_spread < 1.4)), pull_spread
    # With the true noise given as ivar, the errors are about the residual-based ones.
    ratio = std_ivar[one, :3] / std
    assert 0.8 < np.median(ratio) < 1.2
    # The same optimum, up to the optimiser's tolerance.
    assert np.max(np.abs(refined_ivar[one, :3] - refined) / std) < 0.05


def test_refined_components_have_error_columns(fitted, data):
    _, _, X_test, _ = data
    table = fitted.set_params(refine=True).predict_components(X_test[:10])
    fitted.set_params(refine=False)
    assert {"amplitude_err", "mean_err", "sigma_err"} <= set(table.columns)


def test_return_std_needs_refine(fitted, data):
    with pytest.raises(ValueError, match="refine=True"):
        fitted.predict(data[2][:3], return_std=True)


def test_pickle_round_trip(fitted, data, tmp_path):
    _, _, X_test, _ = data
    path = tmp_path / "fitter.joblib"
    joblib.dump(fitted, path)
    loaded = joblib.load(path)
    assert_same_bits(loaded.predict(X_test), fitted.predict(X_test))


def test_component_order_of_y_does_not_matter(small_data):
    X, y = small_data
    swapped = np.concatenate([y[:, 3:], y[:, :3]], axis=1)
    a = tiny().fit(X, y).predict(X)
    b = tiny().fit(X, swapped).predict(X)
    assert_same_bits(a, b)


def test_float32_inference_is_close(small_data):
    X, y = small_data
    model = tiny().fit(X, y)
    p64 = model.predict(X)
    p32 = model.set_params(inference_dtype="float32").predict(X)
    same = count_components(p64) == count_components(p32)
    assert same.mean() > 0.95
    np.testing.assert_allclose(p32[same], p64[same], rtol=1e-3, atol=1e-3)


def test_pipeline_with_standard_scaler(small_data):
    X, y = small_data
    pipe = make_pipeline(StandardScaler(), tiny()).fit(X, y)
    y_pred = pipe.predict(X)
    assert y_pred.shape == y.shape and y_pred.dtype == np.float64
    comps = y_pred.reshape(len(X), 2, 3)
    on = comps[..., 0] != 0
    # Parameters come back in data units: channels for the means.
    assert np.all((comps[..., 1][on] > -N_CHANNELS) & (comps[..., 1][on] < 2 * N_CHANNELS))
    assert isinstance(pipe.score(X, y), float)


def test_generic_targets():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 12))
    y = X[:, :3].sum(axis=1)
    model = tiny().fit(X, y)
    assert model.target_type_ == "generic" and model.n_outputs_ == 1
    pred = model.predict(X)
    assert pred.shape == (60,) and pred.dtype == np.float64
    y5 = np.column_stack([y] * 5)
    assert tiny().fit(X, y5).predict(X).shape == (60, 5)
    with pytest.raises(ValueError, match="generic targets"):
        model.predict_components(X)
    with pytest.raises(ValueError, match="generic targets"):
        model.predict_n_components(X)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda X, y: (X, y[:, :3]), "max_components=2 expects 6"),
        (lambda X, y: (X, np.column_stack([y, y[:, :3]])), "max_components=2 expects 6"),
        (lambda X, y: (np.where(np.arange(X.shape[1]) == 3, np.nan, X), y), "NaN"),
        (lambda X, y: (X, np.where(np.arange(6) == 1, np.inf, y)), "infinity"),
        (lambda X, y: (X, np.where(np.arange(6) == 2, -1.0, y)), "sigma > 0"),
        (lambda X, y: (X, None), "requires y"),
    ],
)
def test_bad_training_data_raise(small_data, change, match):
    X, y = change(*small_data)
    with pytest.raises(ValueError, match=match):
        tiny().fit(X, y)


@pytest.mark.parametrize("kernel_sizes", [(3, 4), (), (0,), (2.5,)])
def test_bad_kernel_sizes_raise(small_data, kernel_sizes):
    with pytest.raises(ValueError, match="kernel_sizes"):
        tiny(kernel_sizes=kernel_sizes).fit(*small_data)


def test_bad_prediction_input_raises(fitted, data):
    X_test = data[2]
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X_test[:, :10])
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict_components(np.full((2, N_CHANNELS), np.nan))
    with pytest.raises(ValueError, match="ivar"):
        fitted.set_params(refine=True).predict(X_test[:3], ivar=np.ones((3, 5)))
    fitted.set_params(refine=False)
