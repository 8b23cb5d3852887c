"""The tagger's vocabularies (data/tag_vocab.py): tags with O first and no unknown id, feature
columns, the word key, and their JSON round trips."""

import pytest

from seqrnn.data.tag_vocab import FeatureVocabs, TagVocab, word_key
from seqrnn.data.tokenize import split_words
from seqrnn.errors import UserError


def test_tags_are_sorted_with_o_first_and_round_trip():
    tags = TagVocab.build([["B-PER", "O"], ["S-LOC", "O", "B-PER"]], "bioes")
    assert tags.tags == ("O", "B-PER", "S-LOC") and len(tags) == 3
    assert tags.encode(["O", "S-LOC"]) == [0, 2] and tags.decode([1, 0]) == ["B-PER", "O"]
    assert TagVocab.from_dict(tags.to_dict()) == tags


def test_a_tag_training_never_saw_is_refused_naming_where():
    tags = TagVocab(("O", "B-PER"), "iob2")
    with pytest.raises(UserError, match="test sentence 4 has the tag 'B-ORG'"):
        tags.encode(["O", "B-ORG"], where="test sentence 4")


@pytest.mark.parametrize("data", [{"kind": "word", "words": []}, {"kind": "tags", "tags": 3},
                                  {"kind": "tags", "tags": ["O", "O"], "scheme": "iob2"},
                                  {"kind": "tags", "tags": ["O"], "scheme": "bio"}])
def test_damaged_tag_files_are_one_line(data):
    with pytest.raises(UserError) as caught:
        TagVocab.from_dict(data)
    assert "\n" not in str(caught.value)


def test_feature_columns_have_a_vocabulary_each_and_round_trip():
    features = FeatureVocabs.build([(("NN", "VB"), ("x", "y")), (("NN",), ("x",))], 2)
    assert features.sizes == (4, 4)  # padding, unknown and two values each
    assert features.encode([("VB", "??"), ("y", "x")]) == [[3, 1], [3, 2]]
    assert FeatureVocabs.from_dict(features.to_dict()) == features
    assert FeatureVocabs.build([], 0).sizes == ()


def test_the_word_key_lowercases_and_folds_digits():
    assert word_key("Boeing747", True) == "boeing000" and word_key("Boeing747", False) == \
        "Boeing747"


def test_raw_text_splits_into_words_and_marks_with_case_kept():
    assert split_words("He's 3.5% up, in New-York.") == ["He's", "3.5", "%", "up", ",", "in",
                                                         "New-York", "."]
