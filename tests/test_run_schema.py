"""The structure checks of a run folder's files (run_schema.py)."""

from pathlib import Path

import pytest
import torch

from seqrnn.configs import SentimentConfig, Seq2SeqData, TrainConfig
from seqrnn.errors import UserError
from seqrnn.run_schema import check_train_state, field_type_error


@pytest.mark.parametrize(("cls", "values", "error"), [
    (TrainConfig, {"epochs": 3, "lr": 1, "amp": "on"}, None),  # an int is a fine float
    (TrainConfig, {"epochs": True}, "epochs is True, not a whole number"),
    (TrainConfig, {"minutes": "5"}, "minutes is '5', not a number or null"),
    (Seq2SeqData, {"stress": 1}, "stress is 1, not true or false"),
    (SentimentConfig, {"lm": [1]}, "lm is [1], not an object or null"),
    (SentimentConfig, {"unheard_of": object()}, None),  # unknown names: the dataclass decides
])
def test_a_json_value_is_checked_against_its_fields_type(cls, values, error):
    assert field_type_error(cls, values) == error


def good_state() -> dict:
    return {"progress": {"step": 3}, "optimizers": [{"param_groups": []}],
            "rng_cpu": torch.get_rng_state(), "carried": {}}


@pytest.mark.parametrize(("damage", "what"), [
    (lambda s: s.pop("carried"), "'carried' is missing or not a dict"),
    (lambda s: s["progress"].update(step=-1), "its step is not a count"),
    (lambda s: s.update(rng_cpu=torch.zeros(3)), "'rng_cpu' is not a random generator state"),
    (lambda s: s.update(optimizers=[{}]), "an optimizer state has no parameter groups"),
    (lambda s: s.update(best_before_stop=5), "'best_before_stop' is not a best evaluation"),
])
def test_a_damaged_training_state_is_one_line_naming_what_is_wrong(damage, what):
    check_train_state(Path("s.pt"), good_state())  # the intact one passes
    state = good_state()
    damage(state)
    with pytest.raises(UserError) as caught:
        check_train_state(Path("s.pt"), state)
    assert str(caught.value) == f"s.pt is damaged ({what}): restore it from a copy, or start anew"
