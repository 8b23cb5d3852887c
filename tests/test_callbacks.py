"""The loop's reporting hooks: replaceable, droppable, and the defaults' files."""

import torch
from torch import nn

from seqrnn.configs import TrainConfig
from seqrnn.run import BEST_WEIGHTS, CURVE_FILE, LATEST_WEIGHTS, METRICS_FILE, RunFolder
from seqrnn.trainer import Selection, Trainer
from seqrnn.trainer.callbacks import Callback, LossCurve, MetricsLog, ProgressBar, default_callbacks
from tests.test_loop import ScriptedTask


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_fit_start(self, trainer, total_steps, resumed):
        self.calls.append(("start", total_steps, resumed))

    def on_step(self, trainer):
        self.calls.append(("step", trainer.progress.step))

    def on_train_log(self, trainer, record):
        self.calls.append(("log", record["step"]))

    def on_evaluate(self, trainer, record, improved):
        self.calls.append(("eval", record["step"], improved))

    def on_fit_end(self, trainer, result):
        self.calls.append(("end", result.stopped))


def config(**kw):
    return TrainConfig(**{"epochs": 2, "log_every": 2, "progress": False, "device": "cpu", **kw})


def test_own_callbacks_replace_the_defaults(tmp_path):
    recorder = Recorder()
    Trainer(nn.Linear(1, 1), ScriptedTask(Selection("loss")), config(), tmp_path,
            callbacks=[recorder]).fit()
    assert recorder.calls == [("start", 4, False), ("step", 1), ("step", 2), ("log", 2),
                              ("eval", 2, True), ("step", 3), ("step", 4), ("log", 4),
                              ("eval", 4, True), ("end", "finished")]
    # Checkpoints are the loop's own; the metrics log and the curve were callbacks.
    names = sorted(p.name for p in tmp_path.iterdir())
    assert BEST_WEIGHTS in names and LATEST_WEIGHTS in names
    assert METRICS_FILE not in names and CURVE_FILE not in names


def test_the_default_callbacks_write_the_metrics_and_the_curve(tmp_path):
    Trainer(nn.Linear(1, 1), ScriptedTask(Selection("loss")), config(), tmp_path).fit()
    records = RunFolder(tmp_path).metrics_path.read_text().splitlines()
    assert len(records) == 4 and (tmp_path / CURVE_FILE).stat().st_size > 0
    kinds = [type(c) for c in default_callbacks(RunFolder(tmp_path), progress=True)]
    assert kinds == [ProgressBar, MetricsLog, LossCurve]
    assert default_callbacks(None, progress=False) == []


def test_without_a_run_folder_nothing_is_written_and_the_best_weights_stay_in_memory(tmp_path,
                                                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    trainer = Trainer(nn.Linear(1, 1), ScriptedTask(Selection("loss")), config(epochs=4))
    result = trainer.fit()
    assert list(tmp_path.iterdir()) == []
    assert result.best_eval["loss"] == 0.40  # the script's second evaluation
    assert set(trainer.best_weights) == {"weight", "bias"}
    assert not torch.equal(trainer.best_weights["weight"], trainer.model.weight.detach())
