"""The shared training loop."""

from seqrnn.train.loop import Selection, TrainConfig, Trainer, TrainingDiverged, TrainResult

__all__ = ["Selection", "TrainConfig", "Trainer", "TrainingDiverged", "TrainResult"]
