"""Weights to and from torch's fused modules (nn/convert.py)."""

import pytest
import torch
from torch import nn

from seqrnn.nn import (
    RecurrentStack,
    copy_from_torch,
    copy_to_torch,
    from_torch,
    to_torch,
)

CELLS = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
FUSED = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def outputs_and_state(module, x):
    outputs, state = module(x)
    return [outputs, *(state if isinstance(state, tuple) else (state,))]


def assert_same_function(a, b, x, atol):
    for got, expected in zip(outputs_and_state(a, x), outputs_and_state(b, x), strict=True):
        torch.testing.assert_close(got, expected, atol=atol, rtol=0)


@pytest.mark.parametrize("cell_type, nonlinearity", CELLS)
def test_explicit_to_torch_and_back_is_exact(cell_type, nonlinearity):
    stack = RecurrentStack(cell_type, 3, 5, num_layers=2, dropout=0.3, nonlinearity=nonlinearity)
    stack.eval().double()
    with torch.no_grad():  # nonzero everywhere, GRU's b_hn included
        for parameter in stack.parameters():
            parameter.normal_()

    fused = to_torch(stack)
    back = from_torch(fused)

    assert type(fused) is FUSED[cell_type] and fused.batch_first
    assert (fused.num_layers, fused.dropout, fused.training) == (2, 0.3, False)
    assert getattr(fused, "nonlinearity", "tanh") == nonlinearity
    assert fused.weight_hh_l1.dtype == torch.float64
    for (name, parameter), (name_back, parameter_back) in zip(
        stack.named_parameters(), back.named_parameters(), strict=True
    ):
        assert name == name_back and torch.equal(parameter, parameter_back)
    x = torch.randn(4, 6, 3, dtype=torch.float64)
    assert_same_function(fused, stack, x, atol=1e-12)
    assert_same_function(back, stack, x, atol=0)


@pytest.mark.parametrize("cell_type, nonlinearity", CELLS)
def test_torch_to_explicit_and_back_keeps_the_function(cell_type, nonlinearity):
    options = {"nonlinearity": nonlinearity} if cell_type == "rnn" else {}
    fused = FUSED[cell_type](3, 5, 3, batch_first=True, **options).double()

    back = to_torch(from_torch(fused))

    x = torch.randn(4, 6, 3, dtype=torch.float64)
    assert_same_function(back, fused, x, atol=1e-12)
    H = 5
    for k in range(3):
        bias_ih, bias_hh = getattr(fused, f"bias_ih_l{k}"), getattr(fused, f"bias_hh_l{k}")
        new_ih, new_hh = getattr(back, f"bias_ih_l{k}"), getattr(back, f"bias_hh_l{k}")
        # The two biases were merged into one; only the GRU's n block of b_hh stays apart.
        kept = 2 * H if cell_type == "gru" else len(bias_hh)
        torch.testing.assert_close(new_ih[:kept], bias_ih[:kept] + bias_hh[:kept])
        assert torch.equal(new_hh[:kept], torch.zeros(kept, dtype=torch.float64))
        assert torch.equal(new_ih[kept:], bias_ih[kept:])
        assert torch.equal(new_hh[kept:], bias_hh[kept:])


def test_gru_n_bias_would_be_wrong_if_merged():
    """The reason b_hn is kept apart: adding it into b_n changes the GRU's outputs."""
    fused = nn.GRU(3, 5, batch_first=True).double()
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    expected, _ = fused(x)
    with torch.no_grad():
        fused.bias_ih_l0[10:] += fused.bias_hh_l0[10:]
        fused.bias_hh_l0[10:] = 0
    assert not torch.allclose(fused(x)[0], expected, atol=1e-3)


def test_in_place_copies_both_ways():
    stack = RecurrentStack("lstm", 3, 4, num_layers=2)
    fused = nn.LSTM(3, 4, 2, batch_first=True)
    x = torch.randn(2, 5, 3)
    copy_to_torch(stack, fused)
    assert_same_function(fused, stack, x, atol=1e-6)
    other = nn.LSTM(3, 4, 2, batch_first=True)
    copy_from_torch(other, stack)
    assert_same_function(stack, other, x, atol=1e-6)


@pytest.mark.parametrize(
    "module, message",
    [
        (
            nn.LSTM(3, 4, 2, batch_first=True),
            r"architectures differ .* \('lstm', 'tanh', 3, 4, 2\)",
        ),
        (nn.GRU(3, 4, batch_first=True), r"torch \('gru', 'tanh', 3, 4, 1\)"),
        (nn.RNN(3, 4, batch_first=True, nonlinearity="relu"), r"torch \('rnn', 'relu'"),
        (nn.LSTM(3, 4, batch_first=True, bidirectional=True), "only unidirectional"),
        (nn.LSTM(3, 4, batch_first=True, proj_size=2), "no projection"),
        (nn.LSTM(3, 4, batch_first=True, bias=False), "with biases"),
        (nn.LSTM(3, 4), "batch_first=True"),
        (nn.Linear(3, 4), "expected torch.nn.RNN, LSTM or GRU, got Linear"),
    ],
)
def test_mismatched_or_unsupported_modules_are_refused(module, message):
    stack = RecurrentStack("lstm", 3, 4)
    with pytest.raises(ValueError, match=message):
        copy_to_torch(stack, module)
    with pytest.raises(ValueError, match=message):
        copy_from_torch(module, stack)


@pytest.mark.parametrize("unsupported", [{"bidirectional": True}, {"batch_first": False}])
def test_from_torch_refuses_what_the_stack_cannot_do(unsupported):
    with pytest.raises(ValueError, match="only unidirectional"):
        from_torch(nn.GRU(3, 4, **{"batch_first": True, **unsupported}))
