"""The explicit stack against torch's fused modules; dropout, state checks, the output layer."""

import pytest
import torch
from torch import nn

from seqrnn.errors import UserError
from seqrnn.nn import GRUCell, OutputLayer, RecurrentStack, cell_to_torch, from_torch

CELLS = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-5}


def torch_module(cell_type: str, nonlinearity: str, *sizes: int) -> nn.RNNBase:
    """torch's fused module with its own random init (both biases nonzero)."""
    if cell_type == "rnn":
        return nn.RNN(*sizes, nonlinearity=nonlinearity, batch_first=True)
    return {"lstm": nn.LSTM, "gru": nn.GRU}[cell_type](*sizes, batch_first=True)


def torch_layout_grads(cell) -> list[torch.Tensor]:
    """Our gradients where torch keeps its parameters: weight_ih, weight_hh, bias_ih, bias_hh.

    Torch adds b_hh to b_ih, so both see the gradient of our one bias -- except the GRU's n block
    of b_hh, which is our b_hn.
    """
    weight_ih, weight_hh, bias, _ = cell_to_torch(cell)
    bias_hh_grad = bias.grad
    if isinstance(cell, GRUCell):
        bias_hh_grad = torch.cat([bias.grad[: 2 * cell.hidden_size], cell.b_hn.grad])
    return [weight_ih.grad, weight_hh.grad, bias.grad, bias_hh_grad]


def run_with_grads(module, x, state, loss_weights):
    """Forward, a loss touching every output and final-state tensor, backward."""
    outputs, final = module(x, state)
    finals = final if isinstance(final, tuple) else (final,)
    loss = (outputs * loss_weights[0]).sum()
    loss = loss + sum((part * w).sum() for part, w in zip(finals, loss_weights[1:], strict=False))
    loss.backward()
    return outputs, finals


def leaf_copy(tensors):
    return tuple(t.detach().clone().requires_grad_() for t in tensors)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("with_state", [False, True], ids=["zero-state", "given-state"])
@pytest.mark.parametrize("batch, time, input_size, hidden_size", [(1, 1, 3, 4), (4, 6, 5, 7)])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("cell_type, nonlinearity", CELLS)
def test_stack_matches_torch(
    cell_type, nonlinearity, num_layers, batch, time, input_size, hidden_size, with_state, dtype
):
    fused = torch_module(cell_type, nonlinearity, input_size, hidden_size, num_layers).to(dtype)
    explicit = from_torch(fused)
    x = torch.randn(batch, time, input_size, dtype=dtype)
    n_parts = 2 if cell_type == "lstm" else 1
    given = [torch.randn(num_layers, batch, hidden_size, dtype=dtype) for _ in range(n_parts)]
    loss_weights = [torch.randn(batch, time, hidden_size, dtype=dtype)]
    loss_weights += [torch.randn(num_layers, batch, hidden_size, dtype=dtype) for _ in given]

    inputs = {}
    results = {}
    for name, module in [("fused", fused), ("explicit", explicit)]:
        x_leaf, *state_leaves = leaf_copy([x, *given])
        state = None
        if with_state:
            state = tuple(state_leaves) if n_parts == 2 else state_leaves[0]
        inputs[name] = (x_leaf, state_leaves)
        results[name] = run_with_grads(module, x_leaf, state, loss_weights)

    tol = TOLERANCE[dtype]

    def close(got, expected):
        torch.testing.assert_close(got, expected, atol=tol, rtol=0)

    (out, finals), (out_ref, finals_ref) = results["explicit"], results["fused"]
    close(out, out_ref)
    for part, part_ref in zip(finals, finals_ref, strict=True):
        assert part.shape == (num_layers, batch, hidden_size)
        close(part, part_ref)
    close(inputs["explicit"][0].grad, inputs["fused"][0].grad)
    if with_state:
        for leaf, leaf_ref in zip(inputs["explicit"][1], inputs["fused"][1], strict=True):
            close(leaf.grad, leaf_ref.grad)
    for k, cell in enumerate(explicit.cells):
        torch_grads = [getattr(fused, f"{name}_l{k}").grad for name in cell_to_torch(cell)._fields]
        for grad, grad_ref in zip(torch_layout_grads(cell), torch_grads, strict=True):
            close(grad, grad_ref)


def test_dropout_acts_between_layers_in_training_only():
    stack = RecurrentStack("rnn", 3, 8, num_layers=2, dropout=0.5)
    x = torch.randn(2, 5, 3)
    stack.eval()
    deterministic, _ = stack(x)
    stack.train()
    first, _ = stack(x)
    second, _ = stack(x)
    assert not torch.allclose(first, deterministic) and not torch.allclose(first, second)
    # Not after the last layer: its outputs are tanh values, never zeroed nor scaled up by 1/(1-p).
    assert (first != 0).all() and first.abs().max() < 1
    stack.eval()
    torch.testing.assert_close(stack(x)[0], deterministic, atol=0, rtol=0)


def test_dropout_does_nothing_on_a_single_layer():
    stack = RecurrentStack("lstm", 3, 4, num_layers=1, dropout=0.5).train()
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(stack(x)[0], stack.eval()(x)[0], atol=0, rtol=0)


