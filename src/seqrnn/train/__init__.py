"""The shared training loop."""

from seqrnn.train.loop import TrainConfig, Trainer, TrainingDiverged, TrainResult

__all__ = ["TrainConfig", "Trainer", "TrainingDiverged", "TrainResult"]
