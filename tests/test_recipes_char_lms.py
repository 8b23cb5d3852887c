"""A tagger's character language models read from their runs (recipes/char_lms.py): configs,
characters and weights copied, each direction checked, every character of the data required,
and the sentence laid out as the models read it."""

import pytest
import torch

import seqrnn
from seqrnn.configs.tagger import TaggerData
from seqrnn.data.conll import TaggedSentence
from seqrnn.data.text import CharVocab
from seqrnn.errors import UserError
from seqrnn.recipes.char_lms import check_coverage, encode_known, read_char_lms, sentence_text
from seqrnn.run import RunFolder
from tests.tag_data import toy_sentences, train_char_lms, write_conll


@pytest.fixture(scope="module")
def lms(tmp_path_factory):
    torch.set_num_threads(1)
    return train_char_lms(tmp_path_factory.mktemp("lms"), toy_sentences(40, 1))


def test_both_runs_are_read_with_their_configs_characters_and_best_weights(lms):
    forward, backward = lms
    read = read_char_lms(TaggerData(char_lm=str(forward), char_lm_backward=str(backward)))
    assert read.chars == CharVocab.from_dict(RunFolder(forward).read_json("vocab.json"))
    assert read.fields["lm_chars"] == "".join(read.chars.chars)
    assert read.fields["forward_lm"].hidden_size == 12
    best, _ = RunFolder(backward).load_weights("model.safetensors")
    assert torch.equal(read.weights["backward_lm.head.weight"], best["head.weight"])
    assert read_char_lms(TaggerData()) is None
    alone = read_char_lms(TaggerData(char_lm_backward=str(backward)))
    assert set(alone.fields) == {"backward_lm", "lm_chars"}


def test_each_direction_must_have_read_its_way(lms):
    forward, backward = lms
    with pytest.raises(UserError) as caught:
        read_char_lms(TaggerData(char_lm=str(backward)))
    assert caught.value.field == "char_lm"
    assert "trained on text reversed: give one trained without charlm train --reverse" in str(
        caught.value)
    with pytest.raises(UserError, match="with charlm train --reverse"):
        read_char_lms(TaggerData(char_lm_backward=str(forward)))


def test_models_of_different_characters_or_other_kinds_are_refused(lms, tmp_path):
    forward, _ = lms
    train_char_lms(tmp_path, [(["xyz"] * 30,)])
    with pytest.raises(UserError, match="know different characters"):
        read_char_lms(TaggerData(char_lm=str(forward), char_lm_backward=str(tmp_path /
                                                                            "backward")))
    toy = write_conll(tmp_path / "toy.txt", toy_sentences(20, 4))
    seqrnn.train("tag", tmp_path / "tagger", data=str(toy), max_steps=1,
                 hidden_size=4, word_dim=4, progress=False)
    with pytest.raises(UserError) as caught:
        read_char_lms(TaggerData(char_lm=str(tmp_path / "tagger")))
    assert caught.value.field == "char_lm" and "not a charlm model" in str(caught.value)


def test_every_character_of_the_training_words_is_required_and_named():
    chars = CharVocab(tuple(" abc"))
    check_coverage(chars, [TaggedSentence(("ab", "c"), ("O", "O"), ())], TaggerData())
    with pytest.raises(UserError) as caught:
        check_coverage(chars, [TaggedSentence(("añb", "cZ"), ("O", "O"), ())],
                       TaggerData(char_lm="lm"))
    assert str(caught.value) == ("the character language models (char_lm lm) lack 2 "
                                 "character(s) of conll2000: 'Zñ'; pretrain them on text that "
                                 "has them")
    assert caught.value.fields == ("char_lm",)


def test_a_sentence_is_read_as_its_words_between_spaces():
    text, first, last = sentence_text(("He", "saw", "a", "dog"))
    assert text == " He saw a dog "
    assert [text[i] for i in first] == ["H", "s", "a", "d"]
    assert [text[i] for i in last] == ["e", "w", "a", "g"]


def test_a_character_the_models_never_saw_is_read_as_a_space():
    chars = CharVocab(tuple(" ab"))
    assert encode_known(chars, "a€b").tolist() == chars.encode("a b").tolist()
