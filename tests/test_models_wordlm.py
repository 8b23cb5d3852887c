"""WordLM, the AWD-LSTM: its dropouts, weight drop, tying, both softmaxes, generation."""

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch.profiler import profile

from seqrnn.configs import WordLMConfig
from seqrnn.errors import UserError
from seqrnn.models.wordlm import AWDEncoder, WordLM, locked_dropout, softmax_nll

NO_DROPOUT = dict(embedding_dropout=0.0, input_dropout=0.0, hidden_dropout=0.0,
                  output_dropout=0.0, weight_dropout=0.0)


def small(**overrides) -> WordLM:
    options = dict(vocab_size=30, embedding_dim=8, hidden_size=12, num_layers=3) | overrides
    return WordLM(WordLMConfig(**options))


@pytest.mark.parametrize("tie_weights", [True, False])
@pytest.mark.parametrize("cutoffs", [(), (5, 20)])
def test_shapes(tie_weights, cutoffs):
    model = small(tie_weights=tie_weights, cutoffs=cutoffs)
    width = 8 if tie_weights else 12
    ids = torch.randint(0, 30, (2, 5))
    hidden, state = model(ids)
    assert hidden.shape == (2, 5, width)
    assert [h.shape[-1] for h, _ in state] == [12, 12, width]
    assert model.loss(hidden, ids).shape == ()
    assert model.log_probs(hidden[:, -1]).shape == (2, 30)
    assert model.encode(ids)[0].shape == (2, 5, width)
    hidden, _ = model(ids[:, :2], state)  # a carried state is accepted
    assert hidden.shape == (2, 2, width)


def test_config_checks_its_fields():
    assert WordLMConfig(100, cutoffs=[10, 50]).cutoffs == (10, 50)  # as read back from JSON
    for cutoffs in [(50, 10), (10, 10), (0,), (100,)]:
        with pytest.raises(UserError) as caught:
            WordLMConfig(100, cutoffs=cutoffs)
        assert caught.value.fields == ("cutoffs",)
    with pytest.raises(UserError) as caught:
        WordLMConfig(100, weight_dropout=1.0)
    assert caught.value.fields == ("weight_dropout",)


def test_eval_is_deterministic_and_dropout_free():
    model = small().eval()
    ids = torch.randint(0, 30, (3, 6))
    hidden, _ = model(ids)
    torch.testing.assert_close(model(ids)[0], hidden, rtol=0, atol=0)
    x = model.encoder.embedding(ids)
    for layer in model.encoder.layers:
        x, _ = layer.lstm(x)
    torch.testing.assert_close(hidden, x)


def test_locked_dropout_keeps_one_mask_per_sequence():
    out = locked_dropout(torch.ones(64, 10, 32), 0.5, training=True)
    assert torch.equal(out, out[:, :1].expand_as(out))
    assert not torch.equal(out[0], out[1])
    assert set(out.unique().tolist()) == {0.0, 2.0}
    assert torch.equal(locked_dropout(out, 0.5, training=False), out)


def test_training_masks_are_constant_over_time():
    model = small(weight_dropout=0.0, embedding_dropout=0.5, input_dropout=0.5,
                  hidden_dropout=0.5, output_dropout=0.5).train()
    inputs = []
    for layer in model.encoder.layers:
        layer.register_forward_pre_hook(lambda module, args: inputs.append(args[0]))
    ids = torch.full((16, 7), 3)  # one word throughout: its vector is the same at every step
    torch.manual_seed(1)
    top, _ = model.encode(ids)
    torch.manual_seed(1)
    hidden, _ = model(ids)
    first = inputs[0]
    assert torch.equal(first, first[:, :1].expand_as(first)) and (first == 0).any()
    for x in [*inputs[1:3], hidden]:  # the hidden and output masks: zeros at the same features
        assert torch.equal(x == 0, (x[:, :1] == 0).expand_as(x)) and (x == 0).any()
    assert ((top != 0) & (hidden == 0)).any()  # the output dropout came on top
    words = model.encoder.embed(torch.arange(30).repeat(50, 1))  # (50, 30, E)
    dropped = (words == 0).all(-1)  # (50, 30): whole words
    assert torch.equal(dropped, dropped[:1].expand_as(dropped)) and dropped.any()


def test_weight_drop_changes_outputs_but_trains_the_raw_weight():
    model = small(**NO_DROPOUT | dict(weight_dropout=0.5))
    layer = model.encoder.layers[1]
    assert [name for name, _ in layer.named_parameters()] == [
        "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0"]
    ids = torch.randint(0, 30, (4, 6))
    a, _ = model.train()(ids)
    b, _ = model(ids)
    assert not torch.allclose(a, b)
    model.loss(a, ids).backward()
    for layer in model.encoder.layers:
        assert layer.lstm.weight_hh_l0.grad.abs().sum() > 0
    raw, _ = model.eval()(ids)
    assert not torch.allclose(a, raw)
    torch.testing.assert_close(model(ids)[0], raw, rtol=0, atol=0)  # eval: the raw weight


def test_weight_drop_keeps_the_fused_kernel():
    model = small().train()
    ids = torch.randint(0, 30, (2, 9))
    with profile() as prof:
        model.loss(model(ids)[0], ids).backward()
    counts = {event.key: event.count for event in prof.key_averages()}
    assert counts.get("aten::lstm") == 3  # one fused call per layer, over all 9 steps
    assert "aten::lstm_cell" not in counts


