"""The torch-free configuration dataclasses and their validation."""

from dataclasses import asdict

import pytest

from seqrnn.configs import (
    RESUMABLE,
    CharLMConfig,
    SentimentConfig,
    TrainConfig,
    require_choice,
    resumed_loop,
)
from seqrnn.errors import UserError


def test_resumed_loop_changes_only_the_budget():
    saved = asdict(TrainConfig(epochs=3, lr=2e-3))
    config = resumed_loop(saved, epochs=7, minutes=1.5)
    assert config.epochs == 7 and config.minutes == 1.5 and config.lr == 2e-3


def test_resumed_loop_refuses_training_changes_with_the_flag_name():
    saved = asdict(TrainConfig())
    with pytest.raises(UserError, match="drop --clip-norm, --lr"):
        resumed_loop(saved, lr=1.0, clip_norm=2.0)


def test_resumable_fields_exist_on_the_loop_config():
    assert set(asdict(TrainConfig())) >= RESUMABLE


@pytest.mark.parametrize("make, flag", [
    (lambda: TrainConfig(lr=0.0), "--lr"),
    (lambda: TrainConfig(device="tpu"), "--device"),
    (lambda: CharLMConfig(vocab_size=10, cell="transformer"), "--cell"),
    (lambda: SentimentConfig(vocab_size=10, head="attention"), "--head"),
])
def test_bad_values_are_user_errors_naming_the_flag(make, flag):
    with pytest.raises(UserError, match=flag):
        make()


def test_require_choice_lists_the_choices():
    with pytest.raises(UserError, match="lstm, gru"):
        require_choice("cell", "x", ("lstm", "gru"))
