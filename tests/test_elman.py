"""The numpy Elman RNN (reference/elman.py): its step, forward pass and tape. Its gradients are
checked against finite differences and torch in test_bptt.py."""

import math

import numpy as np
import torch

from seqrnn.reference import (
    ELMAN_PARAMS,
    elman_forward,
    elman_loss_and_grads,
    elman_step,
    init_elman,
    one_hot,
)


def test_a_step_is_torchs_rnn_cell_with_the_same_weights():
    rng = np.random.default_rng(0)
    params = init_elman(4, 3, 5, rng, scale=0.5)
    x, h = rng.standard_normal(4), rng.standard_normal(3)
    cell = torch.nn.RNNCell(4, 3).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(params["W_xh"]))
        cell.weight_hh.copy_(torch.from_numpy(params["W_hh"]))
        cell.bias_ih.copy_(torch.from_numpy(params["b_h"]))
        cell.bias_hh.zero_()
        expected = cell(torch.from_numpy(x)[None], torch.from_numpy(h)[None])[0].numpy()
    np.testing.assert_allclose(elman_step(params, x, h), expected, rtol=1e-12)


def test_the_forward_pass_of_a_one_unit_net_is_its_closed_form():
    params = {"W_xh": np.array([[1.0]]), "W_hh": np.array([[0.5]]), "b_h": np.array([0.0]),
              "W_hy": np.array([[1.0], [-1.0]]), "b_y": np.array([0.0, 0.0])}
    tape = elman_forward(params, np.ones((2, 1)), np.array([0, 1]))
    h1 = math.tanh(1.0)
    h2 = math.tanh(1.0 + 0.5 * h1)
    np.testing.assert_allclose(tape.hs[:, 0], [h1, h2])
    # y = softmax([h, -h]): target 0 at step 1, target 1 at step 2
    expected = math.log1p(math.exp(-2 * h1)) + math.log1p(math.exp(2 * h2))
    assert math.isclose(tape.loss, expected, rel_tol=1e-12)
    np.testing.assert_allclose(tape.ps.sum(axis=1), [1.0, 1.0])
    assert np.array_equal(tape.h_prev(0), [0.0]) and np.array_equal(tape.h_prev(1), tape.hs[0])


def test_loss_and_grads_cover_every_parameter_in_its_shape_and_continue_a_state():
    rng = np.random.default_rng(1)
    params = init_elman(3, 4, 3, rng)
    xs, targets = one_hot(np.array([0, 2, 1, 1]), 3), np.array([2, 1, 1, 0])
    loss, grads = elman_loss_and_grads(params, xs, targets)
    assert loss == elman_forward(params, xs, targets).loss
    assert tuple(grads) == ELMAN_PARAMS
    assert all(grads[name].shape == params[name].shape for name in ELMAN_PARAMS)
    h0 = elman_forward(params, xs[:2], targets[:2]).hs[-1]  # two steps, then two more from there
    assert np.allclose(elman_forward(params, xs[2:], targets[2:], h0).hs,
                       elman_forward(params, xs, targets).hs[2:])
