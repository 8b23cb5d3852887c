"""Training the character language model: its data, its model and its loop Task.

    from seqrnn.configs import CharLMData, TrainConfig
    from seqrnn.tasks import charlm
    result = charlm.train(CharLMData(text="hamlet"), {"hidden_size": 128},
                          TrainConfig(epochs=5), out="runs/hamlet")
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from seqrnn.configs import CharLMConfig, CharLMData, TrainConfig
from seqrnn.data.stream import StreamBatches
from seqrnn.data.text import CharVocab, drop_unknown, load_text, split_text
from seqrnn.errors import UserError
from seqrnn.models.charlm import CharLM
from seqrnn.run import VOCAB_FILE, RunFolder
from seqrnn.tasks import base
from seqrnn.train import Selection, TrainResult
from seqrnn.train.distributed import Group


def detach_state(state):
    """Keep the state's values but cut its graph: truncated BPTT.

    The next window starts from where this one ended, but gradients stop here,
    so backward runs through `num_steps` steps, not the whole epoch.
    """
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def _state_to_dict(state) -> dict[str, torch.Tensor]:
    if state is None:
        return {}
    if isinstance(state, tuple):
        return {"h": state[0], "c": state[1]}
    return {"h": state}


def _state_from_dict(d: dict[str, torch.Tensor]):
    if not d:
        return None
    return (d["h"], d["c"]) if "c" in d else d["h"]


@torch.no_grad()
def stream_loss(model: CharLM, ids: torch.Tensor, num_steps: int, rows: int,
                part: Group | None = None) -> tuple[float, int]:
    """Total cross-entropy (nats) and number of predicted characters over a whole stream.

    The stream is cut into up to `rows` contiguous rows read in windows with the
    state carried, as in training; each row starts from a zero state. With
    `part`, only that rank's share of the rows is scored: the ranks' totals and
    counts add up to the single-process ones.
    """
    device = next(model.parameters()).device
    predictions = len(ids) - 1
    if predictions < 1:
        raise UserError("the text to evaluate needs at least 2 known characters")
    rows = max(1, min(rows, predictions // num_steps))
    per_row = predictions // rows
    mine = (part or Group()).share(rows)
    x = ids[: rows * per_row].view(rows, per_row)[mine].to(device)  # (R', N)
    y = ids[1 : rows * per_row + 1].view(rows, per_row)[mine].to(device)  # (R', N)
    if len(x) == 0:  # more ranks than rows: this one has nothing to score
        return 0.0, 0
    total, state = 0.0, None
    for start in range(0, per_row, num_steps):
        logits, state = model(x[:, start : start + num_steps], state)
        target = y[:, start : start + num_steps]
        total += float(F.cross_entropy(logits.flatten(0, 1).float(), target.flatten(),
                                       reduction="sum"))
    return total, len(x) * per_row


def loss_metrics(total_nats: float, count: int) -> dict[str, float]:
    loss = total_nats / count
    return {"loss": loss, "bits_per_char": loss / math.log(2), "perplexity": math.exp(loss)}


class CharLMTask:
    """Training-loop task: stream windows, carried state, cross-entropy per character.

    Under torchrun the stream is cut into --batch-size rows exactly as for one
    process, and rank r reads rows [r * b, (r + 1) * b) of every window, with
    b = batch_size / world_size: its own contiguous shard of the text, cut into
    rows and windows as in single-process training. Every rank gets the same
    number of windows, the global batch is the single-process batch, and the
    carried state (batch_size rows in all) can be split anew for another
    number of ranks on resume. Each rank's state is its own, held here, not in
    the model.
    """

    items = "chars"
    selection = Selection("loss")

    def __init__(self, train_ids: np.ndarray, val_ids: np.ndarray, data: CharLMData,
                 group: Group | None = None):
        self.group = group or Group()
        self.rows = self.group.split(data.batch_size, "batch_size")
        self.windows = StreamBatches(train_ids, data.batch_size, data.num_steps)
        self.val_ids = torch.as_tensor(val_ids, dtype=torch.int64)
        if len(self.val_ids) < 2:
            raise UserError("the validation text is shorter than 2 characters: raise "
                            "{val_fraction} or use a longer text", fields=("val_fraction",))
        self.data = data
        self.state = None

    def num_batches(self, epoch: int) -> int:
        return len(self.windows)

    def batch(self, epoch: int, index: int):
        x, y = self.windows[index]  # (B, T) each
        return self.group.stage((x[self.rows], y[self.rows]))  # (B / world_size, T) each

    def start_epoch(self, epoch: int) -> None:
        self.state = None  # window 0 continues nothing: start each epoch from zeros

    def train_loss(self, model: CharLM, batch) -> tuple[torch.Tensor, int]:
        device = next(model.parameters()).device
        x, y = (t.to(device, non_blocking=True) for t in batch)
        logits, state = model(x, self.state)  # (B, T, V)
        self.state = detach_state(state)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        return loss, y.numel()

    def evaluate(self, model: CharLM) -> dict[str, float]:
        """Validation loss: the nats summed over all ranks' rows over the characters they scored."""
        total, count = stream_loss(model, self.val_ids, self.data.num_steps,
                                   self.data.eval_rows, self.group)
        return loss_metrics(*self.group.sum([total, count]))

    def carried_state(self) -> dict[str, torch.Tensor]:
        """The state of all batch_size rows: each (layers, batch_size, hidden), ranks in order."""
        return {k: self.group.gather(v, dim=1) for k, v in _state_to_dict(self.state).items()}

    def load_carried_state(self, state: dict[str, torch.Tensor]) -> None:
        self.state = _state_from_dict({k: v[:, self.rows] for k, v in state.items()})


