"""What the training loop asks of a task and gives back (trainer/objective.py)."""

import math
from dataclasses import asdict

import pytest

from seqrnn.errors import UserError
from seqrnn.trainer.objective import Progress, Selection, TrainingDiverged


def test_a_lower_loss_improves_and_a_higher_accuracy_when_it_is_selected():
    loss, accuracy = Selection(), Selection("accuracy", higher_is_better=True)
    best = {"loss": 0.5, "accuracy": 0.8}
    assert loss.improves({"loss": 0.4, "accuracy": 0.1}, best)
    assert not loss.improves({"loss": 0.6, "accuracy": 0.99}, best)
    assert accuracy.improves({"loss": 0.9, "accuracy": 0.81}, best)
    assert not accuracy.improves({"loss": 0.1, "accuracy": 0.79}, best)


def test_a_tie_goes_to_the_lower_validation_loss():
    accuracy = Selection("accuracy", higher_is_better=True)
    best = {"loss": 0.5, "accuracy": 0.8}
    assert accuracy.improves({"loss": 0.49, "accuracy": 0.8}, best)
    assert not accuracy.improves({"loss": 0.5, "accuracy": 0.8}, best)  # equal: keep the first
    assert not Selection().improves({"loss": 0.5}, {"loss": 0.5})


def test_the_first_evaluation_always_improves():
    assert Selection().improves({"loss": math.inf}, {})


def test_progress_starts_at_zero_and_saves_as_plain_data():
    saved = asdict(Progress())
    assert (saved["step"], saved["epoch"], saved["index"], saved["last_eval_step"]) == (0, 0, 0, -1)
    assert saved["best_eval"] == {} and math.isnan(saved["first_loss"])
    restored = Progress(**saved)
    assert asdict(restored)["step"] == 0 and restored.best_eval is not Progress().best_eval


def test_a_diverged_training_is_a_user_error():
    with pytest.raises(UserError, match="diverged"):
        raise TrainingDiverged("the loss diverged at step 3: lower --lr")
