"""The tagger's configuration: its checks, each one line naming its field, and its JSON."""

import json
from dataclasses import asdict

import pytest

from seqrnn.configs.tagger import TaggerConfig
from seqrnn.errors import UserError, flag

DATA = {"vocab_size": 50, "char_vocab_size": 30, "num_tags": 5, "feature_vocab_sizes": (12,)}


def test_defaults_are_lample_et_al():
    config = TaggerConfig(**DATA)
    assert (config.word_dim, config.char_dim, config.char_hidden, config.hidden_size,
            config.dropout, config.decoder, config.cell) == (100, 25, 25, 200, 0.5, "crf", "lstm")


def test_json_round_trip_restores_the_tuple():
    config = TaggerConfig(**{**DATA, "feature_vocab_sizes": (12, 7)}, decoder="softmax")
    loaded = TaggerConfig(**json.loads(json.dumps(asdict(config))))
    assert loaded == config and loaded.feature_vocab_sizes == (12, 7)


def test_no_feature_columns_and_no_character_encoder_are_allowed():
    config = TaggerConfig(**{**DATA, "feature_vocab_sizes": []}, char_hidden=0)
    assert config.feature_vocab_sizes == () and config.char_hidden == 0


@pytest.mark.parametrize("fields, message", [
    ({"decoder": "hmm"}, "unknown {decoder} 'hmm': use one of crf, softmax"),
    ({"cell": "tcn"}, "unknown {cell} 'tcn': use one of rnn, lstm, gru"),
    ({"dropout": 1.0}, "{dropout} must be in [0, 1), got 1.0"),
    ({"hidden_size": 0}, "{hidden_size} must be positive, got 0"),
    ({"word_dim": -1}, "{word_dim} must be positive, got -1"),
    ({"num_layers": 0}, "{num_layers} must be positive, got 0"),
    ({"char_hidden": -1}, "{char_hidden} must be zero (none) or positive, got -1"),
    ({"forward_lm": {"vocab_size": 5}, "lm_chars": " abc"},
     "{forward_lm} reads 5 characters but lm_chars lists 4"),
    ({"lm_chars": " abc"}, "{lm_chars} is for character language models: give one"),
    ({"hidden_size": 2.5}, "{hidden_size} must be a whole number, got 2.5"),
])
def test_bad_choices_are_one_line_naming_their_flag(fields, message):
    with pytest.raises(UserError) as caught:
        TaggerConfig(**{**DATA, **fields})
    name = next(iter(fields))
    assert caught.value.field == name
    assert caught.value.template == message
    assert caught.value.render(flag) == message.replace("{" + name + "}", flag(name))


@pytest.mark.parametrize("fields, message", [
    ({"vocab_size": 0}, "vocab size must be positive, got 0"),
    ({"char_vocab_size": 0}, "character vocab size must be positive, got 0"),
    ({"num_tags": 0}, "number of tags must be positive, got 0"),
    ({"feature_vocab_sizes": (4, 0)}, "feature vocab sizes must be positive, got [4, 0]"),
])
def test_sizes_the_data_decides_are_named_in_words(fields, message):
    with pytest.raises(UserError) as caught:
        TaggerConfig(**{**DATA, **fields})
    assert caught.value.field == next(iter(fields))
    assert caught.value.render(flag) == str(caught.value) == message


def test_language_model_configs_read_back_from_json_and_add_their_states():
    config = TaggerConfig(**DATA, forward_lm={"vocab_size": 3, "hidden_size": 8},
                          backward_lm={"vocab_size": 3, "hidden_size": 5}, lm_chars=" ab")
    assert config.forward_lm.hidden_size == 8 and config.char_lm_dim == 13
    assert TaggerConfig(**DATA).char_lm_dim == 0