class CharLMSpec(base.TaskSpec):
    kind = "charlm"
    data_config = CharLMData
    model_config = CharLMConfig
    model_class = CharLM
    data_field = "text"

    def read(self, data: CharLMData, seed: int, progress: bool):
        return split_text(load_text(data.text, data.encoding), data.val_fraction,
                          data.test_fraction)

    def prepare(self, raw, data: CharLMData, progress: bool,
                saved: RunFolder | None) -> base.Prepared:
        vocab = CharVocab.from_text(raw.train)
        if saved is not None and vocab != CharVocab.from_dict(saved.read_json(VOCAB_FILE)):
            raise UserError(
                f"the text {data.text!r} has a different character vocabulary than the run in "
                f"{saved.path}: resume with the text it was trained on ({{text}})",
                fields=("text",))
        # Validation characters the training text never had cannot be predicted: drop them.
        val, _ = drop_unknown(vocab, raw.val)
        return base.Prepared(files={VOCAB_FILE: vocab}, model_fields={"vocab_size": len(vocab)},
                             sets=(vocab.encode(raw.train), vocab.encode(val)))

    def make_task(self, prepared: base.Prepared, data: CharLMData, loop: TrainConfig,
                  group: Group) -> CharLMTask:
        train_ids, val_ids = prepared.sets
        return CharLMTask(train_ids, val_ids, data, group)


SPEC = CharLMSpec()


def train(data: CharLMData, model_options: dict, config: TrainConfig,
          out: str | Path) -> TrainResult:
    """Train a new model into the run folder `out` (which must not hold a run yet)."""
    return base.start(SPEC, data, model_options, config, out).result


def resume(run_dir: str | Path, text: str | None = None, **loop_overrides) -> TrainResult:
    """Continue the run in `run_dir` where it stopped; the saved configuration wins.

    `loop_overrides` may change the budget (epochs, minutes, max_steps) and
    cosmetics (progress, device, threads); `text` may point at the same text elsewhere.
    Under torchrun the number of processes may differ from the run's: it goes on
    from the saved step with the saved state split over the new ranks.
    """
    return base.resume(SPEC, run_dir, text, **loop_overrides)
