"""The numpy BPTT references against finite differences and against torch autograd (float64)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seqrnn.reference import (
    ELMAN_PARAMS,
    LSTM_PARAMS,
    elman_forward,
    elman_loss_and_grads,
    init_elman,
    init_lstm,
    lstm_forward,
    lstm_loss_and_grads,
    one_hot,
)

T, VOCAB, INPUT, HIDDEN = 7, 4, 3, 5
TORCH_GATE_ORDER = ("i", "f", "g", "o")  # how nn.LSTM stacks its four blocks


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def elman_problem(rng):
    """One-hot inputs over a small vocabulary, a non-zero initial state."""
    params = init_elman(VOCAB, HIDDEN, VOCAB, rng, scale=0.5)
    xs = one_hot(rng.integers(0, VOCAB, T), VOCAB)
    targets = rng.integers(0, VOCAB, T)
    h0 = 0.5 * rng.standard_normal(HIDDEN)
    return params, xs, targets, h0


def lstm_problem(rng):
    """Real-valued inputs, non-zero initial states."""
    params = init_lstm(INPUT, HIDDEN, VOCAB, rng, scale=0.5)
    xs = rng.standard_normal((T, INPUT))
    targets = rng.integers(0, VOCAB, T)
    h0, C0 = 0.5 * rng.standard_normal(HIDDEN), 0.5 * rng.standard_normal(HIDDEN)
    return params, xs, targets, h0, C0


def numerical_grads(loss_fn, params, eps=1e-4):
    """Central differences of loss_fn() with respect to every entry of every parameter."""
    grads = {}
    for name, value in params.items():
        grad = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            saved = value[idx]
            value[idx] = saved + eps
            plus = loss_fn()
            value[idx] = saved - eps
            minus = loss_fn()
            value[idx] = saved
            grad[idx] = (plus - minus) / (2 * eps)
        grads[name] = grad
    return grads


def max_relative_error(analytic, numeric):
    # Floor the denominator so that entries which are zero in both do not divide 0 by 0.
    denom = np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)
    return float(np.max(np.abs(analytic - numeric) / denom))


def test_elman_gradients_match_finite_differences(rng):
    params, xs, targets, h0 = elman_problem(rng)
    _, grads = elman_loss_and_grads(params, xs, targets, h0)
    numeric = numerical_grads(lambda: elman_forward(params, xs, targets, h0).loss, params)
    assert set(grads) == set(ELMAN_PARAMS)
    for name in ELMAN_PARAMS:
        assert np.abs(grads[name]).max() > 1e-3, name  # a real gradient, not zeros vs zeros
        assert max_relative_error(grads[name], numeric[name]) < 1e-6, name


def test_lstm_gradients_match_finite_differences(rng):
    params, xs, targets, h0, C0 = lstm_problem(rng)
    _, grads = lstm_loss_and_grads(params, xs, targets, h0, C0)
    numeric = numerical_grads(lambda: lstm_forward(params, xs, targets, h0, C0).loss, params)
    assert set(grads) == set(LSTM_PARAMS)
    for name in LSTM_PARAMS:
        assert np.abs(grads[name]).max() > 1e-3, name
        assert max_relative_error(grads[name], numeric[name]) < 1e-6, name


def windows(length, truncate):
    """(start, stop) of each truncation window; one window when truncate is None."""
    k = truncate or length
    return [(start, min(start + k, length)) for start in range(0, length, k)]


def torch_elman(params, xs, targets, h0, truncate):
    """nn.RNN with the reference's weights; the state is detached at each window start."""
    rnn = torch.nn.RNN(VOCAB, HIDDEN, nonlinearity="tanh", dtype=torch.float64)
    head = torch.nn.Linear(HIDDEN, VOCAB, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(params["W_xh"]))
        rnn.weight_hh_l0.copy_(torch.from_numpy(params["W_hh"]))
        rnn.bias_ih_l0.copy_(torch.from_numpy(params["b_h"]))
        rnn.bias_hh_l0.zero_()  # torch has two biases; the reference has one
        head.weight.copy_(torch.from_numpy(params["W_hy"]))
        head.bias.copy_(torch.from_numpy(params["b_y"]))
    x, y = torch.from_numpy(xs), torch.from_numpy(targets)
    h = torch.from_numpy(h0).unsqueeze(0)  # (1, H)
    loss = torch.zeros((), dtype=torch.float64)
    for start, stop in windows(len(xs), truncate):
        h = h.detach()  # the window's incoming state is a constant
        out, h = rnn(x[start:stop], h)  # (k, H)
        loss = loss + F.cross_entropy(head(out), y[start:stop], reduction="sum")
    loss.backward()
    grads = {
        "W_xh": rnn.weight_ih_l0.grad,
        "W_hh": rnn.weight_hh_l0.grad,
        "b_h": rnn.bias_ih_l0.grad,
        "W_hy": head.weight.grad,
        "b_y": head.bias.grad,
    }
    return loss.item(), {name: g.numpy() for name, g in grads.items()}


