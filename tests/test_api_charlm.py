"""The trained character model's Python API (api/charlm.py): its checks, evaluation and streams.
The sampled text itself is tested in test_generation.py."""

import math
import re

import pytest
import torch
import torch.nn.functional as F

from seqrnn.api.charlm import LanguageModel
from seqrnn.data.text import CharVocab
from seqrnn.errors import UserError
from seqrnn.run import RunConfig
from tests.test_generation import VOCAB, model


def test_evaluate_gives_the_cross_entropy_of_the_text_in_nats_bits_and_perplexity():
    lm = LanguageModel(model("gru"), VOCAB)
    text = "the cat sat on the mat. " * 3
    scores = lm.evaluate(text, num_steps=10, rows=1)
    ids = torch.as_tensor(VOCAB.encode(text), dtype=torch.int64)
    with torch.no_grad():
        logits, _ = lm.model(ids[:-1][None])
        expected = F.cross_entropy(logits[0], ids[1:]).item()
    assert scores["characters"] == len(text) - 1 and scores["unknown_chars"] == 0
    assert scores["loss"] == pytest.approx(expected, rel=1e-5)
    assert scores["bits_per_char"] == pytest.approx(expected / math.log(2), rel=1e-5)
    assert scores["perplexity"] == pytest.approx(math.exp(expected), rel=1e-5)


def test_characters_it_never_saw_are_left_out_of_the_score_and_counted():
    lm = LanguageModel(model("lstm"), VOCAB)
    text = "the cat sat on the mat. " * 3
    scores = lm.evaluate(text.replace("cat", "c@t").replace("mat", "m%t"), num_steps=10, rows=1)
    assert scores["unknown_chars"] == 6 and scores["unknown_set"] == ["%", "@"]
    assert scores["characters"] == len(text) - 6 - 1


def test_a_prime_must_be_known_characters_and_not_empty():
    lm = LanguageModel(model("lstm"), VOCAB)
    for prime, message in [("", "prime must have at least one character"),
                           ("THE #", "never saw: ['#']; remove them from prime")]:
        with pytest.raises(UserError, match=re.escape(message)) as caught:
            lm.sample(prime, 5)
        assert caught.value.field == "prime"
    assert lm.default_prime() == "The "  # the lecture's, where the vocabulary has it
    assert LanguageModel(lm.model, CharVocab.from_text("zyx")).default_prime() == "x"


def test_a_stream_is_the_sample_piece_by_piece():
    lm = LanguageModel(model("lstm"), VOCAB)
    pieces = list(lm.stream("THE ", 100, seed=4))
    assert len(pieces) > 1 and all(pieces)
    assert "THE " + "".join(pieces) == lm.sample("THE ", 100, seed=4)


def test_the_model_is_in_evaluation_mode_on_its_device():
    module = model("lstm").train()
    lm = LanguageModel(module, VOCAB)
    assert not lm.model.training and lm.device == torch.device("cpu")


@pytest.mark.parametrize("options,field", [
    ({"top_p": 0.0}, "top_p"), ({"top_p": 1.5}, "top_p"), ({"top_p": float("nan")}, "top_p"),
    ({"top_k": -1}, "top_k"), ({"temperature": 0}, "temperature"), ({"beam": 0}, "beam"),
    ({"beam": 65}, "beam"), ({"stop": ("",)}, "stop"), ({"stop": ("a",) * 17}, "stop"),
    ({"time_limit": -1.0}, "time_limit"), ({"time_limit": float("inf")}, "time_limit"),
])
def test_bad_options_name_their_field(options, field):
    lm = LanguageModel(model("lstm"), VOCAB)
    with pytest.raises(UserError) as caught:
        lm.sample("THE ", 10, **options)
    assert caught.value.field == field


def test_bad_lengths_seeds_and_counts_are_refused():
    lm = LanguageModel(model("lstm"), VOCAB)
    for call, field in [(lambda: lm.sample("THE ", -1), "length"),
                        (lambda: lm.sample("THE ", 5, seed=-1), "seed"),
                        (lambda: lm.samples("THE ", 5, 0), "num_samples"),
                        (lambda: lm.samples("THE ", 5, 2, beam=3), "beam")]:
        with pytest.raises(UserError) as caught:
            call()
        assert caught.value.field == field


def test_samples_check_their_memory_once_before_the_seeds_are_listed(monkeypatch):
    import seqrnn.api.charlm

    checked = []
    monkeypatch.setattr(seqrnn.api.charlm, "check_generation_memory",
                        lambda *args, **kwargs: checked.append(args))
    lm = LanguageModel(model("lstm"), VOCAB)
    assert len(lm.samples("THE ", 5, 3, seed=1)) == 3
    assert [streams for *_, streams, beam in checked] == [3]


@pytest.mark.parametrize("reverse", [False, True])
def test_evaluating_a_file_streams_it_and_scores_as_the_text_in_memory(tmp_path, reverse):
    lm = LanguageModel(model("lstm"), VOCAB, RunConfig("charlm", {}, {"reverse": reverse}))
    path = tmp_path / "eval.txt"
    text = "the cat sat on the mat. " * 20 + "c@t"
    path.write_text(text.replace("\n", "\r\n"), encoding="utf-8")
    streamed = lm.evaluate_file(str(path), num_steps=7, rows=3)
    assert streamed == lm.evaluate(text, num_steps=7, rows=3)
    assert streamed["unknown_chars"] == 1 and streamed["unknown_set"] == ["@"]
