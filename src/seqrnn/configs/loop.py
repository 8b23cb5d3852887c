"""The training loop's configuration, and what a resumed run may change."""

from __future__ import annotations

from dataclasses import dataclass, replace

from seqrnn.configs.checks import (
    AMP_CHOICES,
    LR_SCHEDULES,
    _is_bool,
    _named,
    normalise_fields,
    require_choice,
    require_finite,
    require_positive,
    require_seed,
)
from seqrnn.errors import UserError, field_error


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
    amp: str = "auto"  # bfloat16 autocast: auto, on or off (seqrnn.trainer.process.resolve_amp)
    progress: bool = True
    weight_decay: float = 0.0  # decoupled (AdamW-style) weight decay on dense parameters
    # Fine-tuning (ULMFiT) on models with layer groups: each lower group's lr is divided by
    # layer_lr_decay, and with unfreeze_epochs k only the top group trains at first, one
    # more group joins every k epochs.
    layer_lr_decay: float = 1.0
    unfreeze_epochs: int = 0

    def __post_init__(self) -> None:
        if _is_bool(self.amp):  # runs saved before auto, and Python's amp=True
            object.__setattr__(self, "amp", "on" if self.amp else "off")
        normalise_fields(self)
        require_choice("amp", self.amp, AMP_CHOICES)
        require_positive(epochs=self.epochs, lr=self.lr, clip=self.clip,
                         log_every=self.log_every, layer_lr_decay=self.layer_lr_decay)
        require_finite(weight_decay=self.weight_decay)
        require_seed(self.seed)
        if self.weight_decay < 0 or self.unfreeze_epochs < 0:
            raise UserError("{weight_decay} and {unfreeze_epochs} must be zero or positive",
                            fields=("weight_decay", "unfreeze_epochs"))
        optional = {"minutes": self.minutes, "max_steps": self.max_steps,
                    "patience": self.patience, "threads": self.threads}
        require_positive(**{k: v for k, v in optional.items() if v is not None})
        if self.eval_every < 0 or self.warmup_steps < 0:
            raise UserError("{eval_every} and {warmup_steps} must be zero or positive",
                            fields=("eval_every", "warmup_steps"))
        require_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        if not 0 <= self.min_lr_fraction <= 1:
            raise field_error("min_lr_fraction", "{} must be between 0 and 1")
        require_choice("device", self.device, ("auto", "cpu", "cuda"))
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            raise field_error("ema_decay", "{} must be between 0 and 1 (e.g. 0.995), "
                              f"got {self.ema_decay}")


# What --resume may change: the budget and where and how visibly it runs, not the training.
RESUMABLE = frozenset({"epochs", "minutes", "max_steps", "progress", "device", "threads"})


def refuse_on_resume(changed: set[str]) -> None:
    """UserError naming the fields of `changed`: a resumed run keeps its configuration."""
    if changed:
        fields = tuple(sorted(changed))
        listed = ", ".join(_named(name) for name in fields)
        raise UserError(f"--resume keeps the run's configuration; drop {listed}", fields=fields)


def resumed_loop(saved: TrainConfig, **overrides) -> TrainConfig:
    """The saved TrainConfig with the budget or cosmetics changed; anything else is refused."""
    refuse_on_resume(set(overrides) - RESUMABLE)
    return replace(saved, **overrides)
