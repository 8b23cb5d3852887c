"""The shared training loop: steps, schedule, selection, checkpoints, resume, distributed."""

from seqrnn.trainer.loop import Trainer
from seqrnn.trainer.objective import (
    IndependentBatches,
    Objective,
    Selection,
    TrainingDiverged,
    TrainResult,
)

__all__ = ["IndependentBatches", "Selection", "Objective", "Trainer", "TrainingDiverged",
           "TrainResult"]
