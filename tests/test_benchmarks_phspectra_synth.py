"""The rebuilt PHSpectra synthetic benchmark (benchmarks/_phspectra_synth.py) draws its setting."""

import numpy as np
import pytest

from benchmarks._phspectra_synth import CATEGORIES, make_phspectra_spectra

N_LINES = {
    "single_bright": (1, 1),
    "single_faint": (1, 1),
    "single_narrow": (1, 1),
    "single_broad": (1, 1),
    "multi_separated": (2, 3),
    "multi_blended": (2, 3),
    "crowded": (4, 5),
}
# (amplitude K, sigma channels) ranges of PHSpectra's beta.md "Test design" table
RANGES = {
    "single_bright": ((1.0, 5.0), (3.0, 10.0)),
    "single_faint": ((0.3, 0.8), (3.0, 10.0)),
    "single_narrow": ((1.0, 5.0), (1.0, 2.5)),
    "single_broad": ((0.5, 3.0), (10.0, 20.0)),
    "multi_separated": ((0.5, 4.0), (2.0, 8.0)),
    "multi_blended": ((0.5, 4.0), (3.0, 8.0)),
    "crowded": ((0.3, 3.0), (2.0, 6.0)),
}


@pytest.fixture(scope="module")
def data():
    return make_phspectra_spectra(50, random_state=0)


def lines_of(row):
    lines = row.reshape(-1, 3)
    return lines[lines[:, 0] != 0]


def test_350_spectra_of_424_channels_50_per_category(data):
    X, y, category = data
    assert X.shape == (350, 424)
    assert y.shape == (350, 15)
    names, counts = np.unique(category, return_counts=True)
    assert sorted(names) == sorted(CATEGORIES)
    assert set(counts) == {50}


def test_noise_is_white_with_sd_0_13_K(data):
    X, y, _ = data
    x = np.arange(424.0)
    model = np.array(
        [sum(a * np.exp(-0.5 * ((x - m) / s) ** 2) for a, m, s in lines_of(row)) for row in y]
    )
    residual = X - model
    assert residual.std() == pytest.approx(0.13, rel=0.01)
    assert abs(residual.mean()) < 0.13 / np.sqrt(residual.size) * 5


def test_each_category_has_its_published_counts_and_ranges(data):
    _, y, category = data
    for row, name in zip(y, category, strict=True):
        lines = lines_of(row)
        lo, hi = N_LINES[name]
        assert lo <= len(lines) <= hi, name
        (a_lo, a_hi), (s_lo, s_hi) = RANGES[name]
        assert np.all((lines[:, 0] >= a_lo) & (lines[:, 0] <= a_hi)), name
        assert np.all((lines[:, 2] >= s_lo) & (lines[:, 2] <= s_hi)), name
        assert np.all((lines[:, 1] >= 10) & (lines[:, 1] <= 414)), name
        assert np.all(np.diff(lines[:, 1]) >= 0), "lines are sorted by mean"
    # every count of each multi-line category occurs
    for name in ("multi_separated", "multi_blended", "crowded"):
        n = {len(lines_of(row)) for row in y[category == name]}
        assert n == set(range(N_LINES[name][0], N_LINES[name][1] + 1)), name


def _gaps(lines):
    """Distance of each line to its nearest neighbour, in units of the larger sigma."""
    m, s = lines[:, 1], lines[:, 2]
    d = np.abs(m[:, None] - m[None]) / np.maximum(s[:, None], s[None])
    np.fill_diagonal(d, np.inf)
    return d.min(axis=1)


def test_separated_lines_are_apart_and_blended_lines_are_close(data):
    _, y, category = data
    separated = np.concatenate([_gaps(lines_of(r)) for r in y[category == "multi_separated"]])
    blends = [lines_of(r) for r in y[category == "multi_blended"]]
    assert np.mean(separated > 4.0) > 0.95
    # each blended line lies 1.5-3 larger sigmas from the line drawn before or after it
    # (a third line may fall back near the first, so only pairs have a lower bound too)
    assert np.all(np.concatenate([_gaps(b) for b in blends]) <= 3.0 + 1e-9)
    pairs = np.array([_gaps(b)[0] for b in blends if len(b) == 2])
    assert len(pairs) > 10
    assert np.mean(pairs >= 1.5 - 1e-9) > 0.95  # all but lines clipped at the edges


def test_seeded():
    a = make_phspectra_spectra(2, random_state=7)
    b = make_phspectra_spectra(2, random_state=7)
    c = make_phspectra_spectra(2, random_state=8)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(categories=("single_bright", "nope")), "unknown categories"),
        (dict(max_components=3), "max_components=5"),
        (dict(n_per_category=0), "at least 1"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_phspectra_spectra(**kwargs)


def test_bench_module_follows_the_runner_interface():
    from benchmarks import check_interface, load

    check_interface(load("lines_phspectra"))
