"""Every configuration a user chooses, as frozen dataclasses, in one torch-free module.

Each model reads its config and never changes it; the config is saved as JSON
beside the weights. Keeping these free of torch lets the command line build
its parser, defaults and help text without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from seqrnn.data.text import split_sizes
from seqrnn.errors import UserError

CELL_TYPES = ("rnn", "lstm", "gru")  # seqrnn.nn.CELL_TYPES maps each to its cell class
LR_SCHEDULES = ("constant", "cosine")
CHARLM_INPUTS = ("onehot", "embedding")
IMPLS = ("fused", "explicit")
HEADS = ("last", "max", "mean")
BATCHINGS = ("bucket", "fixed")


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
    eval_every: int = 0
    patience: int | None = None
    log_every: int = 10
    seed: int = 1
    device: str = "auto"
    threads: int | None = None  # None: torch's choice, or 1 per process under torchrun
    amp: bool = False  # bfloat16 autocast
    progress: bool = True

    def __post_init__(self) -> None:
        positive = {"epochs": self.epochs, "lr": self.lr, "clip": self.clip,
                    "log_every": self.log_every}
        for name, value in positive.items():
            if value <= 0:
                raise UserError(f"--{name.replace('_', '-')} must be positive, got {value}")
        optional_positive = {"minutes": self.minutes, "max_steps": self.max_steps,
                             "patience": self.patience, "threads": self.threads}
        for name, value in optional_positive.items():
            if value is not None and value <= 0:
                raise UserError(f"--{name.replace('_', '-')} must be positive, got {value}")
        if self.eval_every < 0 or self.warmup_steps < 0:
            raise UserError("--eval-every and --warmup-steps must be zero or positive")
        if self.lr_schedule not in LR_SCHEDULES:
            raise UserError(
                f"unknown --lr-schedule {self.lr_schedule!r}: use one of {', '.join(LR_SCHEDULES)}"
            )
        if not 0 <= self.min_lr_fraction <= 1:
            raise UserError("--min-lr-fraction must be between 0 and 1")
        if self.device not in ("auto", "cpu", "cuda"):
            raise UserError(f"unknown --device {self.device!r}: use auto, cpu or cuda")


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
        for flag, value in (("--batch-size", self.batch_size), ("--num-steps", self.num_steps),
                            ("--eval-rows", self.eval_rows)):
            if value <= 0:
                raise UserError(f"{flag} must be positive, got {value}")
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
        sizes = {"vocab size": self.vocab_size, "--hidden-size": self.hidden_size,
                 "--num-layers": self.num_layers, "--embedding-dim": self.embedding_dim}
        for name, value in sizes.items():
            if value <= 0:
                raise UserError(f"{name} must be positive, got {value}")
        if not 0 <= self.dropout < 1:
            raise UserError(f"--dropout must be in [0, 1), got {self.dropout}")
        for name, value, allowed in (("--cell", self.cell, CELL_TYPES),
                                     ("--input", self.input, CHARLM_INPUTS),
                                     ("--impl", self.impl, IMPLS)):
            if value not in allowed:
                raise UserError(f"unknown {name} {value!r}: use one of {', '.join(allowed)}")


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
        if self.batching not in BATCHINGS:
            raise UserError(f"unknown --batching {self.batching!r}: use bucket or fixed")
        for flag, value in (("--seq-len", self.seq_len), ("--batch-size", self.batch_size)):
            if value <= 0:
                raise UserError(f"{flag} must be positive, got {value}")
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
    bidirectional: bool = False
    head: str = "last"
    uniform_init: bool = False  # the lecture's embedding init: uniform in [-1, 1]
    sparse_embedding: bool = True  # sparse gradients: the optimizer touches only used rows

    def __post_init__(self) -> None:
        sizes = {"vocab size": self.vocab_size, "--embedding-dim": self.embedding_dim,
                 "--hidden-size": self.hidden_size, "--num-layers": self.num_layers}
        for name, value in sizes.items():
            if value <= 0:
                raise UserError(f"{name} must be positive, got {value}")
        if not 0 <= self.dropout < 1:
            raise UserError(f"--dropout must be in [0, 1), got {self.dropout}")
        for name, value, allowed in (("--cell", self.cell, CELL_TYPES),
                                     ("--head", self.head, HEADS)):
            if value not in allowed:
                raise UserError(f"unknown {name} {value!r}: use one of {', '.join(allowed)}")
