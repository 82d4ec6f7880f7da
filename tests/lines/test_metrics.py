"""Component matching and scores, on small cases worked out by hand."""

import numpy as np
import pytest

from skspectra.lines import (
    component_count_accuracy,
    component_f1_score,
    component_scores,
    match_components,
)

# One true line: amplitude 1, mean 50, sigma 5 (FWHM ratio = sigma ratio).
TRUE = [[1.0, 50.0, 5.0]]


def n_matched(y_true, y_pred, **criteria):
    return len(match_components(y_true, y_pred, **criteria))


@pytest.mark.parametrize(
    ("pred_mean", "expected"),
    [(50.0, 1), (54.99, 1), (45.01, 1), (55.0, 0), (45.0, 0), (60.0, 0)],
)
def test_mean_rule_is_strict_within_one_true_sigma(pred_mean, expected):
    assert n_matched(TRUE, [[1.0, pred_mean, 5.0]]) == expected


@pytest.mark.parametrize(
    ("pred_sigma", "expected"),
    [(1.5, 1), (1.49, 0), (12.5, 1), (12.51, 0), (5.0, 1)],
)
def test_fwhm_ratio_rule_is_inclusive_0p3_to_2p5(pred_sigma, expected):
    # Ratios 0.3 and 2.5 are allowed, 0.298 and 2.502 are not.
    assert n_matched(TRUE, [[1.0, 50.0, pred_sigma]]) == expected


@pytest.mark.parametrize(
    ("pred_amplitude", "expected"),
    [(9.99, 1), (10.0, 0), (0.01, 1), (-0.5, 0), (0.0, 0)],
)
def test_amplitude_rule_is_strictly_between_0_and_10_times_true(pred_amplitude, expected):
    assert n_matched(TRUE, [[pred_amplitude, 50.0, 5.0]]) == expected


def test_absorption_lines_match_by_amplitude_ratio():
    assert n_matched([[-1.0, 50.0, 5.0]], [[-0.5, 50.0, 5.0]]) == 1
    assert n_matched([[-1.0, 50.0, 5.0]], [[0.5, 50.0, 5.0]]) == 0


def test_custom_criteria():
    assert n_matched(TRUE, [[1.0, 57.0, 5.0]]) == 0
    assert n_matched(TRUE, [[1.0, 57.0, 5.0]], mean_tolerance=2.0) == 1
    assert n_matched(TRUE, [[1.0, 50.0, 14.0]], fwhm_ratio_range=(0.3, 3.0)) == 1
    assert n_matched(TRUE, [[15.0, 50.0, 5.0]], max_amplitude_ratio=20.0) == 1


def test_hungarian_maximises_the_number_of_matches():
    # True lines at 50 and 53 (sigma 5); fitted ones at 52 and 56.
    # Greedy nearest-first pairs 52 with 53 (|d| = 1), then 56 cannot reach 50 (|d| = 6 > 5):
    # one match. The one-to-one optimum pairs 52-50 and 56-53: two matches.
    y_true = [[1.0, 50.0, 5.0, 1.0, 53.0, 5.0]]
    y_pred = [[1.0, 52.0, 5.0, 1.0, 56.0, 5.0]]
    m = match_components(y_true, y_pred)
    assert m[["true_component", "pred_component"]].to_numpy().tolist() == [[0, 0], [1, 1]]


def test_hungarian_minimises_total_offset_among_full_matchings():
    # True at 50 and 60 (sigma 10), fitted at 58 then 55 (slots 0, 1). Both pairings are
    # admissible; 50-55 + 60-58 costs 0.5 + 0.2 = 0.7 < 50-58 + 60-55 = 0.8 + 0.5 = 1.3.
    y_true = [[1.0, 50.0, 10.0, 1.0, 60.0, 10.0]]
    y_pred = [[1.0, 58.0, 10.0, 1.0, 55.0, 10.0]]
    m = match_components(y_true, y_pred)
    assert m[["true_component", "pred_component"]].to_numpy().tolist() == [[0, 1], [1, 0]]
    np.testing.assert_allclose(m["mean_pred"], [55.0, 58.0])


def test_one_to_one_even_when_two_fits_sit_on_one_line():
    y_true = [[1.0, 50.0, 5.0, 0.0, 0.0, 0.0]]
    y_pred = [[1.0, 50.0, 5.0, 1.0, 51.0, 5.0]]
    s = component_scores(y_true, y_pred)
    assert (s.n_true, s.n_pred, s.n_matched) == (1, 2, 1)
    assert s.f1 == pytest.approx(2 / 3)
    assert s.precision == pytest.approx(0.5) and s.recall == 1.0