def test_tied_decoder_is_the_embedding_and_survives_safetensors(tmp_path):
    model = small(cutoffs=(5, 20))
    assert model.decoder_weight is model.encoder.embedding.weight
    state = model.state_dict()
    assert "output_weight" not in state  # one tensor under one name: nothing shares memory
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp_path / "w.safetensors"))
    loaded = small(cutoffs=(5, 20))
    loaded.load_state_dict(load_file(str(tmp_path / "w.safetensors")))
    assert loaded.decoder_weight is loaded.encoder.embedding.weight
    torch.testing.assert_close(loaded.decoder_weight, model.decoder_weight)
    with torch.no_grad():
        loaded.encoder.embedding.weight.add_(1.0)
    assert torch.equal(loaded.decoder_weight, loaded.encoder.embedding.weight)


def test_untied_decoder_owns_its_weight():
    model = small(tie_weights=False)
    assert model.decoder_weight is model.output_weight
    assert model.decoder_weight.shape == (30, 12)


def test_a_classifier_encoder_loads_the_language_models_weights():
    model = small().eval()
    prefix = "encoder."
    encoder = AWDEncoder(30, 8, 12, 3, 8).eval()
    encoder.load_state_dict({k[len(prefix):]: v for k, v in model.state_dict().items()
                             if k.startswith(prefix)})
    ids = torch.randint(0, 30, (2, 5))
    torch.testing.assert_close(encoder(ids)[0], model.encode(ids)[0], rtol=0, atol=0)


@pytest.mark.parametrize("cutoffs", [(), (4, 8)])
def test_loss_falls_on_a_repeated_sequence(cutoffs):
    model = small(vocab_size=12, embedding_dim=32, hidden_size=64, num_layers=2,
                  cutoffs=cutoffs).train()
    ids = torch.arange(6).repeat(4, 5)  # (4, 30): 0 1 2 3 4 5 0 1 ...
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
    losses = []
    for _ in range(100):
        loss = model.loss(model(ids[:, :-1])[0], ids[:, 1:])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]


@pytest.mark.parametrize("cutoffs", [(), (3, 10, 20)])
def test_loss_is_the_likelihood_log_probs_give(cutoffs):
    model = small(cutoffs=cutoffs).eval()
    hidden = torch.randn(40, 8)
    targets = torch.randint(0, 30, (40,))
    log_probs = model.log_probs(hidden)  # (40, V)
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(40))
    total = -log_probs.gather(1, targets.unsqueeze(1)).sum()
    torch.testing.assert_close(model.loss(hidden, targets) * 40, total)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_softmax_nll_matches_cross_entropy_and_its_gradient(dtype):
    torch.manual_seed(0)
    logits = (torch.randn(50, 70) * 4).to(dtype).requires_grad_()
    targets = torch.randint(0, 70, (50,))
    weights = torch.rand(50)  # a non-uniform upstream gradient
    before = logits.detach().clone()
    ours = softmax_nll(logits, targets)
    assert ours.dtype == torch.float32
    (grad,) = torch.autograd.grad((ours * weights).sum(), logits)
    assert torch.equal(logits, before)  # the backward leaves its input alone
    reference = logits.detach().float().requires_grad_()
    expected = F.cross_entropy(reference, targets, reduction="none")
    (expected_grad,) = torch.autograd.grad((expected * weights).sum(), reference)
    torch.testing.assert_close(ours, expected)
    assert grad.dtype == dtype
    torch.testing.assert_close(grad.float(), expected_grad,
                               **({} if dtype == torch.float32 else dict(rtol=1e-2, atol=4e-3)))


@pytest.mark.parametrize("tie_weights", [True, False])
def test_every_parameter_gets_a_gradient_when_a_tail_cluster_is_unhit(tie_weights):
    # DDP needs a gradient for every parameter at every step
    model = small(cutoffs=(5, 20), tie_weights=tie_weights).train()
    ids = torch.randint(0, 5, (2, 6))  # shortlist words only: neither tail is a target
    model.loss(model(ids)[0], ids).backward()
    assert [n for n, p in model.named_parameters() if p.grad is None] == []


@pytest.mark.parametrize("cutoffs", [(), (5, 20)])
def test_trains_under_bfloat16_autocast(cutoffs):
    model = small(cutoffs=cutoffs).train()
    ids = torch.randint(0, 30, (3, 6))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        hidden, state = model(ids)
        loss = model.loss(hidden, ids)
        model(ids, state)  # the carried bfloat16 state is accepted
    model(ids, state)  # and outside autocast too
    assert hidden.dtype == torch.bfloat16 and loss.dtype == torch.float32
    assert torch.isfinite(loss)
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize("cutoffs", [(), (5, 20)])
def test_generate_respects_top_k(cutoffs):
    model = small(cutoffs=cutoffs).eval()
    prime = torch.tensor([1, 2, 3])
    generator = torch.Generator().manual_seed(0)
    words = list(model.generate(prime, 8, top_k=3, generator=generator))
    assert len(words) == 8 and all(0 <= w < 30 for w in words)
    context = prime.tolist()
    for word in words:
        hidden, _ = model(torch.tensor([context]))
        assert word in model.log_probs(hidden[:, -1])[0].topk(3).indices.tolist()
        context.append(word)
    greedy = list(model.generate(prime, 8, greedy=True))
    assert list(model.generate(prime, 8, top_k=1, generator=generator)) == greedy


def test_generate_stops_after_the_stop_id():
    model = small().eval()
    words = list(model.generate(torch.tensor([1]), 200, top_k=0, stop_id=4,
                                generator=torch.Generator().manual_seed(0)))
    assert len(words) < 200 and words[-1] == 4 and 4 not in words[:-1]
