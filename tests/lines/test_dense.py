"""The dense (CenterNet-style) head of GaussianLineFitter: module shapes, targets, decoding."""

import numpy as np
import pytest
import torch
from scipy.special import logit

from skspectra.lines._dense import _cells, _decode_peaks, _dense_targets
from skspectra.nn.lines import DenseLineLoss, GaussianLineDetector


@pytest.mark.parametrize(("batch", "length"), [(1, 1), (1, 2), (3, 7), (2, 64), (2, 256)])
def test_detector_shapes_for_any_batch_and_length(batch, length):
    net = GaussianLineDetector(length, 3, (3, 9), n_filters=2, n_blocks=3, hidden_size=8)
    dense, count = net(torch.randn(batch, length))
    assert dense.shape == (batch, 4, _cells(length)[0])
    assert count.shape == (batch, 4)
    assert _cells(length)[0] == (1 if length == 1 else -(-length // 2))


def test_targets_mark_each_line_centre_once():
    mean = np.array([[20.2, 51.0, 0.0], [7.9, 0.0, 0.0]])
    present = np.array([[True, True, False], [True, False, False]])
    z = np.zeros((2, 3, 3))
    z[..., 0], z[..., 2] = 1.5, -0.5  # z(a), z(ln sigma)
    t = _dense_targets(z, mean, present, 64)
    assert t.shape == (2, 5, 32)
    # Cell of width 2 channels: mean m lies in cell floor((m + 0.5) / 2).
    np.testing.assert_array_equal(np.flatnonzero(t[0, 0] == 1.0), [10, 25])
    np.testing.assert_array_equal(np.flatnonzero(t[1, 0] == 1.0), [4])
    np.testing.assert_allclose(t[0, 1, [10, 25]], [(20.7 / 2) - 10, (51.5 / 2) - 25])
    np.testing.assert_allclose(t[0, 0, 11], np.exp(-0.5))  # one cell away
    np.testing.assert_array_equal(t[0, 3, [10, 25]], 1.5)
    np.testing.assert_array_equal(t[0, 2, [10, 25]], -0.5)
    np.testing.assert_array_equal(t[:, 4], [[2] * 32, [1] * 32])


def test_decoding_a_perfect_output_gives_back_the_lines():
    mean = np.array([[20.2, 51.0, 33.3]])
    present = np.array([[True, True, False]])
    z = np.zeros((1, 3, 3))
    z[0, :, 0] = [0.3, 1.2, 0.0]
    t = _dense_targets(z, mean, present, 64)
    dense = t[:, :4].copy()
    dense[:, 0] = logit(np.clip(t[:, 0], 1e-6, 1 - 1e-6))  # probabilities to logits
    dense[:, 1] = logit(np.clip(t[:, 1], 1e-9, 1 - 1e-9))
    count = np.log([[0.05, 0.05, 0.8, 0.1]])  # P(K = 0, 1, 2, 3)
    decoded, probability = _decode_peaks((dense, count), 3, 64)
    # P(K > 0), P(K > 1), P(K > 2)
    np.testing.assert_allclose(probability[0], [0.95, 0.9, 0.1])
    # The two peaks first (tied at ~1: in cell order), then the best cell left.
    np.testing.assert_allclose(np.sort(decoded[0, :2, 1]), [20.2, 51.0], atol=1e-6)
    np.testing.assert_allclose(np.sort(decoded[0, :2, 0]), [0.3, 1.2])
    assert min(abs(decoded[0, 2, 1] - 20.2), abs(decoded[0, 2, 1] - 51.0)) > 3.0


def test_loss_is_smallest_for_the_right_heatmap_and_count():
    rng = np.random.default_rng(0)
    t = torch.zeros(2, 5, 16)
    t[0, 0, 5], t[1, 0, 9] = 1.0, 1.0
    t[:, 1:4] = torch.tensor(rng.uniform(0, 1, (2, 3, 16)), dtype=torch.float32)
    t[:, 4] = 1.0
    good = t[:, :4].clone()
    good[:, 0] = torch.where(t[:, 0] == 1, 8.0, -8.0)
    good[:, 1] = torch.logit(t[:, 1])
    right = torch.tensor([[-9.0, 9.0, -9.0], [-9.0, 9.0, -9.0]])
    bad = good.clone()
    bad[0, 0, 5], bad[0, 0, 6] = -8.0, 8.0  # the line one cell off
    loss = DenseLineLoss()
    assert loss((good, right), t) < 0.01
    assert loss((bad, right), t) > 1.0
    wrong = torch.tensor([[9.0, -9.0, -9.0], [9.0, -9.0, -9.0]])
    assert loss((good, wrong), t) > 1.0  # count 1 read as 0
