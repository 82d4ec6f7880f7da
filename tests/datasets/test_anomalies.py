import numpy as np
import pandas as pd
import pytest

from skspectra.datasets import ANOMALY_KINDS, inject_anomalies

N_SAMPLES, N_PIXELS = 50, 120
WAVELENGTH = np.linspace(3360.0, 10200.0, N_PIXELS)


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    continuum = np.linspace(0.8, 1.2, N_PIXELS)
    return continuum * rng.normal(1.0, 0.01, (N_SAMPLES, N_PIXELS))


def test_anomaly_kinds():
    assert ANOMALY_KINDS == (
        "emission",
        "absorption",
        "dropout",
        "cosmic_ray",
        "slope",
        "step",
        "ripple",
        "stitched",
        "lsf_line",
    )


def test_step_scales_flux_beyond_the_seam(X):
    X_new, _, params = inject_anomalies(
        X, kind="step", fraction=0.2, random_state=0, return_params=True
    )
    for row, seam, step in params[["index", "center", "amplitude"]].itertuples(index=False):
        seam = int(seam)
        assert 0.05 <= abs(step) <= 0.2
        np.testing.assert_array_equal(X_new[row, :seam], X[row, :seam])
        np.testing.assert_allclose(X_new[row, seam:], (1 + step) * X[row, seam:])


def test_stitched_takes_the_red_part_from_another_spectrum(X):
    X_new, _, params = inject_anomalies(
        X, kind="stitched", fraction=0.2, random_state=0, return_params=True
    )
    for row, seam, ratio in params[["index", "center", "amplitude"]].itertuples(index=False):
        seam = int(seam)
        np.testing.assert_array_equal(X_new[row, :seam], X[row, :seam])
        donor = X_new[row, seam:] / ratio
        matches = np.flatnonzero(np.all(np.isclose(X[:, seam:], donor), axis=1))
        assert matches.size == 1 and matches[0] != row


def test_ripple_and_lsf_line_stay_within_their_amplitudes(X):
    X_new, _, params = inject_anomalies(
        X, kind="ripple", fraction=0.2, random_state=0, return_params=True
    )
    ratio = X_new[params["index"]] / X[params["index"]]
    assert np.all(np.abs(ratio - 1) <= 0.1 + 1e-12) and np.all(np.abs(ratio - 1).max(axis=1) > 0)
    X_new, _, params = inject_anomalies(
        X, kind="lsf_line", fraction=0.2, random_state=0, return_params=True
    )
    assert params["width"].between(2.0, 5.0).all()
    assert params["amplitude"].abs().between(0.1, 0.3).all()


@pytest.mark.parametrize("kind", ANOMALY_KINDS + ("mixed",))
def test_changes_only_anomalous_rows_and_not_input(X, kind):
    X_before = X.copy()
    X_new, is_anomaly = inject_anomalies(X, kind=kind, fraction=0.1, random_state=0)
    np.testing.assert_array_equal(X, X_before)
    assert X_new is not X and not np.shares_memory(X_new, X)
    assert X_new.shape == X.shape and X_new.dtype == np.float64
    assert is_anomaly.dtype == bool and is_anomaly.shape == (N_SAMPLES,)
    assert is_anomaly.sum() == 5
    np.testing.assert_array_equal(X_new[~is_anomaly], X[~is_anomaly])
    changed = np.any(X_new != X, axis=1)
    np.testing.assert_array_equal(changed, is_anomaly)


@pytest.mark.parametrize(
    ("fraction", "n_samples", "expected"), [(0.1, 50, 5), (0.01, 50, 1), (0.25, 10, 2), (0.5, 3, 2)]
)
def test_exact_count(fraction, n_samples, expected):
    X = np.ones((n_samples, 30))
    _, is_anomaly = inject_anomalies(X, fraction=fraction, random_state=1)
    assert is_anomaly.sum() == expected == max(1, round(fraction * n_samples))


def test_emission_raises_flux_locally(X):
    X_new, is_anomaly, params = inject_anomalies(
        X, kind="emission", fraction=0.2, random_state=0, return_params=True
    )
    diff = X_new - X
    assert np.all(diff >= 0)
    for row, center, sigma, amplitude in params[
        ["index", "center", "width", "amplitude"]
    ].itertuples(index=False):
        peak = int(round(center))
        assert 1.0 <= sigma <= 3.0 and 0.3 <= amplitude <= 1.0
        # Peak of 0.3-1.0 x the local flux (~1 here), a sizeable bump at the line centre ...
        assert diff[row, peak] > 0.25 * X[row, peak]
        # ... that falls off far from it.
        far = np.abs(np.arange(N_PIXELS) - center) > 6 * sigma
        assert np.all(diff[row, far] < 1e-3)


