"""The character model laid out for the compiled sampler (inference/stepper.py): its steps are
the model's own."""

import pytest
import torch

from seqrnn.configs import CharLMConfig
from seqrnn.inference import native
from seqrnn.inference.stepper import CompiledStepper, supports
from seqrnn.models.charlm import CharLM

VOCAB = 11
needs_compiler = pytest.mark.skipif(native.load() is None,
                                    reason="no C compiler: the compiled sampler cannot be built")


def model(cell: str, **options) -> CharLM:
    torch.manual_seed(3)
    lm = CharLM(CharLMConfig(vocab_size=VOCAB, hidden_size=8, cell=cell, **options)).eval()
    with torch.no_grad():  # peaked choices: the greedy path does not hang on a near tie
        for parameter in lm.parameters():
            parameter.mul_(3.0)
    return lm


def greedy_reference(lm: CharLM, prime: torch.Tensor, steps: int) -> list[list[int]]:
    """The argmax choices of the model's own forward, one step at a time, for each row."""
    logits, state = lm(prime)
    chosen = []
    for _ in range(steps):
        ids = logits[:, -1].argmax(dim=-1, keepdim=True)
        chosen.append(ids)
        logits, state = lm(ids, state)
    return torch.cat(chosen, dim=1).tolist()


@needs_compiler
@pytest.mark.parametrize("cell,options", [
    ("lstm", {}), ("gru", {"input": "embedding", "embedding_dim": 5}),
    ("rnn", {"num_layers": 2}), ("lstm", {"num_layers": 2, "impl": "explicit"})])
def test_greedy_steps_are_the_models_forward(cell, options):
    lm = model(cell, **options)
    prime = torch.tensor([[1, 2, 3], [4, 0, 9]])
    logits, state = lm(prime)
    h, c = state if isinstance(state, tuple) else (state, None)
    h, c = h.contiguous(), None if c is None else c.contiguous()
    stepper = CompiledStepper(lm, native.load())
    ids = stepper.run(logits[:, -1].float().contiguous(), h, c, None, 12, greedy=True, top_k=0,
                      temperature=1.0, top_p=1.0)
    assert ids.shape == (2, 12)
    assert ids.tolist() == greedy_reference(lm, prime, 12)


def test_the_input_table_is_each_characters_input_projection():
    lm = model("gru", input="embedding", embedding_dim=5)
    stepper = CompiledStepper(lm, library=None)  # the layout alone; nothing is run
    rnn = lm.rnn
    expected = lm.embedding.weight @ rnn.weight_ih_l0.T + rnn.bias_ih_l0
    assert stepper._x_table.shape == (VOCAB, 3 * 8)
    assert torch.allclose(stepper._x_table, expected, atol=1e-6)
    assert torch.equal(stepper._w_out, lm.head.weight.T)
    assert (stepper.layers, stepper.hidden, stepper.vocab, stepper.lstm) == (1, 8, VOCAB, False)


def test_only_float32_models_on_the_cpu_are_supported():
    assert supports(model("lstm")) and supports(model("rnn"))
    assert not supports(model("lstm").double())
