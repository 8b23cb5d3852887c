"""Language-model training on one long stream of ids: the layout both language models share.

The stream is cut into batch_size rows read in windows of num_steps
(seqrnn.data.stream.StreamBatches draws the picture); the state is carried
from one window to the next and detached in between: truncated BPTT.
Subclasses say what a model's outputs cost (`train_loss_mean` for the training step,
`loss_sum` for evaluation) and what is reported.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol, TypeVar

import numpy as np
import torch
from torch import nn

from seqrnn.configs import TrainConfig
from seqrnn.data.prepared import PreparedCorpus
from seqrnn.data.stream import StreamBatches, evaluation_rows
from seqrnn.errors import UserError
from seqrnn.metrics import unigram_loss, unigram_loss_of_counts
from seqrnn.nn.conditioning import condition_starts
from seqrnn.recipes import base
from seqrnn.trainer import Selection
from seqrnn.trainer.distributed import Group


class StreamData(Protocol):
    """What the stream objective reads of a data config (CharLMData, WordLMData)."""

    @property
    def batch_size(self) -> int: ...
    @property
    def num_steps(self) -> int: ...
    @property
    def eval_rows(self) -> int: ...
    @property
    def eval_tokens(self) -> int | None: ...
    @property
    def val_fraction(self) -> float: ...


StreamDataT = TypeVar("StreamDataT", bound=StreamData)
class StreamSets(NamedTuple):
    """The training ids and the validation ids; the unigram loss where it is known without
    reading them all (a prepared corpus counted its ids); and a conditioned model's condition
    id of each of their tokens (seqrnn.data.conditions.token_conditions), as a pair."""

    train: np.ndarray
    val: np.ndarray
    unigram: float | None = None
    conditions: tuple[np.ndarray, np.ndarray] | None = None


def prepared_sets(corpus: PreparedCorpus) -> StreamSets:
    """A prepared corpus's ids (views of its memory map) and their unigram loss from its
    counts (the targets are the validation ids but the first)."""
    targets = corpus.val_counts.copy()
    if len(corpus.val):
        targets[int(corpus.val[0])] -= 1
    return StreamSets(corpus.train, corpus.val,
                      unigram_loss_of_counts(corpus.train_counts, targets))


def detach_state(state):
    """Keep the state's values but cut its graph: truncated BPTT.

    The next window starts from where this one ended, but gradients stop here,
    so backward runs through `num_steps` steps, not the whole epoch.
    """
    if state is None:
        return None
    if isinstance(state, tuple | list):
        return type(state)(detach_state(s) for s in state)
    return state.detach()


def _state_to_dict(state) -> dict[str, torch.Tensor]:
    """Flat names for a state of nested tuples, e.g. (h, c) -> {"h": h, "c": c}."""
    if state is None:
        return {}
    if isinstance(state, torch.Tensor):
        return {"h": state}
    if len(state) == 2 and all(isinstance(s, torch.Tensor) for s in state):
        return {"h": state[0], "c": state[1]}
    return {f"{i}.{k}": v for i, part in enumerate(state) for k, v in _state_to_dict(part).items()}


def _state_from_dict(d: dict[str, torch.Tensor]):
    if not d:
        return None
    if set(d) <= {"h", "c"}:
        return (d["h"], d["c"]) if "c" in d else d["h"]
    parts = sorted({int(k.split(".", 1)[0]) for k in d})
    return [_state_from_dict({k.split(".", 1)[1]: v for k, v in d.items()
                              if k.split(".", 1)[0] == str(i)}) for i in parts]


@torch.no_grad()
def stream_loss(model: nn.Module, loss_sum, ids: torch.Tensor | np.ndarray, num_steps: int,
                rows: int, part: Group | None = None, *, progress: bool = False,
                conditions: np.ndarray | None = None) -> tuple[float, int]:
    """Total cross-entropy (nats) and number of predicted ids over a whole stream.

    The stream is cut into up to `rows` contiguous rows read in windows with the
    state carried, as in training; each row starts from a zero state. With
    `part`, only that rank's share of the rows is scored: the ranks' totals and
    counts add up to the single-process ones. `loss_sum(model, outputs,
    targets)` is the summed loss of one window. A conditioned model reads `conditions`, the
    condition id of each token (parallel to `ids`).
    """
    if len(ids) < 2:
        raise UserError("the text to evaluate needs at least 2 known tokens")
    ids = ids.numpy() if isinstance(ids, torch.Tensor) else np.asarray(ids)
    matrix = evaluation_rows(ids, rows, num_steps, tokens=0)
    if conditions is not None:  # cut exactly as the ids
        conditions = evaluation_rows(np.asarray(conditions), rows, num_steps, tokens=0)
    return rows_loss(model, loss_sum, matrix, num_steps, part, progress=progress,
                     conditions=conditions)


@torch.no_grad()
def rows_loss(model: nn.Module, loss_sum, matrix: np.ndarray, num_steps: int,
              part: Group | None = None, *, progress: bool = False,
              conditions: np.ndarray | None = None) -> tuple[float, int]:
    """Total cross-entropy and number of predicted ids of rows (R, N + 1) of ids (any integer
    dtype, a view of a memory map too: a window at a time is read), each read from a zero
    state in windows with the state carried (inputs row[:-1], targets row[1:]); with `part`,
    that rank's share of the rows; with `progress`, a bar over the windows. `conditions`
    (R, N + 1), the condition id of each id, go to a conditioned model."""
    from tqdm import tqdm

    device = next(model.parameters()).device
    share = (part or Group()).share(len(matrix))
    mine = matrix[share]
    if len(mine) == 0:  # more ranks than rows: this one has nothing to score
        return 0.0, 0
    predictions = mine.shape[1] - 1
    read = None if conditions is None else conditions[share]
    total, state = 0.0, None
    for start in tqdm(range(0, predictions, num_steps), desc="evaluating", unit="window",
                      disable=not progress, leave=False):
        end = min(start + num_steps, predictions)
        window = torch.from_numpy(np.array(mine[:, start:end + 1], dtype=np.int64)).to(device)
        if read is None:
            outputs, state = model(window[:, :-1], state)
        else:  # the inputs' conditions after that of the position before (a row's first: its own)
            span = np.array(read[:, max(start - 1, 0):end], dtype=np.int64)
            if start == 0:
                span = np.concatenate([span[:, :1], span], axis=1)
            span = torch.from_numpy(span).to(device)  # (R', T + 1)
            outputs, state = model(window[:, :-1], state, conditions=span[:, 1:],
                                   starts=condition_starts(span, fresh=start == 0))
        total += float(loss_sum(model, outputs, window[:, 1:]))
    return total, len(mine) * predictions


class StreamObjective:
    """The loop's objective: stream windows, carried state, a loss per predicted id.

    Under torchrun the stream is cut into batch_size rows exactly as for one
    process, and rank r reads rows [r * b, (r + 1) * b) of every window, with
    b = batch_size / world_size: its own contiguous shard of the text, cut into
    rows and windows as in single-process training. Every rank gets the same
    number of windows, the global batch is the single-process batch, and the
    carried state (batch_size rows in all) can be split anew for another
    number of ranks on resume. Each rank's state is its own, held here, not in
    the model.
    """

    selection = Selection("loss")
    items = "tokens"

    def __init__(self, train_ids: np.ndarray, val_ids: np.ndarray, data: StreamData,
                 group: Group | None = None, unigram: float | None = None,
                 conditions: tuple[np.ndarray, np.ndarray] | None = None):
        """`unigram`: the unigram loss, where known (else counted here); `conditions`: the
        condition id of each training and each validation token, for a conditioned model."""
        self.group = group or Group()
        self.rows = self.group.split(data.batch_size, "batch_size")
        test_fraction = getattr(data, "test_fraction", 0.0)  # the word model holds out none
        held_out = data.val_fraction + test_fraction
        fractions = ("val_fraction", "test_fraction") if test_fraction else ("val_fraction",)
        self.windows = StreamBatches(
            train_ids, data.batch_size, data.num_steps, what="the training part of the text",
            unit="characters" if self.items == "chars" else self.items,
            other_fix=(f"a smaller {' or '.join('{' + name + '}' for name in fractions)} "
                       f"({held_out:g} of the text is held out of training)", fractions),
            conditions=None if conditions is None else conditions[0])
        if len(val_ids) < 2:
            raise UserError("the validation text is shorter than 2 tokens: raise "
                            "{val_fraction} or use a longer text", fields=("val_fraction",))
        self.num_steps = data.num_steps
        self.val_rows = evaluation_rows(  # (R, N + 1): a view of val_ids when all of it
            np.asarray(val_ids), data.eval_rows, data.num_steps, data.eval_tokens)
        self.val_conditions = None if conditions is None else evaluation_rows(
            conditions[1], data.eval_rows, data.num_steps, data.eval_tokens)  # cut as the ids
        self.state = None
        # The loss to beat (recipes.chance); counted here when not known: a read of every id.
        self.unigram = unigram_loss(train_ids, val_ids[1:]) if unigram is None else unigram

    @staticmethod
    def train_loss_mean(model: nn.Module, outputs: torch.Tensor,
                        targets: torch.Tensor) -> torch.Tensor:
        """The mean loss of one training window's outputs against its targets (B, T)."""
        raise NotImplementedError

    @staticmethod
    def loss_sum(model: nn.Module, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The summed loss of one window's outputs against its targets (B, T)."""
        raise NotImplementedError

    @staticmethod
    def metrics(total_nats: float, count: int) -> dict[str, float]:
        raise NotImplementedError

    def num_batches(self, epoch: int) -> int:
        return len(self.windows)

    def batch(self, epoch: int, index: int):
        # (B, T) each, and with conditions theirs (B, T + 1)
        return self.group.stage(tuple(t[self.rows] for t in self.windows[index]))

    def start_epoch(self, epoch: int) -> None:
        self.state = None  # window 0 continues nothing: start each epoch from zeros

    def train_loss(self, model: nn.Module, batch) -> tuple[torch.Tensor, int]:
        device = next(model.parameters()).device
        x, y, *conditioned = (t.to(device, non_blocking=True) for t in batch)
        if conditioned:
            conditions = conditioned[0]
            starts = condition_starts(conditions, fresh=self.state is None)
            outputs, state = model(x, self.state, conditions=conditions[:, 1:], starts=starts)
        else:
            outputs, state = model(x, self.state)
        self.state = detach_state(state)
        return self.train_loss_mean(model, outputs, y), y.numel()

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Validation loss: the nats summed over all ranks' rows over the ids they scored."""
        total, count = rows_loss(model, self.loss_sum, self.val_rows, self.num_steps, self.group,
                                 conditions=self.val_conditions)
        return {**self.metrics(*self.group.sum([total, count])), "unigram": self.unigram}

    def carried_state(self) -> dict[str, torch.Tensor]:
        """The state of all batch_size rows: each (layers, batch_size, hidden), ranks in order."""
        return {k: self.group.gather(v, dim=-2) for k, v in _state_to_dict(self.state).items()}

    def load_carried_state(self, state: dict[str, torch.Tensor]) -> None:
        self.state = _state_from_dict({k: v[..., self.rows, :] for k, v in state.items()})


class StreamRecipe(base.Recipe[StreamDataT, base.RawT, StreamSets, base.ConfigT]):
    """A Recipe whose prepared sets are (train ids, validation ids), and for a conditioned
    model their tokens' conditions (train, validation), for `objective_class`."""

    objective_class: type[StreamObjective]

    def batch_shape(self, data: StreamDataT) -> tuple[int, int, str]:
        return data.batch_size, data.num_steps, "num_steps"

    def make_objective(self, prepared: base.Prepared[StreamSets], data: StreamDataT,
                       train_config: TrainConfig, group: Group) -> StreamObjective:
        sets = prepared.sets
        return self.objective_class(sets.train, sets.val, data, group, sets.unigram,
                                    sets.conditions)
