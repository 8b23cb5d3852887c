import itertools

import pytest
import torch

from seqrnn.api.charlm import LanguageModel
from seqrnn.configs import CharLMConfig
from seqrnn.data.text import CharVocab
from seqrnn.inference.beam import beam_search
from seqrnn.models.charlm import CharLM

VOCAB = CharVocab.from_text("abc")


def model(seed: int) -> CharLM:
    torch.manual_seed(seed)
    lm = CharLM(CharLMConfig(vocab_size=3, hidden_size=8))
    with torch.no_grad():
        for parameter in lm.parameters():
            parameter.mul_(4.0)
    return lm.eval()


def mean_log_prob(lm: CharLM, prime: list[int], ids: list[int]) -> float:
    with torch.no_grad():
        logits, _ = lm(torch.tensor([prime + ids]))
    log_probs = torch.log_softmax(logits[0].double(), dim=-1)
    picked = [log_probs[len(prime) - 1 + t, token] for t, token in enumerate(ids)]
    return float(sum(picked)) / len(ids)


@pytest.mark.parametrize("seed", range(4))
def test_a_wide_enough_beam_finds_the_best_text_of_exhaustive_search(seed):
    lm = model(seed)
    prime = [0, 1]
    best = max(itertools.product(range(3), repeat=4),
               key=lambda ids: mean_log_prob(lm, prime, list(ids)))
    found = beam_search(lm, torch.tensor(prime), 4, beam=27)  # 3**3: nothing is ever dropped
    assert found == list(best)


def test_beam_1_is_greedy_and_a_wider_beam_scores_at_least_as_well_here():
    lm = model(5)
    prime = torch.tensor([2])
    greedy = list(lm.generate(prime, 12, greedy=True))
    assert beam_search(lm, prime, 12, beam=1) == greedy
    wide = beam_search(lm, prime, 12, beam=8)
    assert mean_log_prob(lm, [2], wide) >= mean_log_prob(lm, [2], greedy) - 1e-12


@pytest.mark.parametrize("seed", range(3))
def test_a_stop_string_ends_a_hypothesis(seed):
    lm = LanguageModel(model(seed), VOCAB)
    greedy = lm.sample("a", 30, greedy=True)
    assert "a" + lm.vocab.decode(beam_search(lm.model, torch.tensor([0]), 30, 1)) == greedy
    stop = greedy[5:7]
    cut = greedy[: greedy.index(stop) + 2]  # a stop may begin in the prime
    assert lm.sample("a", 30, greedy=True, stop=(stop,)) == cut
    assert "a" + lm.vocab.decode(beam_search(lm.model, torch.tensor([0]), 30, 1,
                                             lambda ids: stop in "a" + lm.vocab.decode(ids))) == cut
    text = lm.sample("a", 30, beam=4, stop=(stop,))
    assert stop not in text[1:-1] and (text.endswith(stop) or len(text) == 31)


def test_a_deadline_already_passed_ends_after_one_token():
    lm = model(2)
    assert len(beam_search(lm, torch.tensor([0]), 50, beam=3, deadline=0.0)) == 1
