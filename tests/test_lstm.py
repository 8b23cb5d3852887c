"""The numpy LSTM (reference/lstm.py): its step, forward pass and tape. Its gradients are checked
against finite differences and torch in test_bptt.py."""

import numpy as np
import torch

from seqrnn.reference import (
    LSTM_PARAMS,
    init_lstm,
    lstm_forward,
    lstm_loss_and_grads,
    lstm_step,
    one_hot,
)

TORCH_GATE_ORDER = ("i", "f", "g", "o")  # how nn.LSTM stacks its four blocks


def test_a_step_is_torchs_lstm_cell_with_the_gates_stacked_in_its_order():
    rng = np.random.default_rng(0)
    params = init_lstm(4, 3, 5, rng, scale=0.5)
    x, h, C = rng.standard_normal(4), rng.standard_normal(3), rng.standard_normal(3)
    cell = torch.nn.LSTMCell(4, 3).double()

    def stacked(prefix: str) -> torch.Tensor:
        return torch.from_numpy(np.concatenate([params[prefix + g] for g in TORCH_GATE_ORDER]))

    with torch.no_grad():
        cell.weight_ih.copy_(stacked("W_x"))
        cell.weight_hh.copy_(stacked("W_h"))
        cell.bias_ih.copy_(stacked("b_"))
        cell.bias_hh.zero_()
        h_torch, C_torch = cell(torch.from_numpy(x)[None], (torch.from_numpy(h)[None],
                                                            torch.from_numpy(C)[None]))
    step = lstm_step(params, x, h, C)
    np.testing.assert_allclose(step.h, h_torch[0].numpy(), rtol=1e-12)
    np.testing.assert_allclose(step.C, C_torch[0].numpy(), rtol=1e-12)


def test_with_zero_weights_every_gate_is_half_open_and_the_cell_halves():
    params = {name: np.zeros((2, 2)) if name.startswith("W") else np.zeros(2)
              for name in LSTM_PARAMS}
    C_prev = np.array([1.0, -2.0])
    step = lstm_step(params, np.ones(2), np.ones(2), C_prev)
    for gate in (step.f, step.i, step.o):
        np.testing.assert_array_equal(gate, [0.5, 0.5])
    np.testing.assert_array_equal(step.g, [0.0, 0.0])
    np.testing.assert_allclose(step.C, 0.5 * C_prev)
    np.testing.assert_allclose(step.h, 0.5 * np.tanh(0.5 * C_prev))


def test_loss_and_grads_cover_every_parameter_and_the_tape_keeps_each_step():
    rng = np.random.default_rng(1)
    params = init_lstm(3, 4, 3, rng)
    xs, targets = one_hot(np.array([0, 2, 1, 1]), 3), np.array([2, 1, 1, 0])
    tape = lstm_forward(params, xs, targets)
    loss, grads = lstm_loss_and_grads(params, xs, targets)
    assert loss == tape.loss and len(tape.steps) == 4
    assert tuple(grads) == LSTM_PARAMS
    assert all(grads[name].shape == params[name].shape for name in LSTM_PARAMS)
    assert all(np.array_equal(part, np.zeros(4)) for part in tape.prev(0))
    assert tape.prev(2) == (tape.steps[1].h, tape.steps[1].C)
    expected = -sum(np.log(tape.ps[t, targets[t]]) for t in range(4))
    assert np.isclose(tape.loss, expected, rtol=1e-12)
