"""The shared training loop: steps, schedule, selection, checkpoints, resume, distributed."""

from seqrnn.trainer.loop import Trainer
from seqrnn.trainer.task import Selection, Task, TrainingDiverged, TrainResult

__all__ = ["Selection", "Task", "Trainer", "TrainingDiverged", "TrainResult"]
