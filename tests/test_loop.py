"""The shared training loop, driven by a scripted task."""

import json

import pytest
import torch
from torch import nn

from seqrnn.configs import TrainConfig
from seqrnn.errors import UserError, flag
from seqrnn.run import BEST_WEIGHTS, LATEST_WEIGHTS, METRICS_FILE, RunFolder
from seqrnn.trainer import Selection, Trainer
from seqrnn.trainer.optim import clip_gradients

# Validation metrics of successive epochs: loss is lowest at epoch 2, accuracy highest at 3.
SCRIPT = [{"loss": 0.50, "accuracy": 0.80}, {"loss": 0.40, "accuracy": 0.84},
          {"loss": 0.45, "accuracy": 0.86}, {"loss": 0.60, "accuracy": 0.85}]


class ScriptedTask:
    items = "examples"

    def __init__(self, selection: Selection):
        self.selection = selection
        self.evals = 0

    def num_batches(self, epoch):
        return 2

    def batch(self, epoch, index):
        return torch.full((4, 1), float(epoch * 2 + index + 1))

    def start_epoch(self, epoch):
        pass

    def train_loss(self, model, batch):
        return model(batch).pow(2).mean(), len(batch)

    def evaluate(self, model):
        self.evals += 1
        return dict(SCRIPT[self.evals - 1])

    def carried_state(self):
        return {}

    def load_carried_state(self, state):
        pass


def best_step(run_dir):
    _, step = RunFolder(run_dir).load_weights(BEST_WEIGHTS)
    return step


@pytest.mark.parametrize("selection, best_epoch", [
    (Selection("loss"), 2),
    (Selection("accuracy", higher_is_better=True), 3),
])
def test_best_checkpoint_follows_the_tasks_selection_metric(tmp_path, selection, best_epoch):
    torch.manual_seed(0)
    trainer = Trainer(nn.Linear(1, 1), ScriptedTask(selection),
                      TrainConfig(epochs=4, progress=False, device="cpu"), tmp_path)
    result = trainer.fit()
    assert result.best_eval == SCRIPT[best_epoch - 1]
    assert best_step(tmp_path) == 2 * best_epoch  # two steps per epoch
    evals = [json.loads(line) for line in (tmp_path / METRICS_FILE).read_text().splitlines()
             if json.loads(line)["kind"] == "eval"]
    assert [e["val_accuracy"] for e in evals] == [m["accuracy"] for m in SCRIPT]


def test_patience_counts_evaluations_without_a_better_selection_metric(tmp_path):
    task = ScriptedTask(Selection("accuracy", higher_is_better=True))
    config = TrainConfig(epochs=4, patience=1, progress=False, device="cpu")
    result = Trainer(nn.Linear(1, 1), task, config, tmp_path).fit()
    assert result.stopped == "early_stopping" and result.epoch == 4
    assert result.best_eval["accuracy"] == 0.86


def test_clip_gradients_handles_sparse_and_dense_alike():
    dense = nn.Parameter(torch.zeros(2))
    dense.grad = torch.tensor([3.0, 0.0])
    sparse = nn.Parameter(torch.zeros(3, 1))
    sparse.grad = torch.sparse_coo_tensor([[1]], [[4.0]], (3, 1), check_invariants=True)
    norm = clip_gradients([dense, sparse], max_norm=1.0)
    assert norm == pytest.approx(5.0)
    assert dense.grad.tolist() == pytest.approx([0.6, 0.0], abs=1e-6)
    assert sparse.grad.to_dense()[1, 0].item() == pytest.approx(0.8, abs=1e-6)


class WeightRecordingTask(ScriptedTask):
    """Pulls the weight towards 1, validates by the distance to 1; records the weight seen."""

    def __init__(self):
        super().__init__(Selection("loss"))
        self.seen = []

    def train_loss(self, model, batch):
        return (model(torch.ones(4, 1)) - 1).pow(2).mean(), 4

    def evaluate(self, model):
        self.seen.append(model.weight.item())
        return {"loss": abs(model.weight.item() - 1)}


def test_ema_is_what_is_evaluated_and_saved_as_best_while_training_steps_the_raw_weights(
        tmp_path):
    torch.manual_seed(0)
    model = nn.Linear(1, 1, bias=False)
    task = WeightRecordingTask()
    config = TrainConfig(epochs=3, lr=0.05, ema_decay=0.9, progress=False, device="cpu")
    Trainer(model, task, config, tmp_path).fit()
    best, _ = RunFolder(tmp_path).load_weights(BEST_WEIGHTS)
    latest, _ = RunFolder(tmp_path).load_weights(LATEST_WEIGHTS)
    assert best["weight"].item() == pytest.approx(task.seen[-1])
    assert latest["weight"].item() == pytest.approx(model.weight.item())
    assert abs(best["weight"].item() - latest["weight"].item()) > 1e-3


def test_ema_decay_outside_zero_one_is_a_user_error():
    with pytest.raises(UserError, match="ema_decay must be between 0 and 1") as error:
        TrainConfig(ema_decay=1.0)
    assert error.value.render(flag).startswith("--ema-decay must be between 0 and 1")


