"""The character language model as a task: train, load, sample, evaluate.

This is the Python API behind `seqrnn charlm`::

    from seqrnn.charlm import CharLMData, LanguageModel, train
    result = train(CharLMData(text="hamlet"), {"hidden_size": 128}, TrainConfig(epochs=5),
                   out="runs/hamlet")
    lm = LanguageModel.load("runs/hamlet")
    print(lm.sample(prime="The ", length=200, seed=1))
    print(lm.evaluate(open("other.txt").read()))
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, fields, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from seqrnn import checkpoint
from seqrnn.configs import CharLMData, resumed_loop
from seqrnn.data.stream import StreamBatches
from seqrnn.data.text import CharVocab, load_text, split_text
from seqrnn.errors import UserError
from seqrnn.models.charlm import CharLM, CharLMConfig
from seqrnn.train import Selection, TrainConfig, Trainer, TrainResult
from seqrnn.train.distributed import Group, join
from seqrnn.train.loop import resolve_device

KIND = "charlm"


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
        self.rows = self.group.split(data.batch_size, "--batch-size")
        self.windows = StreamBatches(train_ids, data.batch_size, data.num_steps)
        self.val_ids = torch.as_tensor(val_ids, dtype=torch.int64)
        if len(self.val_ids) < 2:
            raise UserError("the validation text is shorter than 2 characters: raise "
                            "--val-fraction or use a longer text")
        self.data = data
        self.state = None

    def num_batches(self, epoch: int) -> int:
        return len(self.windows)

    def batch(self, epoch: int, index: int):
        x, y = self.windows[index]  # (B, T) each
        return self.group.stage((x[self.rows], y[self.rows]))  # (B / world_size, T) each

    def train_loss(self, model: CharLM, batch, index: int) -> tuple[torch.Tensor, int]:
        if index == 0:
            self.state = None  # window 0 continues nothing: start each epoch from zeros
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


def _prepare(data: CharLMData, vocab: CharVocab | None = None):
    """Load and split the text; build the vocabulary from the training part if none is given."""
    splits = split_text(load_text(data.text, data.encoding), data.val_fraction, data.test_fraction)
    vocab = vocab or CharVocab.from_text(splits.train)
    # Validation characters the training text never had cannot be predicted: drop them.
    val, _ = drop_unknown(vocab, splits.val)
    return vocab, vocab.encode(splits.train), vocab.encode(val)


def drop_unknown(vocab: CharVocab, text: str) -> tuple[str, list[str]]:
    """The text without characters outside the vocabulary, and those characters."""
    unknown = vocab.unknown_chars(text)
    if not unknown:
        return text, []
    dropped = set(unknown)
    return "".join(ch for ch in text if ch not in dropped), unknown


def train(
    data: CharLMData,
    model_options: dict,
    config: TrainConfig,
    out: str | Path,
) -> TrainResult:
    """Train a new model into the run folder `out` (which must not hold a run yet)."""
    out = Path(out)
    checkpoint.check_new_run_dir(out)
    group = join(resolve_device(config.device))
    vocab, train_ids, val_ids = _prepare(data)
    task = CharLMTask(train_ids, val_ids, data, group)
    torch.manual_seed(config.seed)  # the initial weights depend on it
    model = CharLM(CharLMConfig(vocab_size=len(vocab), **model_options))
    group.barrier()  # every rank has checked --out before rank 0 fills it
    if group.is_main:
        out.mkdir(parents=True, exist_ok=True)
        vocab.save(out / checkpoint.VOCAB_FILE)
        checkpoint.write_config(out, KIND, asdict(model.config),
                                {"data": asdict(data), "loop": asdict(config)})
    return Trainer(model, task, config, out, group).fit()


def resume(run_dir: str | Path, text: str | None = None, **loop_overrides) -> TrainResult:
    """Continue the run in `run_dir` where it stopped; the saved configuration wins.

    `loop_overrides` may change the budget (epochs, minutes, max_steps) and
    cosmetics (progress, device, threads); `text` may point at the same text elsewhere.
    Under torchrun the number of processes may differ from the run's: it goes on
    from the saved step with the saved state split over the new ranks.
    """
    run_dir = Path(run_dir)
    saved = checkpoint.read_config(run_dir, KIND)
    data = CharLMData(**saved["train"]["data"])
    if text is not None:
        data = replace(data, text=text)
    config = resumed_loop(saved["train"]["loop"], **loop_overrides)
    vocab = CharVocab.load(run_dir / checkpoint.VOCAB_FILE)
    fresh_vocab, train_ids, val_ids = _prepare(data)
    if fresh_vocab != vocab:
        raise UserError(
            f"the text {data.text!r} has a different character vocabulary than the run in "
            f"{run_dir}: resume with the text it was trained on (--text)"
        )
    model = CharLM(CharLMConfig(**saved["model"]))
    group = join(resolve_device(config.device))
    task = CharLMTask(train_ids, val_ids, data, group)
    group.barrier()  # every rank has read config.json before rank 0 rewrites it
    if group.is_main:
        checkpoint.write_config(run_dir, KIND, saved["model"],
                                {"data": asdict(data), "loop": asdict(config)})
    return Trainer(model, task, config, run_dir, group).fit(resume=True)


class LanguageModel:
    """A trained model with its vocabulary, ready to sample and evaluate."""

    def __init__(self, model: CharLM, vocab: CharVocab):
        self.model = model.eval()
        self.vocab = vocab

    @classmethod
    def load(cls, run_dir: str | Path, *, weights: str = checkpoint.BEST_WEIGHTS,
             device: str = "cpu") -> LanguageModel:
        run_dir = Path(run_dir)
        config = checkpoint.read_config(run_dir, KIND)
        vocab = CharVocab.from_dict(checkpoint.read_json(run_dir, checkpoint.VOCAB_FILE))
        try:
            model_config = CharLMConfig(**config["model"])
        except TypeError as exc:
            raise UserError(f"{run_dir}/config.json does not describe a model ({exc})") from exc
        if model_config.vocab_size != len(vocab):
            raise UserError(f"{run_dir}: config.json says {model_config.vocab_size} characters "
                            f"but vocab.json has {len(vocab)}; the folder is mixed up")
        model = CharLM(model_config)
        state, _ = checkpoint.load_weights(run_dir, weights)
        checkpoint.check_strict_load(model, state, run_dir)
        return cls(model.to(resolve_device(device)), vocab)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def stream(self, prime: str = "The ", length: int = 500, *, top_k: int = 5,
               temperature: float = 1.0, greedy: bool = False,
               seed: int | None = None) -> Iterator[str]:
        """Yield generated characters one by one (the prime itself is not repeated)."""
        if not prime:
            raise UserError("--prime must have at least one character")
        if length < 0 or top_k < 0:
            raise UserError("--length and --top-k must be zero or positive")
        if temperature <= 0:
            raise UserError(f"--temperature must be positive, got {temperature}")
        unknown = self.vocab.unknown_chars(prime)
        if unknown:
            raise UserError(f"the prime has characters the model never saw: {unknown!r}; "
                            "remove them from --prime")
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        prime_ids = torch.as_tensor(self.vocab.encode(prime), dtype=torch.int64, device=self.device)
        for next_id in self.model.generate(prime_ids, length, top_k=top_k,
                                           temperature=temperature, greedy=greedy,
                                           generator=generator):
            yield self.vocab.decode([next_id])

    def default_prime(self) -> str:
        """The lecture's "The ", or the first character of the vocabulary for other texts."""
        return "The " if not self.vocab.unknown_chars("The ") else self.vocab.chars[0]

    def sample(self, prime: str = "The ", length: int = 500, **options) -> str:
        """The prime followed by `length` generated characters."""
        return prime + "".join(self.stream(prime, length, **options))

    def evaluate(self, text: str, *, num_steps: int = 100, rows: int = 32) -> dict:
        """Loss (nats/char), bits per character and perplexity of `text`.

        Characters outside the vocabulary cannot be scored: they are left out,
        and counted in `unknown_chars`.
        """
        known, unknown = drop_unknown(self.vocab, text)
        ids = torch.as_tensor(self.vocab.encode(known), dtype=torch.int64)
        total, count = stream_loss(self.model, ids, num_steps, rows)
        return {**loss_metrics(total, count), "characters": count,
                "unknown_chars": len(text) - len(known), "unknown_set": unknown}


def model_option_names() -> list[str]:
    """CharLMConfig fields a user chooses (the vocabulary size comes from the text)."""
    return [f.name for f in fields(CharLMConfig) if f.name != "vocab_size"]
