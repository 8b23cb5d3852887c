"""The word language model's Python API on a small untrained model."""

import pytest

from seqrnn.api.wordlm import WordLanguageModel
from seqrnn.configs import WordLMConfig
from seqrnn.data.documents import build_word_vocab
from seqrnn.errors import UserError
from seqrnn.models.wordlm import WordLM

WORDS = "the cat sat on the mat and a dog ran to the park with the cat"


def save_wordlm(path, **options) -> WordLanguageModel:
    """A small untrained word model saved as a run folder (for serving and export tests)."""
    from dataclasses import asdict

    import torch

    from seqrnn.kinds import VOCAB_FILE
    from seqrnn.run import BEST_WEIGHTS, RunFolder

    torch.manual_seed(3)
    vocab = build_word_vocab([WORDS], min_freq=1, max_vocab=None)
    model = WordLM(WordLMConfig(len(vocab), **{"embedding_dim": 8, "hidden_size": 12,
                                               "num_layers": 2, **options})).eval()
    run = RunFolder(path)
    run.create()
    run.write_json(VOCAB_FILE, vocab.to_dict())
    run.save_weights(BEST_WEIGHTS, model.state_dict(), step=-1)
    run.write_config("wordlm", asdict(model.config))
    return WordLanguageModel(model, vocab)


@pytest.fixture
def lm():
    vocab = build_word_vocab(["the cat sat on the mat"], min_freq=1, max_vocab=None)
    model = WordLM(WordLMConfig(len(vocab), embedding_dim=8, hidden_size=8, num_layers=1))
    return WordLanguageModel(model, vocab)


@pytest.mark.parametrize("text", ["", "  \n "])
def test_a_text_without_words_is_refused_as_the_command_line_refuses_it(lm, text):
    with pytest.raises(UserError, match="^the text has nothing to evaluate; give a text with "
                                        "at least one word$"):
        lm.evaluate(text)
    assert lm.evaluate("the cat")["words"] == 3  # two words and the end


def test_a_vocabulary_without_the_end_of_document_word_is_refused(lm):
    from seqrnn.data.vocab import WordVocab

    words = WordVocab(tuple(w for w in lm.vocab.words if w != "<eos>"))
    with pytest.raises(UserError, match="^the vocabulary has no end-of-document word <eos>"):
        WordLanguageModel(lm.model, words)


def test_evaluating_a_file_streams_it_and_scores_as_the_text_in_memory(lm, tmp_path):
    path = tmp_path / "review.txt"
    text = "The cat sat<br />on the MAT, and a dog ran to the park.\r\n" * 30
    path.write_text(text, encoding="utf-8")
    streamed = lm.evaluate_file(path, num_steps=7, rows=3)
    assert streamed == lm.evaluate(text.replace("\r\n", "\n"), num_steps=7, rows=3)
    assert streamed["unknown_words"] == 30 * 8  # , and a dog ran to park .
