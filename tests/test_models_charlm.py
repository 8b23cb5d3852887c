"""CharLM on its own: both implementations, every cell and input, generation."""

import pytest
import torch

from seqrnn.configs import CharLMConfig
from seqrnn.models.charlm import CharLM
from seqrnn.nn.convert import from_torch


def test_explicit_and_fused_give_the_same_results():
    torch.manual_seed(0)
    fused = CharLM(CharLMConfig(vocab_size=7, hidden_size=12, num_layers=2, dropout=0.0))
    explicit = CharLM(CharLMConfig(vocab_size=7, hidden_size=12, num_layers=2, dropout=0.0,
                                   impl="explicit"))
    explicit.rnn.load_state_dict(from_torch(fused.rnn).state_dict())
    explicit.head.load_state_dict(fused.head.state_dict())
    ids = torch.randint(0, 7, (3, 9))
    a, (ha, ca) = fused(ids)
    b, (hb, cb) = explicit(ids)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ca, cb, atol=1e-5, rtol=1e-5)


def test_fused_layers_start_from_the_cells_initialisation():
    model = CharLM(CharLMConfig(vocab_size=7, hidden_size=4, num_layers=2))
    for k in range(2):
        torch.testing.assert_close(getattr(model.rnn, f"bias_ih_l{k}")[4:8], torch.ones(4))
        assert torch.equal(getattr(model.rnn, f"bias_hh_l{k}"), torch.zeros(16))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("input_kind", ["onehot", "embedding"])
def test_every_cell_and_input_trains_a_step(cell, input_kind):
    model = CharLM(CharLMConfig(vocab_size=6, cell=cell, input=input_kind, hidden_size=8))
    logits, _ = model(torch.randint(0, 6, (2, 5)))
    assert logits.shape == (2, 5, 6)
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_generation_does_not_recompute_the_prefix(monkeypatch):
    model = CharLM(CharLMConfig(vocab_size=5, hidden_size=8)).eval()
    lengths = []
    forward = model.forward

    def spy(ids, state=None):
        lengths.append(ids.shape[1])
        grad_enabled.append(torch.is_grad_enabled())
        return forward(ids, state)

    grad_enabled = []
    monkeypatch.setattr(model, "forward", spy)
    list(model.generate(torch.tensor([1, 2, 3, 4]), 6, generator=torch.Generator().manual_seed(0)))
    assert lengths == [4, 1, 1, 1, 1, 1]
    assert grad_enabled == [False] * 6  # every step, not only the first, runs without a graph


def test_greedy_generation_is_the_argmax_of_the_whole_prefix_each_step():
    torch.manual_seed(0)
    model = CharLM(CharLMConfig(vocab_size=7, hidden_size=8)).eval()
    ids = list(model.generate(torch.tensor([1, 2]), 5, greedy=True))
    context = [1, 2]
    for chosen in ids:
        with torch.no_grad():
            logits, _ = model(torch.tensor([context]))
        assert chosen == int(logits[0, -1].argmax())
        context.append(chosen)
    assert len(ids) == 5
