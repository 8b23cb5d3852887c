"""SentimentRNN on its own: padding, directions, word dropout, packing, layers, prefixes."""

import pytest
import torch
from torch import nn

from seqrnn.configs import SentimentConfig
from seqrnn.models.sentiment import SentimentRNN, reverse_within_span
from seqrnn.nn import RecurrentStack


def small(**options):
    return SentimentConfig(vocab_size=20, embedding_dim=6, hidden_size=5, dropout=0.0, **options)


def test_padding_side_does_not_change_the_prediction():
    torch.manual_seed(0)
    for options in ({}, {"bidirectional": True, "num_layers": 2}, {"head": "mean"}):
        model = SentimentRNN(SentimentConfig(vocab_size=20, embedding_dim=6, hidden_size=5,
                                             dropout=0.0, **options)).eval()
        ids = torch.tensor([[5, 6, 7]])
        alone = model(ids)
        right = model(torch.tensor([[5, 6, 7, 0, 0], [3, 4, 5, 6, 7]]))[0]
        torch.testing.assert_close(alone[0], right)


def test_bidirectional_reads_the_review_backwards_from_its_last_word():
    x = torch.tensor([[1, 2, 3, 0, 0], [0, 0, 4, 5, 6]]).unsqueeze(-1)
    first, lengths = torch.tensor([0, 2]), torch.tensor([3, 3])
    flipped = reverse_within_span(x, first, lengths).squeeze(-1)
    assert flipped.tolist() == [[3, 2, 1, 0, 0], [0, 0, 6, 5, 4]]
    assert torch.equal(reverse_within_span(reverse_within_span(x, first, lengths), first,
                                           lengths), x)


def test_word_dropout_drops_whole_words_while_training_only():
    torch.manual_seed(0)
    model = SentimentRNN(SentimentConfig(vocab_size=20, embedding_dim=8, hidden_size=3,
                                         word_dropout=0.5))
    x = torch.randn(4, 50, 8)
    dropped = model.drop_words(x)  # (B, T, E)
    kept = dropped.abs().sum(-1) > 0  # per word: all its features dropped or none
    torch.testing.assert_close(dropped[kept], 2 * x[kept])  # survivors scaled by 1 / (1 - p)
    assert torch.all(dropped[~kept] == 0)
    assert 0.35 < kept.float().mean() < 0.65
    assert torch.equal(model.eval().drop_words(x), x)


def test_no_state_carries_between_batches():
    model = SentimentRNN(SentimentConfig(vocab_size=20, embedding_dim=4, hidden_size=3,
                                         dropout=0.0)).eval()
    a = model(torch.tensor([[3, 4, 5]]))
    model(torch.tensor([[9, 9, 9]]))
    assert torch.equal(model(torch.tensor([[3, 4, 5]])), a)


@pytest.mark.parametrize("options", [{}, {"bidirectional": True, "num_layers": 2},
                                     {"head": "max"}, {"cell": "gru", "head": "mean"}])
def test_packed_sequences_give_the_padded_results(options):
    """The CUDA path (packed, right padding) checked on the CPU against the padded path."""
    torch.manual_seed(0)
    config = small(sparse_embedding=False, **options)
    padded, packed = SentimentRNN(config, pack=False), SentimentRNN(config, pack=True)
    packed.load_state_dict(padded.state_dict())
    right = torch.tensor([[5, 6, 7, 0, 0], [3, 4, 5, 6, 7], [9, 0, 0, 0, 0]])
    results = []
    for model in (padded, packed):
        logits = model(right)
        logits.sum().backward()
        results.append((logits.detach(), [p.grad.clone() for p in model.parameters()]))
    torch.testing.assert_close(results[0][0], results[1][0])
    for a, b in zip(results[0][1], results[1][1], strict=True):
        torch.testing.assert_close(a, b)
    left = torch.tensor([[0, 0, 5, 6, 7], [3, 4, 5, 6, 7]])  # left padding is never packed
    assert torch.equal(packed(left), padded(left))


def test_packing_is_each_models_own_choice():
    a, b = SentimentRNN(small(), pack=True), SentimentRNN(small())
    assert (a.pack, b.pack) == (True, None)
    assert "pack" not in vars(SentimentRNN)


def test_default_layers_are_torchs_modules_in_torchs_initialisation():
    """The classifier's published figures were trained from exactly these weights."""
    torch.manual_seed(0)
    model = SentimentRNN(small(bidirectional=True, num_layers=2))
    torch.manual_seed(0)
    expected = [nn.Embedding(20, 6, padding_idx=0)]
    expected += [nn.LSTM(6 if k == 0 else 10, 5, batch_first=True) for k in range(2) for _ in "fb"]
    expected.append(nn.Linear(10, 1))
    ours = [model.embedding, *(layer for layers in model.layers for layer in layers), model.head]
    for module, want in zip(ours, expected, strict=True):
        assert type(module) is type(want)
        for a, b in zip(module.parameters(), want.parameters(), strict=True):
            assert torch.equal(a, b)


@pytest.mark.parametrize("options", [{}, {"bidirectional": True, "num_layers": 2},
                                     {"cell": "gru", "head": "max"}])
def test_explicit_cells_start_as_the_same_classifier(options):
    torch.manual_seed(0)
    fused = SentimentRNN(small(**options)).eval()
    torch.manual_seed(0)
    explicit = SentimentRNN(small(impl="explicit", **options)).eval()
    assert all(isinstance(layer, RecurrentStack) for layers in explicit.layers for layer in layers)
    assert explicit.pack is False  # the explicit cells read no packed sequences
    torch.testing.assert_close(explicit.head.weight, fused.head.weight, atol=0, rtol=0)
    tokens = torch.tensor([[5, 6, 7, 0, 0], [0, 3, 4, 5, 6]])
    torch.testing.assert_close(explicit(tokens), fused(tokens), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="packed sequences need the fused implementation"):
        SentimentRNN(small(impl="explicit", **options), pack=True)


def test_language_model_initialisation_is_one_switch_away():
    model = SentimentRNN(small(init="cells"))
    torch.testing.assert_close(model.layers[0][0].bias_ih_l0[5:10], torch.ones(5))  # forget bias


@pytest.mark.parametrize("options", [{}, {"head": "max"}, {"head": "mean", "num_layers": 2},
                                     {"bidirectional": True},
                                     {"bidirectional": True, "num_layers": 2, "head": "mean"}])
@pytest.mark.parametrize("batch_size", [64, 3])
def test_prefix_logits_score_each_prefix_as_its_own_review(options, batch_size):
    """One pass (running state, maximum, mean) for a unidirectional model; the oracle is the
    model reading each prefix as a review of its own."""
    torch.manual_seed(0)
    model = SentimentRNN(small(**options)).eval()
    tokens = torch.tensor([[5, 6, 7, 3, 9, 9, 4]])  # (1, T)
    logits = model.prefix_logits(tokens, batch_size=batch_size)
    assert logits.shape == (7,)
    expected = torch.cat([model(tokens[:, : t + 1]) for t in range(7)])
    torch.testing.assert_close(logits, expected)
    with pytest.raises(ValueError, match=r"one review \(1, T\)"):
        model.prefix_logits(torch.tensor([[5, 6], [7, 8]]))
