import itertools

import torch

from seqrnn.data.symbols import EOS_ID
from seqrnn.inference.transduce import beam_search, greedy
from tests.test_models_seq2seq import model


def sources():
    return torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0], [9, 10, 11, 0], [5, 5, 5, 5]])


def test_beam_1_is_greedy_and_a_batch_decodes_as_one_source_at_a_time():
    for options in ({}, {"attention": "none", "cell": "gru"}, {"attention": "dot"}):
        m = model(**options)
        batch = greedy(m, sources(), 12)
        assert beam_search(m, sources(), 1, 12) == batch
        for row, source in enumerate(sources()):
            length = int((source != 0).sum())
            assert greedy(m, source[None, :length], 12) == [batch[row]]
            assert beam_search(m, source[None, :length], 4, 12) == \
                beam_search(m, sources(), 4, 12)[row:row + 1]


def mean_log_prob(m, source, output) -> float:
    with torch.no_grad():
        previous = torch.tensor([[1, *output]])
        logits = m(source[None], previous)
        log_probs = torch.log_softmax(logits[0].double(), -1)
        targets = [*output, EOS_ID]
        return float(sum(log_probs[t, y] for t, y in enumerate(targets))) / len(targets)


def test_a_wide_beam_finds_what_exhaustive_search_finds():
    m = model(target_vocab_size=5)  # symbols 3 and 4, outputs up to 3 long
    source = torch.tensor([3, 4, 5])
    candidates = [list(c) for n in range(4) for c in itertools.product((3, 4), repeat=n)]
    best = max(candidates, key=lambda c: mean_log_prob(m, source, c))
    found = beam_search(m, source[None], 40, 3)[0]
    assert mean_log_prob(m, source, found) >= mean_log_prob(m, source, best) - 1e-9


def test_an_ensemble_decodes_in_batches_as_one_source_at_a_time():
    from seqrnn.models.seq2seq import Ensemble

    both = Ensemble([model(), model(hidden_size=6, attention="dot")])
    batch = greedy(both, sources(), 12)
    assert beam_search(both, sources(), 1, 12) == batch
    for row, source in enumerate(sources()):
        alone = source[None, : int((source != 0).sum())]
        assert greedy(both, alone, 12) == [batch[row]]
        assert beam_search(both, alone, 3, 12) == beam_search(both, sources(), 3, 12)[row:row + 1]
