"""Every configuration a user chooses, as frozen dataclasses, in one torch-free module.

Each model reads its config and never changes it; the config is saved as JSON
beside the weights. Keeping these free of torch lets the command line build
its parser, defaults and help text without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from seqrnn.data.text import split_sizes
from seqrnn.errors import UserError

CELL_TYPES = ("rnn", "lstm", "gru")  # seqrnn.nn.CELL_TYPES maps each to its cell class
LR_SCHEDULES = ("constant", "cosine")
CHARLM_INPUTS = ("onehot", "embedding")
IMPLS = ("fused", "explicit")
HEADS = ("last", "max", "mean")
BATCHINGS = ("bucket", "fixed")


def require_positive(**values: float) -> None:
    """UserError naming the first value that is not positive; names are flags without --."""
    for name, value in values.items():
        if value <= 0:
            raise UserError(f"{_flag(name)} must be positive, got {value}")


def require_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UserError(f"unknown {_flag(name)} {value!r}: use one of {', '.join(allowed)}")


def require_dropout(dropout: float, name: str = "dropout") -> None:
    if not 0 <= dropout < 1:
        raise UserError(f"{_flag(name)} must be in [0, 1), got {dropout}")


def _flag(name: str) -> str:
    return "vocab size" if name == "vocab_size" else "--" + name.replace("_", "-")


@dataclass(frozen=True)
class TrainConfig:
    """How to train; the model's own shape lives in the model's config."""

    epochs: int = 100
    minutes: float | None = None
    max_steps: int | None = None
    lr: float = 1e-3
    lr_schedule: str = "constant"
    min_lr_fraction: float = 0.1
    warmup_steps: int = 0
    clip: float = 5.0
    ema_decay: float | None = None  # evaluate and keep an average of the weights; None: off
    eval_every: int = 0
    patience: int | None = None
    log_every: int = 10
    seed: int = 1
    device: str = "auto"
    threads: int | None = None  # None: torch's choice, or 1 per process under torchrun
    amp: bool = False  # bfloat16 autocast
    progress: bool = True

    def __post_init__(self) -> None:
        require_positive(epochs=self.epochs, lr=self.lr, clip=self.clip,
                         log_every=self.log_every)
        optional = {"minutes": self.minutes, "max_steps": self.max_steps,
                    "patience": self.patience, "threads": self.threads}
        require_positive(**{k: v for k, v in optional.items() if v is not None})
        if self.eval_every < 0 or self.warmup_steps < 0:
            raise UserError("--eval-every and --warmup-steps must be zero or positive")
        require_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        if not 0 <= self.min_lr_fraction <= 1:
            raise UserError("--min-lr-fraction must be between 0 and 1")
        require_choice("device", self.device, ("auto", "cpu", "cuda"))
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            raise UserError(f"--ema-decay must be between 0 and 1 (e.g. 0.995), "
                            f"got {self.ema_decay}")


# What --resume may change: the budget and where and how visibly it runs, not the training.
RESUMABLE = frozenset({"epochs", "minutes", "max_steps", "progress", "device", "threads"})


def refuse_on_resume(changed: set[str]) -> None:
    """UserError naming the flags of `changed`: a resumed run keeps its configuration."""
    if changed:
        flags = ", ".join(_flag(name) for name in sorted(changed))
        raise UserError(f"--resume keeps the run's configuration; drop {flags}")


def resumed_loop(saved: dict, **overrides) -> TrainConfig:
    """The saved TrainConfig with the budget or cosmetics changed; anything else is refused."""
    refuse_on_resume(set(overrides) - RESUMABLE)
    return replace(TrainConfig(**saved), **overrides)


@dataclass(frozen=True)
class CharLMData:
    """Which text, how it is split, and the truncated-BPTT layout. Defaults are the lecture's."""

    text: str = "hamlet"
    encoding: str = "utf-8"
    val_fraction: float = 0.1
    test_fraction: float = 0.0
    batch_size: int = 64
    num_steps: int = 100
    eval_rows: int = 32

    def __post_init__(self) -> None:
        split_sizes(1_000_000, self.val_fraction, self.test_fraction)  # validates the fractions
        require_positive(batch_size=self.batch_size, num_steps=self.num_steps,
                         eval_rows=self.eval_rows)
        if self.val_fraction == 0:
            raise UserError("--val-fraction must be above 0: training selects on validation loss")


@dataclass(frozen=True)
class CharLMConfig:
    """Architecture; saved as JSON beside the weights. Defaults are the lecture's."""

    vocab_size: int
    cell: str = "lstm"
    hidden_size: int = 128
    num_layers: int = 1
    dropout: float = 0.5  # the lecture's keep probability 0.5
    input: str = "onehot"
    embedding_dim: int = 64
    impl: str = "fused"

    def __post_init__(self) -> None:
        require_positive(vocab_size=self.vocab_size, hidden_size=self.hidden_size,
                         num_layers=self.num_layers, embedding_dim=self.embedding_dim)
        require_dropout(self.dropout)
        require_choice("cell", self.cell, CELL_TYPES)
        require_choice("input", self.input, CHARLM_INPUTS)
        require_choice("impl", self.impl, IMPLS)


@dataclass(frozen=True)
class SentimentData:
    """Where the reviews come from, how they become batches. Defaults are the lecture's."""

    data: str = "imdb"
    text_column: str | None = None
    label_column: str | None = None
    format: str | None = None
    encoding: str = "utf-8"
    val_fraction: float = 0.1
    test_fraction: float = 0.2  # tables only; IMDb keeps its official test set
    on_empty: str = "skip"
    min_freq: int = 1
    max_vocab: int | None = None
    batching: str = "bucket"
    seq_len: int = 200
    batch_size: int = 100

    def __post_init__(self) -> None:
        require_choice("batching", self.batching, BATCHINGS)
        require_positive(seq_len=self.seq_len, batch_size=self.batch_size)
        if not 0 < self.val_fraction < 1:
            raise UserError(f"--val-fraction must be above 0 and below 1, got {self.val_fraction}")


@dataclass(frozen=True)
class SentimentConfig:
    """Architecture; saved as JSON beside the weights. Defaults are the lecture's."""

    vocab_size: int
    embedding_dim: int = 256
    cell: str = "lstm"
    hidden_size: int = 128
    num_layers: int = 1
    dropout: float = 0.5  # the lecture's keep probability 0.5
    word_dropout: float = 0.0  # drop whole words' embeddings while training
    bidirectional: bool = False
    head: str = "last"
    uniform_init: bool = False  # the lecture's embedding init: uniform in [-1, 1]
    sparse_embedding: bool = True  # sparse gradients: the optimizer touches only used rows

    def __post_init__(self) -> None:
        require_positive(vocab_size=self.vocab_size, embedding_dim=self.embedding_dim,
                         hidden_size=self.hidden_size, num_layers=self.num_layers)
        require_dropout(self.dropout)
        require_dropout(self.word_dropout, "word_dropout")
        require_choice("cell", self.cell, CELL_TYPES)
        require_choice("head", self.head, HEADS)
