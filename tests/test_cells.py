"""One time step of each cell: the lecture's equations, torch's cells, the registry."""

import pytest
import torch
from torch import nn

from seqrnn import configs
from seqrnn.errors import UserError
from seqrnn.nn import (
    CELL_TYPES,
    ConcatElmanCell,
    ElmanCell,
    GRUCell,
    LSTMCell,
    cell_class,
    cell_to_torch,
    to_concatenated,
    to_separate,
)

B, I, H = 3, 5, 4


def _leaf(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_elman_formulations_give_same_outputs_and_gradients(nonlinearity):
    separate = ElmanCell(I, H, nonlinearity).double()
    concatenated = to_concatenated(separate)  # W_h = [W_xh  W_hh]
    x, h = _leaf(B, I), _leaf(B, H)
    x2, h2 = x.detach().clone().requires_grad_(), h.detach().clone().requires_grad_()
    weights = torch.randn(B, H, dtype=torch.float64)

    out = separate(x, h)
    out2 = concatenated(x2, h2)
    (out * weights).sum().backward()
    (out2 * weights).sum().backward()

    torch.testing.assert_close(out2, out, atol=1e-12, rtol=0)
    torch.testing.assert_close(x2.grad, x.grad, atol=1e-12, rtol=0)
    torch.testing.assert_close(h2.grad, h.grad, atol=1e-12, rtol=0)
    W_h_grad = torch.cat([separate.W_xh.grad, separate.W_hh.grad], dim=1)
    torch.testing.assert_close(concatenated.W_h.grad, W_h_grad, atol=1e-12, rtol=0)
    torch.testing.assert_close(concatenated.b_h.grad, separate.b_h.grad, atol=1e-12, rtol=0)
    if nonlinearity == "relu":
        assert (out == 0).any() and (out > 1).any()  # relu really was used, not tanh


def test_elman_formulations_convert_back_exactly():
    separate = ElmanCell(I, H, "relu")
    back = to_separate(to_concatenated(separate))
    assert isinstance(to_concatenated(separate), ConcatElmanCell)
    assert back.nonlinearity == "relu"
    for name, parameter in separate.named_parameters():
        assert torch.equal(getattr(back, name), parameter)


def test_lstm_step_is_the_lecture_equations():
    cell = LSTMCell(I, H).double()
    x, h, c = _leaf(B, I), _leaf(B, H), _leaf(B, H)
    # The per-gate matrices of the lecture are row blocks of W_x, W_h, b in the order i, f, g, o.
    W_xi, W_xf, W_xg, W_xo = cell.W_x.split(H)
    W_hi, W_hf, W_hg, W_ho = cell.W_h.split(H)
    b_i, b_f, b_g, b_o = cell.b.split(H)
    f = torch.sigmoid(x @ W_xf.T + h @ W_hf.T + b_f)
    i = torch.sigmoid(x @ W_xi.T + h @ W_hi.T + b_i)
    g = torch.tanh(x @ W_xg.T + h @ W_hg.T + b_g)
    o = torch.sigmoid(x @ W_xo.T + h @ W_ho.T + b_o)
    c_next = c * f + i * g
    h_next = o * torch.tanh(c_next)

    h_out, c_out = cell(x, (h, c))

    torch.testing.assert_close(c_out, c_next, atol=1e-12, rtol=0)
    torch.testing.assert_close(h_out, h_next, atol=1e-12, rtol=0)


TORCH_CELLS = {
    "rnn": lambda nonlinearity: nn.RNNCell(I, H, nonlinearity=nonlinearity),
    "lstm": lambda _: nn.LSTMCell(I, H),
    "gru": lambda _: nn.GRUCell(I, H),
}


@pytest.mark.parametrize(
    "cell_type, nonlinearity", [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
)
def test_one_step_matches_torch_cell(cell_type, nonlinearity):
    ours = cell_class(cell_type)(I, H, nonlinearity).double()
    theirs = TORCH_CELLS[cell_type](nonlinearity).double()
    with torch.no_grad():
        for name, value in cell_to_torch(ours)._asdict().items():
            getattr(theirs, name).copy_(value)
    x, h = torch.randn(B, I, dtype=torch.float64), torch.randn(B, H, dtype=torch.float64)
    state = (h, torch.randn_like(h)) if cell_type == "lstm" else h

    expected = theirs(x, state)
    got = ours(x, state)

    torch.testing.assert_close(got, expected, atol=1e-12, rtol=0)


def test_gru_hidden_n_bias_stays_inside_the_reset_product():
    cell = GRUCell(I, H).double()
    x, h = torch.randn(B, I, dtype=torch.float64), torch.randn(B, H, dtype=torch.float64)
    before = cell(x, h)
    with torch.no_grad():  # moving b_hn into b_n is not the same function
        cell.b[2 * H :] += cell.b_hn
        cell.b_hn.zero_()
    assert not torch.allclose(cell(x, h), before)


def test_lstm_forget_gate_bias_starts_at_one():
    cell = LSTMCell(I, H)
    bound = H**-0.5
    torch.testing.assert_close(cell.b[H : 2 * H], torch.ones(H))
    others = torch.cat([cell.b[:H], cell.b[2 * H :], cell.W_x.flatten(), cell.W_h.flatten()])
    assert others.abs().max() <= bound and others.std() > bound / 4
    assert torch.equal(LSTMCell(I, H, forget_bias=0.0).b[H : 2 * H], torch.zeros(H))


def test_registry_names_the_three_cells():
    assert dict(CELL_TYPES) == {"rnn": ElmanCell, "lstm": LSTMCell, "gru": GRUCell}
    assert tuple(CELL_TYPES) == configs.CELL_TYPES  # the torch-free config's copy of the names
    assert cell_class("gru") is GRUCell
    with pytest.raises(UserError, match="unknown cell type 'transformer'; choose one of: rnn"):
        cell_class("transformer")


def test_nonlinearity_is_checked():
    assert ElmanCell(I, H, "relu").nonlinearity == "relu"
    with pytest.raises(
        UserError, match="'relu' is not available for LSTMCell; choose one of: tanh$"
    ):
        LSTMCell(I, H, "relu")
    with pytest.raises(UserError, match="'sigmoid'"):
        ElmanCell(I, H, "sigmoid")


def test_state_shapes():
    like = torch.zeros(1, dtype=torch.float64)
    h, c = LSTMCell(I, H).zero_state(B, like)
    assert h.shape == c.shape == (B, H) and h.dtype == torch.float64
    assert GRUCell(I, H).zero_state(B, like).shape == (B, H)
    state = (torch.ones(B, H), torch.zeros(B, H))
    assert LSTMCell(I, H).output(state) is state[0]
