import json

import pytest

from seqrnn.data.vocab import PAD_ID, PAD_TOKEN, UNK_ID, UNK_TOKEN, WordVocab
from seqrnn.errors import UserError
from tests.wording import raises_as_cli

TOKENIZED = [
    ["the", "movie", "was", "good", "the", "end"],
    ["the", "good", "bad", "zebra"],
    ["apple", "the", "movie"],
]
# Counts: the 4, good 2, movie 2, apple/bad/end/was/zebra 1.


def test_words_ordered_by_frequency_then_alphabetically_from_id_2():
    vocab = WordVocab.build(TOKENIZED)
    assert vocab.words == ("the", "good", "movie", "apple", "bad", "end", "was", "zebra")
    assert vocab.id_of("the") == 2
    assert vocab.id_of("good") == 3
    assert vocab.id_of("zebra") == 9
    assert len(vocab) == 10  # the two reserved ids and eight words


def test_order_of_the_texts_does_not_change_the_ids():
    reordered = [list(reversed(tokens)) for tokens in reversed(TOKENIZED)]
    assert WordVocab.build(reordered) == WordVocab.build(TOKENIZED)


def test_min_freq_and_max_vocab():
    assert WordVocab.build(TOKENIZED, min_freq=2).words == ("the", "good", "movie")
    assert WordVocab.build(TOKENIZED, max_vocab=4).words == ("the", "good", "movie", "apple")
    assert WordVocab.build(TOKENIZED, min_freq=2, max_vocab=1).words == ("the",)


@pytest.mark.parametrize(("option", "value"), [("min_freq", 0), ("max_vocab", 0)])
def test_invalid_limits_are_user_errors(option, value):
    with raises_as_cli(option.replace("_", "-")):
        WordVocab.build(TOKENIZED, **{option: value})


def test_unknown_words_get_id_1_and_padding_is_0():
    vocab = WordVocab.build(TOKENIZED)
    assert (PAD_ID, UNK_ID) == (0, 1)
    assert vocab.encode(["the", "unseen", "movie", "THE"]) == [2, UNK_ID, 4, UNK_ID]
    assert vocab.encode([]) == []
    assert "movie" in vocab and "unseen" not in vocab


def test_decode_names_reserved_ids():
    vocab = WordVocab.build(TOKENIZED)
    assert vocab.decode([0, 1, 2, 9]) == [PAD_TOKEN, UNK_TOKEN, "the", "zebra"]
    with pytest.raises(ValueError, match="outside"):
        vocab.decode([10])


def test_json_round_trip():
    vocab = WordVocab.build(TOKENIZED)
    assert WordVocab.from_dict(json.loads(json.dumps(vocab.to_dict()))) == vocab
    loaded = WordVocab.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert loaded.words == vocab.words
    assert loaded.encode(["movie", "nope"]) == [4, UNK_ID]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"chars": ["a"]}, "not a word vocabulary"),
        ({"kind": "word", "pad_id": 1, "unk_id": 0, "words": []}, "pad/unknown ids 1/0"),
        ({"kind": "word", "pad_id": 0, "unk_id": 1, "words": ["a", "a"]}, "twice"),
        ({"kind": "word", "pad_id": 0, "unk_id": 1, "words": "abc"}, "must be a list"),
        ({"kind": "word", "pad_id": 0, "unk_id": 1, "words": ["a", ""]}, "non-empty"),
    ],
)
def test_damaged_vocabularies_are_user_errors(data, message):
    with pytest.raises(UserError, match=message):
        WordVocab.from_dict(data)
