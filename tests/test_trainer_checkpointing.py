"""What a checkpoint carries for the loop and how a resumed Trainer takes it back
(seqrnn.trainer.checkpointing): the weight average continued exactly, and a training state
that does not fit refused in one line."""

import re

import pytest
import torch
from torch import nn

from seqrnn.configs import TrainConfig
from seqrnn.errors import UserError
from seqrnn.run import BEST_WEIGHTS, LATEST_WEIGHTS, TRAIN_STATE, RunFolder
from seqrnn.trainer import Selection, Trainer
from tests.test_loop import ScriptedTask, WeightRecordingTask


def test_training_state_of_another_version_is_a_user_error(tmp_path):
    task = ScriptedTask(Selection("loss"))
    config = TrainConfig(epochs=1, progress=False, device="cpu")
    Trainer(nn.Linear(1, 1), task, config, tmp_path).fit()
    state = RunFolder(tmp_path).load_train_state()
    state["progress"]["best_val_loss"] = 0.5  # a field this version does not have
    torch.save(state, RunFolder(tmp_path).file(TRAIN_STATE))
    with pytest.raises(UserError, match="another version of seqrnn"):
        Trainer(nn.Linear(1, 1), task, config, tmp_path).fit(resume=True)


@pytest.mark.parametrize(("name", "value", "said"), [
    ("exp_avg", torch.zeros(3), "exp_avg of parameter 0 is torch.float32 [3], the parameter "
                                "[1, 1]"),
    ("exp_avg_sq", torch.zeros(1, 1, dtype=torch.int32), "exp_avg_sq of parameter 0 is "
                                                         "torch.int32 [1, 1]"),
    ("step", torch.tensor([1.0, 2.0]), "step of parameter 0 is torch.float32 [2]"),
])
def test_optimizer_moments_that_do_not_fit_the_parameters_are_one_line(tmp_path, name, value,
                                                                        said):
    task = ScriptedTask(Selection("loss"))
    config = TrainConfig(epochs=1, progress=False, device="cpu")
    Trainer(nn.Linear(1, 1), task, config, tmp_path).fit()
    state = RunFolder(tmp_path).load_train_state()
    state["optimizers"][0]["state"][0][name] = value
    torch.save(state, RunFolder(tmp_path).file(TRAIN_STATE))
    with pytest.raises(UserError, match=r"its optimizer state does not fit the model \(its "
                                        + re.escape(said)):
        Trainer(nn.Linear(1, 1), task, config, tmp_path).fit(resume=True)


def test_a_resumed_run_continues_the_weight_average_exactly(tmp_path):
    def run(run_dir, **budget):
        torch.manual_seed(0)
        model = nn.Linear(1, 1, bias=False)
        config = TrainConfig(lr=0.05, ema_decay=0.9, progress=False, device="cpu", **budget)
        return Trainer(model, WeightRecordingTask(), config, run_dir)

    run(tmp_path / "straight", epochs=3).fit()
    run(tmp_path / "cut", epochs=3, max_steps=3).fit()
    run(tmp_path / "cut", epochs=3).fit(resume=True)
    for name in (BEST_WEIGHTS, LATEST_WEIGHTS):
        straight, _ = RunFolder(tmp_path / "straight").load_weights(name)
        resumed, _ = RunFolder(tmp_path / "cut").load_weights(name)
        assert torch.equal(straight["weight"], resumed["weight"])
