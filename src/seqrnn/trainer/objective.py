"""What the training loop asks of an objective (batches, loss, evaluation) and gives back."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import nn

from seqrnn.errors import UserError
from seqrnn.trainer.distributed import Group


@dataclass(frozen=True)
class Selection:
    """The validation metric that picks the best checkpoint and drives early stopping.

    Ties go to the lower validation loss: a small validation set's accuracy
    often stays equal for several evaluations.
    """

    metric: str = "loss"
    higher_is_better: bool = False

    def improves(self, metrics: dict[str, float], best: dict[str, float]) -> bool:
        if not best:
            return True
        sign = 1 if self.higher_is_better else -1
        new, old = sign * metrics[self.metric], sign * best[self.metric]
        return new > old or (new == old and metrics["loss"] < best["loss"])


class Objective(Protocol):
    """What the loop optimises: its batches, its loss, its evaluation and carried state."""

    items: str  # what throughput counts, e.g. "chars" or "reviews"
    selection: Selection  # e.g. validation loss for a language model, accuracy for a classifier
    # Whether a batch's loss depends on what it holds (the tagger's sentence log-likelihoods
    # grow with sentence length): divergence is then measured from the largest loss of the
    # first steps, not the first alone. Optional; False when absent.
    loss_varies_by_batch: bool

    def num_batches(self, epoch: int) -> int: ...

    def batch(self, epoch: int, index: int) -> Any:
        """Batch `index` of `epoch`; the same for the same arguments, so resume can skip ahead."""

    def start_epoch(self, epoch: int) -> None:
        """Called before the first batch of each epoch (not when resuming inside one)."""

    def train_loss(self, model: nn.Module, batch: Any) -> tuple[torch.Tensor, int]:
        """Mean loss over the batch and the number of items it averages."""

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Validation metrics; must contain "loss" and the selection metric."""

    def carried_state(self) -> dict[str, torch.Tensor]:
        """The state to save; under DDP every rank calls it, and it holds all ranks' rows."""

    def load_carried_state(self, state: dict[str, torch.Tensor]) -> None: ...


class IndependentBatches:
    """The Objective methods of a task whose batches carry nothing from one to the next
    (reviews, pairs, windows, sentences; not a stream cut into windows) and whose epoch
    orders are drawn from (seed, epoch) by `batch` itself; and its process group, which
    takes each rank's share of a global batch of `batch_size` (UserError where the ranks
    cannot share it)."""

    def __init__(self, batch_size: int, group: Group | None = None):
        self.group = group or Group()
        self.group.split(batch_size, "batch_size")

    def start_epoch(self, epoch: int) -> None:
        pass

    def carried_state(self) -> dict[str, torch.Tensor]:
        return {}

    def load_carried_state(self, state: dict[str, torch.Tensor]) -> None:
        pass


class TrainingDiverged(UserError):
    """The loss became NaN, infinite, or exploded."""


@dataclass(frozen=True)
class TrainResult:
    step: int
    epoch: int
    stopped: str  # "finished", "time", "max_steps", "interrupted", "early_stopping"
    best_eval: dict[str, float]  # validation metrics of the best checkpoint
    last_eval: dict[str, float]
    is_main: bool = True  # False in every torchrun process but rank 0: it should print nothing


@dataclass
class Progress:
    """Counters saved in train_state.pt; together with the weights they define where a run is."""

    step: int = 0
    epoch: int = 0
    index: int = 0  # next batch within the epoch
    elapsed: float = 0.0  # training seconds over all sessions
    best_eval: dict[str, float] = field(default_factory=dict)  # validation metrics of the best
    evals_since_best: int = 0
    last_eval_step: int = -1
    first_loss: float = math.nan  # the divergence baseline (loop.Trainer._check_divergence)
    smoothed_loss: float = math.nan
