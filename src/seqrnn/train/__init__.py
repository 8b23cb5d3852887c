"""The shared training loop: steps, schedule, selection, checkpoints, resume, distributed."""

from seqrnn.train.loop import Trainer
from seqrnn.train.task import Selection, Task, TrainingDiverged, TrainResult

__all__ = ["Selection", "Task", "Trainer", "TrainingDiverged", "TrainResult"]
