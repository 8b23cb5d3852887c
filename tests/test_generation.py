import itertools

import pytest
import torch

from seqrnn.api.charlm import LanguageModel
from seqrnn.configs import CharLMConfig, Sampling
from seqrnn.data.text import CharVocab
from seqrnn.inference import native
from seqrnn.inference.generation import StopAt, chunk_sizes, sample_ids, stepper_for
from seqrnn.models.charlm import CharLM

VOCAB = CharVocab.from_text("abcdefghijklmnopqrstuvwxyz .,;!?\nTHE")
needs_compiler = pytest.mark.skipif(native.load() is None,
                                    reason="no C compiler: the compiled sampler cannot be built")


def model(cell="lstm", *, input="onehot", num_layers=1, impl="fused", hidden_size=24,
          scale=3.0) -> CharLM:
    torch.manual_seed(7)
    lm = CharLM(CharLMConfig(vocab_size=len(VOCAB.chars), cell=cell, input=input,
                             num_layers=num_layers, impl=impl, hidden_size=hidden_size))
    with torch.no_grad():  # larger weights than at initialisation: peaked, varied choices
        for parameter in lm.parameters():
            parameter.mul_(scale)
    return lm.eval()


def reference(lm: CharLM, prime: str, length: int, seed: int, **options) -> str:
    """What the one-character-at-a-time CharLM.generate makes: the oracle of the fast paths."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.tensor(VOCAB.encode(prime))
    return prime + VOCAB.decode(list(lm.generate(ids, length, generator=generator, **options)))


OPTIONS = [{}, {"top_k": 0, "temperature": 0.7}, {"top_k": 0, "top_p": 0.8},
           {"top_k": 3, "top_p": 0.5, "temperature": 1.5}, {"greedy": True}]
MODELS = [("lstm", "onehot", 1, "fused"), ("gru", "embedding", 2, "fused"),
          ("rnn", "onehot", 2, "explicit"), ("lstm", "embedding", 2, "explicit")]


@needs_compiler
@pytest.mark.parametrize("cell,input,num_layers,impl", MODELS)
def test_compiled_sampler_writes_what_the_reference_writes(cell, input, num_layers, impl):
    lm = LanguageModel(model(cell, input=input, num_layers=num_layers, impl=impl), VOCAB)
    assert lm.compiled
    for options, seed in itertools.product(OPTIONS, (1, 2)):
        text = lm.sample("THE ", 300, seed=seed, **options)
        assert text == reference(lm.model, "THE ", 300, seed, **options), options
    assert len(set(lm.sample("THE ", 300, seed=seed) for seed in range(4))) == 4


def test_torch_path_writes_what_the_reference_writes():
    lm = model("gru")
    prime = torch.tensor(VOCAB.encode("the "))
    for options in OPTIONS:
        sampling = Sampling(**options)
        chunks = sample_ids(lm, prime, 100, sampling, [torch.Generator().manual_seed(5)],
                            stepper=None)
        text = "the " + VOCAB.decode(torch.cat(list(chunks), dim=1)[0].tolist())
        assert text == reference(lm, "the ", 100, 5, **options), options


@needs_compiler
def test_a_batch_of_samples_is_the_samples_one_by_one():
    lm = LanguageModel(model("lstm", num_layers=2), VOCAB)
    texts = lm.samples("a", 200, 6, seed=10, top_k=0)  # 6 rows: one block of 4, then 2 alone
    assert texts == [lm.sample("a", 200, seed=10 + i, top_k=0) for i in range(6)]
    assert len(set(texts)) == 6


@needs_compiler
def test_the_compiled_sampler_is_safe_from_several_threads_at_once():
    import threading

    lm = LanguageModel(model("gru", num_layers=2), VOCAB)
    expected = [lm.samples("a", 400, 3, seed=s, top_k=0, top_p=0.9) for s in (0, 10)]
    got = {}

    def draw(s):
        for _ in range(3):
            got[s] = lm.samples("a", 400, 3, seed=s, top_k=0, top_p=0.9)

    threads = [threading.Thread(target=draw, args=(s,)) for s in (0, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [got[0], got[10]] == expected


def test_without_a_compiler_the_same_text_comes_through_torch(monkeypatch):
    lm = LanguageModel(model("lstm"), VOCAB)
    expected = reference(lm.model, "THE ", 120, 4, top_p=0.9)
    native.load.cache_clear()
    monkeypatch.setenv("SEQRNN_NATIVE", "0")
    try:
        assert stepper_for(lm.model) is None
        slow = LanguageModel(lm.model, VOCAB)
        assert not slow.compiled
        assert slow.sample("THE ", 120, seed=4, top_p=0.9) == expected
    finally:
        native.load.cache_clear()


def test_chunks_start_small_and_add_up():
    assert list(chunk_sizes(40)) == [16, 24]
    sizes = list(chunk_sizes(3000))
    assert sizes[:4] == [16, 32, 64, 128] and max(sizes) == 512 and sum(sizes) == 3000
    assert list(chunk_sizes(0)) == []


def test_stop_strings_cut_just_after_the_first_one():
    stop = StopAt(("cd", "x"), prime="ab")
    assert stop.feed("zzc") == ("zzc", False)
    assert stop.feed("dxx") == ("d", True) and stop.done
    spans_prime = StopAt(("\n\n",), prime="line\n")
    assert spans_prime.feed("\nmore") == ("\n", True)
    assert StopAt(()).feed("anything") == ("anything", False)
    earliest = StopAt(("top", "ng s"))  # the first to end wins, not the first listed
    assert earliest.feed("a long stop") == ("a long s", True)
    # A stop wholly inside the prime does not count; one that merely begins there does.
    assert StopAt(("\n", "END"), prime="Hi\n").feed("hello\nmore") == ("hello\n", True)
    assert StopAt(("\n", "END"), prime="x\ny").feed("abcdef") == ("abcdef", False)
    assert StopAt(("abcd",), prime="ab").feed("cdxyz") == ("cd", True)
    assert StopAt(("abcd",), prime="ab").ends("cd") and not StopAt(("ab",), "ab").ends("x")


def test_generation_ends_after_a_stop_string():
    lm = LanguageModel(model("lstm"), VOCAB)
    full = lm.sample("THE ", 300, seed=3)
    generated = full[len("THE "):]
    stop = generated[40:42]
    cut = generated.index(stop) + len(stop)
    assert lm.sample("THE ", 300, seed=3, stop=(stop, "\u2603")) == "THE " + generated[:cut]
    texts = lm.samples("THE ", 300, 2, seed=3, stop=(stop,))
    assert texts[0] == "THE " + generated[:cut] and texts[1] == lm.sample(
        "THE ", 300, seed=4, stop=(stop,))


def ticking_clock(monkeypatch) -> list[float]:
    """A generation clock that moves one second each time it is read; the readings' list."""
    from seqrnn.inference import deadline

    readings = []

    def clock() -> float:
        readings.append(float(len(readings)))
        return readings[-1]

    monkeypatch.setattr(deadline, "clock", clock)
    return readings


def test_a_time_limit_ends_a_long_generation_with_a_prefix_of_the_full_text(monkeypatch):
    lm = LanguageModel(model("lstm"), VOCAB)
    readings = ticking_clock(monkeypatch)
    # Read at the start (0 s) and after each chunk (1, 2, 3 s): 2.5 s allow three chunks.
    text = lm.sample("THE ", 10_000_000, seed=2, time_limit=2.5)
    assert readings == [0.0, 1.0, 2.0, 3.0]
    assert len(text) == len("THE ") + 16 + 32 + 64
    assert lm.sample("THE ", len(text) - 4, seed=2) == text
    assert lm.samples("THE ", 10_000_000, 2, seed=2, time_limit=2.5)[0] == text


def test_a_beam_search_out_of_time_answers_with_the_hypotheses_it_holds(monkeypatch):
    lm = LanguageModel(model("lstm"), VOCAB)
    ticking_clock(monkeypatch)
    # Read at the start, then once per candidate of each step: 3 candidates a step, so the
    # limit of 3.5 s has passed for all of the second step's; they end the search.
    text = lm.sample("THE ", 1000, beam=3, time_limit=3.5)
    assert len(text) == len("THE ") + 2
    assert lm.sample("THE ", 2, beam=3) == text