def torch_lstm(params, xs, targets, h0, C0, truncate):
    """nn.LSTM with the reference's weights; (h, C) detached at each window start."""
    lstm = torch.nn.LSTM(INPUT, HIDDEN, dtype=torch.float64)
    head = torch.nn.Linear(HIDDEN, VOCAB, dtype=torch.float64)

    def stack(prefix):
        return torch.from_numpy(np.concatenate([params[f"{prefix}{g}"] for g in TORCH_GATE_ORDER]))

    with torch.no_grad():
        lstm.weight_ih_l0.copy_(stack("W_x"))
        lstm.weight_hh_l0.copy_(stack("W_h"))
        lstm.bias_ih_l0.copy_(stack("b_"))
        lstm.bias_hh_l0.zero_()
        head.weight.copy_(torch.from_numpy(params["W_hy"]))
        head.bias.copy_(torch.from_numpy(params["b_y"]))
    x, y = torch.from_numpy(xs), torch.from_numpy(targets)
    state = (torch.from_numpy(h0).unsqueeze(0), torch.from_numpy(C0).unsqueeze(0))
    loss = torch.zeros((), dtype=torch.float64)
    for start, stop in windows(len(xs), truncate):
        state = tuple(s.detach() for s in state)
        out, state = lstm(x[start:stop], state)
        loss = loss + F.cross_entropy(head(out), y[start:stop], reduction="sum")
    loss.backward()
    grads = {"W_hy": head.weight.grad.numpy(), "b_y": head.bias.grad.numpy()}
    for prefix, tensor in (("W_x", lstm.weight_ih_l0), ("W_h", lstm.weight_hh_l0)):
        for gate, block in zip(TORCH_GATE_ORDER, tensor.grad.chunk(4), strict=True):
            grads[f"{prefix}{gate}"] = block.numpy()
    for gate, block in zip(TORCH_GATE_ORDER, lstm.bias_ih_l0.grad.chunk(4), strict=True):
        grads[f"b_{gate}"] = block.numpy()
    return loss.item(), grads


@pytest.mark.parametrize("truncate", [None, 1, 2, 3])
def test_elman_matches_torch_autograd(rng, truncate):
    params, xs, targets, h0 = elman_problem(rng)
    loss, grads = elman_loss_and_grads(params, xs, targets, h0, truncate=truncate)
    torch_loss, torch_grads = torch_elman(params, xs, targets, h0, truncate)
    assert loss == pytest.approx(torch_loss, rel=1e-12)
    for name in ELMAN_PARAMS:
        np.testing.assert_allclose(grads[name], torch_grads[name], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("truncate", [None, 1, 2, 3])
def test_lstm_matches_torch_autograd(rng, truncate):
    params, xs, targets, h0, C0 = lstm_problem(rng)
    loss, grads = lstm_loss_and_grads(params, xs, targets, h0, C0, truncate=truncate)
    torch_loss, torch_grads = torch_lstm(params, xs, targets, h0, C0, truncate)
    assert loss == pytest.approx(torch_loss, rel=1e-12)
    for name in LSTM_PARAMS:
        np.testing.assert_allclose(grads[name], torch_grads[name], rtol=1e-10, atol=1e-12)


def test_zero_initial_state_is_the_default(rng):
    params, xs, targets, _ = elman_problem(rng)
    loss, grads = elman_loss_and_grads(params, xs, targets)
    loss0, grads0 = elman_loss_and_grads(params, xs, targets, np.zeros(HIDDEN))
    assert loss == loss0
    np.testing.assert_array_equal(grads["W_hh"], grads0["W_hh"])


@pytest.mark.parametrize("k", [T, T + 5])
def test_truncation_window_at_least_the_sequence_is_full_bptt(rng, k):
    params, xs, targets, h0, C0 = lstm_problem(rng)
    _, full = lstm_loss_and_grads(params, xs, targets, h0, C0)
    _, truncated = lstm_loss_and_grads(params, xs, targets, h0, C0, truncate=k)
    for name in LSTM_PARAMS:
        np.testing.assert_array_equal(truncated[name], full[name])
    eparams, exs, etargets, eh0 = elman_problem(rng)
    _, efull = elman_loss_and_grads(eparams, exs, etargets, eh0)
    _, etruncated = elman_loss_and_grads(eparams, exs, etargets, eh0, truncate=k)
    for name in ELMAN_PARAMS:
        np.testing.assert_array_equal(etruncated[name], efull[name])


@pytest.mark.parametrize("k", [1, 2])
def test_short_truncation_changes_only_the_recurrent_gradients(rng, k):
    params, xs, targets, h0 = elman_problem(rng)
    loss, full = elman_loss_and_grads(params, xs, targets, h0)
    truncated_loss, truncated = elman_loss_and_grads(params, xs, targets, h0, truncate=k)
    assert truncated_loss == loss  # the forward pass is untouched
    for name in ("W_hy", "b_y"):  # the output layer never sees the carried gradient
        np.testing.assert_array_equal(truncated[name], full[name])
    for name in ("W_xh", "W_hh", "b_h"):
        assert np.abs(truncated[name] - full[name]).max() > 1e-3, name


def test_short_truncation_changes_lstm_gradients(rng):
    params, xs, targets, h0, C0 = lstm_problem(rng)
    _, full = lstm_loss_and_grads(params, xs, targets, h0, C0)
    _, truncated = lstm_loss_and_grads(params, xs, targets, h0, C0, truncate=2)
    for gate in ("f", "i", "g", "o"):
        assert np.abs(truncated[f"W_h{gate}"] - full[f"W_h{gate}"]).max() > 1e-3, gate


@pytest.mark.parametrize("bad", [0, -3])
def test_truncation_window_must_be_positive(rng, bad):
    params, xs, targets, h0 = elman_problem(rng)
    with pytest.raises(ValueError, match="truncate"):
        elman_loss_and_grads(params, xs, targets, h0, truncate=bad)
