import numpy as np
import pytest

from seqrnn.data.conditions import (
    ConditionVocab,
    parse_mixture,
    read_with_targets,
    token_conditions,
)
from seqrnn.errors import UserError

RATINGS = ConditionVocab.from_values("rating", ["10", "2", None, "1", "9", "2"], True)


def test_values_sort_as_numbers_and_none_is_id_0():
    assert RATINGS.values == ("1", "2", "9", "10") and len(RATINGS) == 5
    assert RATINGS.encode(["10", None, "1"]).tolist() == [4, 0, 1]
    assert RATINGS.decode([0, 2]) == ["<none>", "2"]
    assert ConditionVocab.from_dict(RATINGS.to_dict()) == RATINGS


def test_weights_of_a_value_none_and_a_mixture():
    assert RATINGS.weights(10).tolist() == [0, 0, 0, 0, 1]
    assert RATINGS.weights(None).tolist() == [1, 0, 0, 0, 0]
    assert RATINGS.weights("1:0.25,10:0.75").tolist() == [0, 0.25, 0, 0, 0.75]


@pytest.mark.parametrize("spec, message", [
    ("5", "never saw the rating '5' in training: give condition one of 1, 2, 9, 10"),
    ("1:0.5,10:0.6", "add up to 1.1: make them add up to 1"),
    ("1:0,10:1", "bad part '1:0'"),
    (":1", "bad part ':1'"),
    ("1:nan,10:1", "bad part '1:nan'"),
    ("1:0.5,5:0.5", "never saw the rating '5'"),
])
def test_bad_specs_are_one_line_about_the_condition(spec, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(")) as caught:
        RATINGS.weights(spec)
    assert caught.value.fields == ("condition",)


def test_a_model_that_never_read_none_needs_a_condition():
    vocab = ConditionVocab.from_values("label", ["neg", "pos"], none_trained=False)
    with pytest.raises(UserError, match="needs one: give condition one of neg, pos"):
        vocab.weights(None)


def test_a_mixture_value_may_hold_a_colon_when_it_is_a_value():
    vocab = ConditionVocab.from_values("time", ["10:30", "11:00"], True)
    assert vocab.weights("10:30").tolist() == [0, 1, 0]
    assert parse_mixture("10:30:0.5,11:00:0.5") == [("10:30", 0.5), ("11:00", 0.5)]


def test_tokens_read_the_condition_of_what_they_predict():
    per_token = token_conditions(np.array([1, 2]), [3, 2])
    assert per_token.tolist() == [1, 1, 1, 2, 2] and per_token.dtype == np.uint8
    assert read_with_targets(per_token).tolist() == [1, 1, 2, 2, 2]
