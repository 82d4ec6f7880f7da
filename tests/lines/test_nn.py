import math

import pytest
import torch

from skspectra.nn.lines import (
    GaussianLineLoss,
    GaussianLineNet,
    MultiScaleBlock1d,
    MultiScaleRegressor1d,
    pooled_lengths,
)


def test_pooled_lengths():
    assert pooled_lengths(512, 4) == [512, 256, 128, 64, 32]
    assert pooled_lengths(5, 3) == [5, 3, 2, 1]
    assert pooled_lengths(1, 2) == [1, 1, 1]


def test_multiscale_block_shape():
    block = MultiScaleBlock1d(2, 4, (3, 9, 27))
    assert block(torch.randn(5, 2, 40)).shape == (5, 12, 40)


@pytest.mark.parametrize(("batch", "length"), [(1, 1), (1, 2), (3, 7), (2, 64)])
def test_net_shapes_for_any_batch_and_length(batch, length):
    net = GaussianLineNet(length, 3, (3, 9), n_filters=2, n_blocks=3, hidden_size=8)
    params, logits = net(torch.randn(batch, length))
    assert params.shape == (batch, 3, 3) and logits.shape == (batch, 3)
    net.train()  # GroupNorm, unlike BatchNorm, has no trouble with one sample of length 1
    loss = params.square().sum() + logits.sum()
    loss.backward()
    reg = MultiScaleRegressor1d(length, 5, (3,), n_filters=2, n_blocks=2, hidden_size=4)
    assert reg(torch.randn(batch, length)).shape == (batch, 5)


def make_loss(**weights):
    w = dict(sparsity_weight=0.0, existence_weight=0.0, reconstruction_weight=0.0)
    w.update(weights)
    return GaussianLineLoss(20, loc=[1.0, 10.0, 0.0], scale=[2.0, 5.0, 0.5], **w)


def test_parameter_term_counts_present_slots_only():
    loss = make_loss()
    z_true = torch.zeros(1, 2, 3)
    on = torch.tensor([[1.0, 0.0]])
    y_true = torch.cat([z_true, on[..., None]], dim=-1)
    z_pred = torch.zeros(1, 2, 3)
    z_pred[0, 1] = 5.0  # the absent slot: no cost
    assert loss((z_pred, torch.zeros(1, 2)), y_true).item() == 0.0
    z_pred[0, 0] = torch.tensor([1.0, 2.0, 0.0])  # (1 + 4) over one present slot
    assert loss((z_pred, torch.zeros(1, 2)), y_true).item() == pytest.approx(5.0)


def test_sparsity_term_is_l1_of_absent_amplitudes():
    loss = make_loss(sparsity_weight=2.0)
    y_true = torch.zeros(1, 2, 4)
    y_true[0, 0, 3] = 1.0
    z_pred = torch.zeros(1, 2, 3)
    z_pred[0, 1, 0] = 1.5  # amplitude = 1.5 * 2 + 1 = 4 in slot 1 (absent)
    # mean over B * K = 2 slots: 2.0 * 4 / 2; slot 0 (present, amplitude 1) costs nothing
    assert loss((z_pred, torch.zeros(1, 2)), y_true).item() == pytest.approx(4.0)


def test_existence_term_is_bce():
    loss = make_loss(existence_weight=1.0)
    y_true = torch.zeros(1, 2, 4)
    y_true[0, 0, 3] = 1.0
    logits = torch.tensor([[0.0, 0.0]])
    assert loss((torch.zeros(1, 2, 3), logits), y_true).item() == pytest.approx(math.log(2))


def test_reconstruction_term_vanishes_at_the_truth_and_counts_spurious_lines():
    loss = make_loss(reconstruction_weight=1.0)
    y_true = torch.zeros(1, 2, 4)
    y_true[0, 0] = torch.tensor([0.5, 0.2, 0.3, 1.0])
    z_pred = y_true[..., :3].clone()
    z_pred[0, 1, 0] = -0.5  # amplitude 0 in the absent slot
    assert loss((z_pred, torch.zeros(1, 2)), y_true).item() == pytest.approx(0.0, abs=1e-12)
    z_pred[0, 1, 0] = 1.0  # a spurious line of amplitude 3
    assert loss((z_pred, torch.zeros(1, 2)), y_true).item() > 0.1
