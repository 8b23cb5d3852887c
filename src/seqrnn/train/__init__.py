"""The shared training loop: steps, schedule, selection, checkpoints, resume, distributed.

Called, this package is the library's entry point `seqrnn.train(kind, ...)`
(seqrnn.training.train): `seqrnn.train` names both until the package is renamed.
"""

import sys
import types

from seqrnn.train.loop import Trainer
from seqrnn.train.task import Selection, Task, TrainingDiverged, TrainResult

__all__ = ["Selection", "Task", "Trainer", "TrainingDiverged", "TrainResult"]


class _EntryPoint(types.ModuleType):
    def __call__(self, *args, **kwargs):
        """seqrnn.training.train: train any kind of task."""
        from seqrnn.training import train

        return train(*args, **kwargs)


sys.modules[__name__].__class__ = _EntryPoint