def test_f1_count_accuracy_and_confusion_matrix_by_hand():
    y_true = [
        [1.0, 20.0, 3.0, 2.0, 60.0, 4.0],  # 2 lines
        [1.0, 30.0, 3.0, 0.0, 0.0, 0.0],  # 1 line
        [1.0, 40.0, 3.0, 1.0, 80.0, 3.0],  # 2 lines
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # none
    ]
    y_pred = [
        [2.1, 59.0, 4.0, 0.0, 0.0, 0.0],  # 1 line, matches the second true line
        [1.0, 30.5, 3.0, 1.0, 90.0, 3.0],  # 2 lines, one matches
        [1.0, 40.0, 3.0, 1.0, 80.0, 3.0],  # 2 lines, both match
        [1.0, 10.0, 3.0, 0.0, 0.0, 0.0],  # 1 spurious line
    ]
    s = component_scores(y_true, y_pred)
    # n_true = 2 + 1 + 2 + 0 = 5, n_pred = 1 + 2 + 2 + 1 = 6, matched = 1 + 1 + 2 = 4.
    assert (s.n_true, s.n_pred, s.n_matched) == (5, 6, 4)
    assert s.f1 == pytest.approx(8 / 11)
    assert component_f1_score(y_true, y_pred) == pytest.approx(8 / 11)
    # Counts true (2, 1, 2, 0) vs fitted (1, 2, 2, 1): only the third agrees.
    assert s.count_accuracy == 0.25
    assert component_count_accuracy(y_true, y_pred) == 0.25
    np.testing.assert_array_equal(s.count_labels, [0, 1, 2])
    expected = np.zeros((3, 3), dtype=int)
    expected[2, 1] = expected[1, 2] = expected[2, 2] = expected[0, 1] = 1
    np.testing.assert_array_equal(s.count_confusion_matrix, expected)
    assert s.matches["spectrum"].tolist() == [0, 1, 2, 2]
    assert s.matches["true_component"].tolist() == [1, 0, 0, 1]


def test_r2_per_parameter_over_matched_pairs_by_hand():
    y_true = [[1.0, 10.0, 2.0], [2.0, 20.0, 4.0], [3.0, 30.0, 6.0], [1.0, 50.0, 2.0]]
    y_pred = [[1.1, 10.0, 2.0], [2.0, 21.0, 4.0], [2.9, 29.0, 6.3], [0.0, 0.0, 0.0]]
    s = component_scores(y_true, y_pred)
    assert s.n_matched == 3
    # amplitude: residuals (-0.1, 0, 0.1) -> SS_res 0.02; SS_tot about mean 2 is 2 -> 0.99.
    assert s.r2_amplitude == pytest.approx(1 - 0.02 / 2)
    # mean: residuals (0, -1, 1) -> 2; SS_tot about 20 is 200 -> 0.99.
    assert s.r2_mean == pytest.approx(1 - 2 / 200)
    # sigma: residuals (0, 0, -0.3) -> 0.09; SS_tot about 4 is 8.
    assert s.r2_sigma == pytest.approx(1 - 0.09 / 8)


def test_r2_is_nan_with_fewer_than_two_matches():
    s = component_scores(TRUE, [[1.0, 50.0, 5.0]])
    assert s.n_matched == 1 and s.f1 == 1.0
    assert np.isnan(s.r2_amplitude) and np.isnan(s.r2_mean) and np.isnan(s.r2_sigma)


def test_tables_of_different_widths():
    y_true = [[1.0, 50.0, 5.0, 0.0, 0.0, 0.0]]
    y_pred = [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 50.0, 5.0]]
    s = component_scores(y_true, y_pred)
    assert s.n_matched == 1 and s.matches["pred_component"].tolist() == [2]
    assert s.count_confusion_matrix.shape == (4, 4)


def test_nothing_to_find_and_nothing_found_is_perfect():
    s = component_scores(np.zeros((3, 6)), np.zeros((3, 6)))
    assert (s.n_true, s.n_pred, s.n_matched) == (0, 0, 0)
    assert s.f1 == 1.0 and s.count_accuracy == 1.0
    assert list(s.matches.columns)[:3] == ["spectrum", "true_component", "pred_component"]


@pytest.mark.parametrize(
    ("y_true", "y_pred", "match"),
    [
        (np.zeros((2, 6)), np.zeros((3, 6)), "different numbers of spectra"),
        (np.zeros((2, 4)), np.zeros((2, 6)), "3 \\* max_components"),
        ([[np.nan, 1.0, 1.0]], [[1.0, 1.0, 1.0]], "NaN"),
    ],
)
def test_bad_inputs_raise(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        component_scores(y_true, y_pred)
