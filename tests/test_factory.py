"""The factory that picks a recurrent stack's implementation and initialisation (nn/factory.py)."""

import pytest
import torch

from seqrnn import configs
from seqrnn.errors import UserError
from seqrnn.nn import IMPLS, INITS, RecurrentStack, make_recurrent
from tests.test_convert import CELLS, FUSED, assert_same_function


@pytest.mark.parametrize("init", INITS)
@pytest.mark.parametrize("cell_type, nonlinearity", CELLS)
def test_both_implementations_start_as_the_same_function(cell_type, nonlinearity, init):
    torch.manual_seed(7)
    fused = make_recurrent(cell_type, 3, 6, num_layers=2, nonlinearity=nonlinearity, init=init)
    torch.manual_seed(7)
    explicit = make_recurrent(cell_type, 3, 6, 2, nonlinearity=nonlinearity, impl="explicit",
                              init=init)

    assert type(fused) is FUSED[cell_type] and fused.batch_first
    assert isinstance(explicit, RecurrentStack)
    assert_same_function(fused, explicit, torch.randn(2, 5, 3), atol=1e-5)


@pytest.mark.parametrize("cell_type, nonlinearity", CELLS)
def test_torch_init_is_torchs_own_and_draws_what_torch_draws(cell_type, nonlinearity):
    options = {"nonlinearity": nonlinearity} if cell_type == "rnn" else {}
    torch.manual_seed(3)
    expected = FUSED[cell_type](3, 5, 2, dropout=0.2, batch_first=True, **options).state_dict()
    after_torch = torch.get_rng_state()
    layers = {}
    for impl in IMPLS:
        torch.manual_seed(3)
        layers[impl] = make_recurrent(cell_type, 3, 5, 2, 0.2, nonlinearity, impl, init="torch")
        # What is built next (the classifier's next layer, its head) draws the same numbers.
        assert torch.equal(torch.get_rng_state(), after_torch)
    fused, explicit = layers["fused"], layers["explicit"]
    assert type(fused) is FUSED[cell_type] and fused.batch_first and fused.dropout == 0.2
    assert getattr(fused, "nonlinearity", "tanh") == nonlinearity
    state = fused.state_dict()
    assert state.keys() == expected.keys()
    assert all(torch.equal(state[k], expected[k]) for k in state)
    assert isinstance(explicit, RecurrentStack) and explicit.dropout == 0.2


def test_fused_lstm_gets_the_forget_bias_of_one():
    fused = make_recurrent("lstm", 3, 4, num_layers=2, dropout=0.1)
    assert fused.dropout == 0.1
    for k in range(2):
        torch.testing.assert_close(getattr(fused, f"bias_ih_l{k}")[4:8], torch.ones(4))
        assert torch.equal(getattr(fused, f"bias_hh_l{k}"), torch.zeros(16))
    torch_init = make_recurrent("lstm", 3, 4, impl="explicit", init="torch")
    assert not torch.equal(torch_init.cells[0].b[4:8], torch.ones(4))  # no forget bias there


def test_factory_refuses_unknown_choices():
    assert IMPLS == ("fused", "explicit")
    assert IMPLS == configs.IMPLS  # the torch-free config validates against its own copy
    assert INITS == configs.INITS
    assert INITS == ("cells", "torch")
    with pytest.raises(UserError, match="unknown implementation 'cudnn'; choose one of: fused"):
        make_recurrent("lstm", 3, 4, impl="cudnn")
    with pytest.raises(UserError, match="unknown initialisation 'xavier'; choose one of: cells"):
        make_recurrent("lstm", 3, 4, init="xavier")
    for init in INITS:
        with pytest.raises(UserError, match="unknown cell type 'elman'"):
            make_recurrent("elman", 3, 4, init=init)
        with pytest.raises(UserError, match="'relu' is not available for GRUCell"):
            make_recurrent("gru", 3, 4, nonlinearity="relu", impl="explicit", init=init)
        with pytest.raises(UserError, match="num_layers must be at least 1, got 0"):
            make_recurrent("lstm", 3, 4, num_layers=0, init=init)
        with pytest.raises(UserError, match=r"dropout must be in \[0, 1\), got 1.0"):
            make_recurrent("lstm", 3, 4, 2, dropout=1.0, init=init)