def test_final_state_continues_the_sequence():
    """Feeding the returned state back in is the same as running the whole sequence at once."""
    stack = RecurrentStack("lstm", 3, 4, num_layers=2).double()
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    whole, whole_state = stack(x)
    first, state = stack(x[:, :4])
    second, final_state = stack(x[:, 4:], state)
    torch.testing.assert_close(torch.cat([first, second], dim=1), whole, atol=1e-12, rtol=0)
    for part, part_ref in zip(final_state, whole_state, strict=True):
        torch.testing.assert_close(part, part_ref, atol=1e-12, rtol=0)


@pytest.mark.parametrize(
    "cell_type, state, message",
    [
        ("lstm", torch.zeros(2, 3, 4), r"lstm state must have shape \(\(2, 3, 4\), \(2, 3, 4\)\)"),
        ("lstm", (torch.zeros(2, 3, 4),), r"got \(\(2, 3, 4\)\)"),
        ("gru", (torch.zeros(2, 3, 4), torch.zeros(2, 3, 4)), r"gru state must have shape \(2,"),
        ("rnn", torch.zeros(1, 3, 4), r"rnn state must have shape \(2, 3, 4\).* got \(1, 3, 4\)"),
        ("rnn", torch.zeros(2, 5, 4), r"got \(2, 5, 4\)"),
        ("gru", torch.zeros(2, 3, 6), r"\(num_layers, batch, hidden_size\) per tensor; got"),
    ],
)
def test_wrong_state_shape_is_a_clear_error(cell_type, state, message):
    stack = RecurrentStack(cell_type, 5, 4, num_layers=2)
    with pytest.raises(ValueError, match=message):
        stack(torch.zeros(3, 7, 5), state)


@pytest.mark.parametrize("shape", [(3, 7), (3, 7, 6), (3, 0, 5)])
def test_wrong_input_shape_is_a_clear_error(shape):
    with pytest.raises(ValueError, match=r"input must be \(batch, time, 5\) with time >= 1, got"):
        RecurrentStack("gru", 5, 4)(torch.zeros(shape))


def test_bad_stack_settings_are_user_errors():
    with pytest.raises(UserError, match="num_layers must be at least 1"):
        RecurrentStack("lstm", 3, 4, num_layers=0)
    with pytest.raises(UserError, match=r"dropout must be in \[0, 1\)"):
        RecurrentStack("lstm", 3, 4, num_layers=2, dropout=1.0)
    with pytest.raises(UserError, match="unknown cell type"):
        RecurrentStack("elman", 3, 4)


def test_stack_mirrors_torch_attributes():
    stack = RecurrentStack("gru", 3, 4, num_layers=2, dropout=0.25)
    reference = nn.GRU(3, 4, 2, dropout=0.25, batch_first=True)
    for name in ("input_size", "hidden_size", "num_layers", "dropout", "batch_first"):
        assert getattr(stack, name) == getattr(reference, name)


def test_output_layer_identity_is_affine():
    layer = OutputLayer(4, 3).double()
    h = torch.randn(2, 5, 4, dtype=torch.float64)
    y = layer(h)
    assert y.shape == (2, 5, 3)
    torch.testing.assert_close(y, h @ layer.W_hy.T + layer.b_y, atol=0, rtol=0)
    assert y.min() < 0  # no squashing


@pytest.mark.parametrize(
    "activation, phi_y",
    [
        ("softmax", lambda a: torch.softmax(a, dim=-1)),
        ("sigmoid", torch.sigmoid),
        ("tanh", torch.tanh),
    ],
)
def test_output_layer_activations(activation, phi_y):
    layer = OutputLayer(4, 3, activation).double()
    h = torch.randn(2, 5, 4, dtype=torch.float64)
    torch.testing.assert_close(layer(h), phi_y(h @ layer.W_hy.T + layer.b_y), atol=0, rtol=0)


def test_output_softmax_gives_distributions_and_unknown_activation_fails():
    probabilities = OutputLayer(4, 3, "softmax")(torch.randn(2, 5, 4))
    torch.testing.assert_close(probabilities.sum(dim=-1), torch.ones(2, 5))
    assert (probabilities > 0).all()
    with pytest.raises(
        UserError, match="unknown output activation 'relu'; choose one of: identity"
    ):
        OutputLayer(4, 3, "relu")


def test_a_stack_deeper_than_seqrnn_builds_is_refused_before_a_layer_is_made():
    """Every model's stack is refused alike: also the word model's (one module per layer) and
    the translator's (torch's encoder), so a config.json naming 100000 layers is one line."""
    from seqrnn.configs import Seq2SeqConfig, WordLMConfig
    from seqrnn.models.seq2seq import Seq2Seq
    from seqrnn.models.wordlm import WordLM
    from seqrnn.nn import make_recurrent
    from tests.wording import raises_as_cli

    refused = (r"^--num-layers 100000 is more than the 100 layers seqrnn builds: choose a "
               r"smaller --num-layers$")
    for build in (lambda: RecurrentStack("lstm", 4, 4, num_layers=100_000),
                  lambda: make_recurrent("gru", 4, 4, num_layers=100_000, init="torch"),
                  lambda: WordLM(WordLMConfig(vocab_size=10, num_layers=100_000)),
                  lambda: Seq2Seq(Seq2SeqConfig(source_vocab_size=5, target_vocab_size=5,
                                                num_layers=100_000))):
        with raises_as_cli(refused), torch.device("meta"):
            build()
    assert RecurrentStack("lstm", 4, 4, num_layers=100).num_layers == 100