class StepScriptedTask(ScriptedTask):
    """Validation loss by the step it is measured at; the step count survives a resume."""

    LOSS = {2: 0.50, 3: 0.10, 4: 0.40, 6: 0.45, 8: 0.42, 10: 0.41}

    def __init__(self):
        super().__init__(Selection("loss"))
        self.seen = 0

    def train_loss(self, model, batch):
        self.seen += 1
        return super().train_loss(model, batch)

    def evaluate(self, model):
        return {"loss": self.LOSS[self.seen]}

    def carried_state(self):
        return {"seen": torch.tensor(self.seen)}

    def load_carried_state(self, state):
        self.seen = int(state["seen"])


def test_an_evaluation_made_only_because_the_run_stopped_does_not_count(tmp_path):
    """Selection and early stopping of a run stopped at step 3 and resumed equal those of a
    run never stopped: its stop-step evaluation (the best loss of all) counts for neither."""
    config = TrainConfig(epochs=5, eval_every=2, patience=2, progress=False, device="cpu")
    torch.manual_seed(0)
    straight = Trainer(nn.Linear(1, 1), StepScriptedTask(), config, tmp_path / "a").fit()
    assert (straight.stopped, straight.step, best_step(tmp_path / "a")) == ("early_stopping", 8, 4)
    torch.manual_seed(0)
    stopped = Trainer(nn.Linear(1, 1), StepScriptedTask(), TrainConfig(
        **{**vars(config), "max_steps": 3}), tmp_path / "b").fit()
    assert stopped.best_eval == {"loss": 0.10} and best_step(tmp_path / "b") == 3
    resumed = Trainer(nn.Linear(1, 1), StepScriptedTask(), config, tmp_path / "b").fit(True)
    assert (resumed.stopped, resumed.step, best_step(tmp_path / "b")) == ("early_stopping", 8, 4)
    assert resumed.best_eval == straight.best_eval == {"loss": 0.40}
    for name in (BEST_WEIGHTS, LATEST_WEIGHTS):
        a, b = (RunFolder(tmp_path / run).load_weights(name)[0] for run in "ab")
        assert all(torch.equal(a[k], b[k]) for k in a), name


def test_a_resume_with_nothing_left_to_do_keeps_the_stop_evaluations_best(tmp_path):
    config = TrainConfig(epochs=5, eval_every=2, progress=False, device="cpu", max_steps=3)
    Trainer(nn.Linear(1, 1), StepScriptedTask(), config, tmp_path).fit()
    before = RunFolder(tmp_path).load_weights(BEST_WEIGHTS)
    result = Trainer(nn.Linear(1, 1), StepScriptedTask(), config, tmp_path).fit(resume=True)
    assert result.step == 3 and result.best_eval == {"loss": 0.10}  # not trained: as it was
    after = RunFolder(tmp_path).load_weights(BEST_WEIGHTS)
    assert after[1] == before[1] == 3 and all(torch.equal(after[0][k], before[0][k])
                                               for k in before[0])


class ScriptedLossTask(ScriptedTask):
    """A training loss given by a script, step by step (the model's output times zero keeps the
    graph)."""

    loss_varies_by_batch = True

    def __init__(self, losses):
        super().__init__(Selection("loss"))
        self.losses = iter(losses)

    def num_batches(self, epoch):
        return 40

    def train_loss(self, model, batch):
        return model(batch).sum() * 0 + next(self.losses), len(batch)

    def evaluate(self, model):
        return {"loss": 1.0}


def test_a_small_first_loss_is_no_baseline_for_divergence(tmp_path):
    # A first batch of one-word sentences (loss 1), then batches of long ones (about 25):
    # the baseline is the largest of the first steps, so this trains on.
    losses = [1.0, 3.0, 25.0, 2.0, 30.0] + [20.0] * 35
    config = TrainConfig(epochs=1, progress=False, device="cpu")
    result = Trainer(nn.Linear(1, 1), ScriptedLossTask(losses), config, tmp_path).fit()
    assert result.step == 40


def test_a_loss_grown_far_beyond_the_first_steps_is_divergence(tmp_path):
    losses = [1.0, 3.0, 25.0, 2.0, 30.0] + [20.0] * 10 + [1000.0] * 25
    config = TrainConfig(epochs=1, progress=False, device="cpu")
    with pytest.raises(UserError, match="training diverged at step 1[6-9]"):
        Trainer(nn.Linear(1, 1), ScriptedLossTask(losses), config, tmp_path).fit()


def test_a_loss_that_does_not_vary_by_batch_is_measured_from_the_first(tmp_path):
    task = ScriptedLossTask([1.0, 3.0, 25.0, 2.0, 30.0] + [20.0] * 35)
    task.loss_varies_by_batch = False  # a language model's: 25 after 1 is divergence
    config = TrainConfig(epochs=1, progress=False, device="cpu")
    with pytest.raises(UserError, match="training diverged at step 5"):
        Trainer(nn.Linear(1, 1), task, config, tmp_path).fit()