def test_absorption_lowers_flux_locally(X):
    X_new, _, params = inject_anomalies(
        X, kind="absorption", fraction=0.2, random_state=0, return_params=True
    )
    assert np.all(X_new <= X)
    for row, center in params[["index", "center"]].itertuples(index=False):
        peak = int(round(center))
        assert X_new[row, peak] < 0.85 * X[row, peak]


def test_dropout_sets_a_run_to_zero(X):
    X_new, is_anomaly = inject_anomalies(X, kind="dropout", fraction=0.2, random_state=0)
    for row in np.flatnonzero(is_anomaly):
        zeros = np.flatnonzero(X_new[row] == 0)
        assert 0.05 * N_PIXELS - 1 <= zeros.size <= 0.2 * N_PIXELS + 1
        np.testing.assert_array_equal(np.diff(zeros), 1)  # contiguous
        np.testing.assert_array_equal(np.delete(X_new[row], zeros), np.delete(X[row], zeros))
    assert not np.any(X_new[~is_anomaly] == 0)


def test_cosmic_ray_is_a_narrow_large_spike(X):
    X_new, is_anomaly = inject_anomalies(X, kind="cosmic_ray", fraction=0.2, random_state=0)
    for row in np.flatnonzero(is_anomaly):
        changed = np.flatnonzero(X_new[row] != X[row])
        assert 1 <= changed.size <= 2
        assert np.all(X_new[row, changed] > 5 * X[row, changed])


def test_slope_is_a_linear_ramp(X):
    X_new, is_anomaly, params = inject_anomalies(
        X, kind="slope", fraction=0.2, wavelength=WAVELENGTH, random_state=0, return_params=True
    )
    ratio = X_new[is_anomaly] / X[is_anomaly]
    for r, s in zip(ratio, params["amplitude"], strict=True):
        assert 0.2 <= abs(s) <= 0.5
        expected = 1 + s * (WAVELENGTH - WAVELENGTH.mean()) / (WAVELENGTH[-1] - WAVELENGTH[0])
        np.testing.assert_allclose(r, expected, rtol=1e-12)


def test_amplitudes_scale_with_flux(X):
    kwargs = dict(kind="mixed", fraction=0.5, wavelength=WAVELENGTH, random_state=3)
    X_new, is_anomaly = inject_anomalies(X, **kwargs)
    X_scaled, is_anomaly_scaled = inject_anomalies(X * 1e-15, **kwargs)
    np.testing.assert_array_equal(is_anomaly, is_anomaly_scaled)
    np.testing.assert_allclose(X_scaled, X_new * 1e-15, rtol=1e-10)


def test_reproducible_with_random_state(X):
    first = inject_anomalies(X, kind="mixed", fraction=0.3, random_state=42, return_params=True)
    second = inject_anomalies(X, kind="mixed", fraction=0.3, random_state=42, return_params=True)
    other = inject_anomalies(X, kind="mixed", fraction=0.3, random_state=43)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    pd.testing.assert_frame_equal(first[2], second[2])
    assert not np.array_equal(first[0], other[0])


def test_params_frame(X):
    _, is_anomaly, params = inject_anomalies(
        X, kind="mixed", fraction=0.4, wavelength=WAVELENGTH, random_state=0, return_params=True
    )
    assert list(params.columns) == [
        "index",
        "kind",
        "center",
        "center_wavelength",
        "width",
        "amplitude",
    ]
    np.testing.assert_array_equal(params["index"], np.flatnonzero(is_anomaly))
    assert set(params["kind"]) <= set(ANOMALY_KINDS) and params["kind"].nunique() > 1
    lines = params[params["kind"].isin(["emission", "absorption"])]
    np.testing.assert_allclose(
        lines["center_wavelength"], np.interp(lines["center"], np.arange(N_PIXELS), WAVELENGTH)
    )


def test_float32_preserved():
    X = np.ones((10, 40), dtype=np.float32)
    X_new, _ = inject_anomalies(X, kind="emission", fraction=0.3, random_state=0)
    assert X_new.dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "spike"}, "kind must be one of .*emission.*mixed"),
        ({"kind": None}, "kind must be one of"),
        ({"fraction": 0}, r"fraction must be .*\(0, 1\)"),
        ({"fraction": 1.0}, "fraction must be"),
        ({"fraction": -0.1}, "fraction must be"),
        ({"fraction": "0.1"}, "fraction must be"),
        ({"wavelength": np.arange(5)}, "wavelength must have shape"),
        ({"wavelength": np.arange(30)[::-1]}, "strictly increasing"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        inject_anomalies(np.ones((10, 30)), **kwargs)


@pytest.mark.parametrize("X", [np.ones(30), np.ones((2, 3, 30)), 1.0])
def test_rejects_non_2d(X):
    with pytest.raises(ValueError, match="2-D"):
        inject_anomalies(X)
