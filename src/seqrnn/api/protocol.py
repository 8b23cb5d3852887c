"""What every loaded model offers, and the one rule by which several runs form an ensemble.

Each kind's `api/` class (LanguageModel, WordLanguageModel, SentimentClassifier, Transducer,
Forecaster)
is a `LoadedModel`. Several runs answer as one only when they share their data and split: a
member trained on another split may have trained on the rows the ensemble is scored on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from seqrnn.errors import UserError
from seqrnn.run import RunConfig, RunFolder

# Data settings that shape batches, windows or the vocabulary, not which rows fall in which
# split.
SPLIT_FREE = frozenset({"batch_size", "batching", "seq_len", "min_freq", "max_vocab",
                        "pretrained", "input_length", "history", "batches_per_epoch",
                        "deseasonalise"})

Member = TypeVar("Member")


@runtime_checkable
class LoadedModel(Protocol):
    """A trained model read from its run folder, ready to answer on raw input."""

    config: RunConfig  # its run's config.json

    @classmethod
    def load(cls, run_dir: Any, *, weights: str = "best", device: str = "cpu") -> Any: ...

    @property
    def device(self) -> Any: ...

    def predict(self, *args: Any, **kwargs: Any) -> Any: ...

    def evaluate(self, *args: Any, **kwargs: Any) -> dict: ...


def run_dirs(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    """One run folder or several, as a list; none is refused."""
    found = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not found:
        raise UserError("give at least one run folder to load")
    return [Path(path) for path in found]


def split_settings(config: RunConfig, data_field: str = "data",
                   seeded: bool = True) -> dict[str, Any]:
    """What draws a run's splits: its data settings (but those of batches and vocabulary),
    its seed where the split is drawn at random (`seeded`), and the fingerprint of the data it
    read where one was recorded."""
    settings = {name: value for name, value in (config.data or {}).items()
                if name not in SPLIT_FREE}
    if seeded:
        settings["seed"] = (config.loop or {}).get("seed", 1)
    record = (config.sources or {}).get(data_field)
    settings["content"] = record.get("blake2b") if isinstance(record, dict) else None
    return settings


def check_same_split(paths: Sequence[str | Path], kind: str, data_field: str = "data",
                     seeded: bool = True) -> None:
    """Refuse runs whose data or split differ from the first's, naming the settings."""
    first = split_settings(RunFolder(paths[0]).read_config(kind), data_field, seeded)
    for path in paths[1:]:
        theirs = split_settings(RunFolder(path).read_config(kind), data_field, seeded)
        differ = [name for name in {**first, **theirs}
                  if first.get(name) != theirs.get(name)
                  and not (name == "content" and None in (first[name], theirs[name]))]
        if differ:
            raise UserError(f"{path} cannot join an ensemble with {paths[0]}: their data or "
                            f"split differ ({', '.join(differ)}), so one may have trained on "
                            "the other's held-out rows; ensemble runs of the same data, "
                            "fractions and seed")


def load_members(paths: str | Path | Sequence[str | Path], kind: str,
                 load_one: Callable[[Path], Member], data_field: str = "data",
                 seeded: bool = True) -> list[Member]:
    """The runs of an ensemble (or the one run), loaded once they share one data and split
    (`seeded`: a split drawn at random, so the seed must match too)."""
    found = run_dirs(paths)
    check_same_split(found, kind, data_field, seeded)
    return [load_one(path) for path in found]
