"""The run folder: the one place that knows its file names, layout and format.

A run folder holds::

    config.json          format version, kind, model config, training config
    vocab.json           the vocabulary (characters or words)
    labels.json          the label names (classifiers)
    model.safetensors    the best weights so far (by the task's validation metric)
    latest.safetensors   the latest weights, for resuming
    train_state.pt       optimizer, counters, RNG and carried state; tensors and
                         plain containers only, loaded with ``weights_only=True``
    metrics.jsonl        one JSON record per training log line and evaluation
    loss.png             the training curves

config.json is ``{"format_version", "kind", "model": {...}, "train": {"data":
{...}, "loop": {...}}}``; "train" is null for a model saved outside training.
Nothing here executes code on load. Every file is written to a temporary name
and renamed, so a crash leaves the previous version intact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from seqrnn.atomic import atomic_open, atomic_path, write_json
from seqrnn.errors import UserError, field_error

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.json"
LABELS_FILE = "labels.json"
BEST_WEIGHTS = "model.safetensors"
LATEST_WEIGHTS = "latest.safetensors"
TRAIN_STATE = "train_state.pt"
METRICS_FILE = "metrics.jsonl"
CURVE_FILE = "loss.png"
WEIGHTS = {"best": BEST_WEIGHTS, "latest": LATEST_WEIGHTS}


@dataclass(frozen=True)
class RunConfig:
    """config.json, read: the model's config and, for a trained run, its data and loop configs."""

    kind: str
    model: dict
    data: dict | None = None
    loop: dict | None = None


class RunFolder:
    """One run folder; every read and write of its files goes through here."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def file(self, name: str) -> Path:
        return self.path / name

    # -- fresh and resumable --------------------------------------------------

    def check_new(self) -> None:
        """A fresh run needs a folder that does not hold a run yet (nothing is overwritten)."""
        if self.file(CONFIG_FILE).exists():
            raise UserError(f"{self.path} already holds a run: continue it with --resume "
                            f"{self.path}, or choose another {{out}}", fields=("out",))
        if self.path.exists() and not self.path.is_dir():
            raise field_error("out", f"{{}} {self.path} is a file: give a folder")

    def create(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)

    # -- config.json ----------------------------------------------------------

    def write_config(self, kind: str, model: dict, data: dict | None = None,
                     loop: dict | None = None) -> None:
        train = None if data is None and loop is None else {"data": data, "loop": loop}
        write_json(self.file(CONFIG_FILE), {"format_version": FORMAT_VERSION, "kind": kind,
                                            "model": model, "train": train})

    def read_config(self, kind: str) -> RunConfig:
        """Read config.json and check that the folder holds a model of `kind`."""
        config = self.read_json(CONFIG_FILE)
        found = config.get("kind")
        if found != kind:
            raise UserError(
                f"{self.path} holds a {found or 'unknown'} model, not a {kind} model: "
                f"give a folder written by `seqrnn {kind} train`"
            )
        if config.get("format_version", 0) > FORMAT_VERSION:
            raise UserError(f"{self.path} was written by a newer seqrnn (format "
                            f"{config['format_version']}): upgrade")
        train = config.get("train") or {}
        return RunConfig(kind, config["model"], train.get("data"), train.get("loop"))

    def model_config(self, cls: type, model: dict) -> Any:
        """`cls(**model)`, or a clear error when config.json's model does not fit `cls`."""
        try:
            return cls(**model)
        except TypeError as exc:
            raise UserError(f"{self.file(CONFIG_FILE)} does not describe a model ({exc})") from exc

    # -- JSON beside the weights ----------------------------------------------

    def write_json(self, name: str, obj: Any) -> None:
        write_json(self.file(name), obj)

    def read_json(self, name: str) -> Any:
        path = self._existing(name)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"{path} is corrupt ({exc}): retrain, or restore the file") from exc

    # -- weights and training state -------------------------------------------

    def save_weights(self, name: str, state_dict: dict[str, torch.Tensor], step: int) -> None:
        """Save weights with the training step in the metadata (to pair them with train_state)."""
        tensors = {k: v.detach().to("cpu").contiguous() for k, v in state_dict.items()}
        with atomic_path(self.file(name)) as tmp:
            save_file(tensors, str(tmp), metadata={"step": str(step)})

    def load_weights(self, name: str = BEST_WEIGHTS) -> tuple[dict[str, torch.Tensor], int]:
        """Load weights on the CPU; return them with the step they were saved at."""
        path = self._existing(name)
        try:
            with safe_open(str(path), framework="pt") as f:
                step = int((f.metadata() or {}).get("step", -1))
            return load_file(str(path)), step
        except (SafetensorError, OSError, ValueError) as exc:
            raise UserError(f"{path} is corrupt or truncated ({exc}): retrain, or restore it") \
                from exc

    def load_into(self, module: torch.nn.Module, name: str = BEST_WEIGHTS) -> int:
        """Load weights file `name` into `module`; return its step."""
        weights, step = self.load_weights(name)
        self.check_strict_load(module, weights)
        return step

    def check_strict_load(self, module: torch.nn.Module, state_dict: dict) -> None:
        """Load `state_dict` into `module`, turning a mismatch into a clear error."""
        try:
            module.load_state_dict(state_dict)
        except RuntimeError as exc:
            first = str(exc).splitlines()[0]
            raise UserError(f"weights in {self.path} do not match its config.json ({first}): "
                            "the folder is mixed up") from exc

    def save_train_state(self, state: dict) -> None:
        with atomic_path(self.file(TRAIN_STATE)) as tmp:
            torch.save(state, tmp)

    def load_train_state(self) -> dict:
        path = self._existing(TRAIN_STATE)
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises several types for a damaged pickle
            raise UserError(f"{path} is corrupt or truncated ({exc}): cannot resume") from exc

    # -- metrics.jsonl --------------------------------------------------------

    @property
    def metrics_path(self) -> Path:
        return self.file(METRICS_FILE)

    @property
    def curve_path(self) -> Path:
        return self.file(CURVE_FILE)

    def append_metrics(self, record: dict) -> None:
        with open(self.metrics_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def clear_metrics(self) -> None:
        self.metrics_path.unlink(missing_ok=True)

    def truncate_metrics(self, step: int) -> None:
        """Drop records written after `step` (the checkpoint a resumed run continues from)."""
        path = self.metrics_path
        if not path.exists():
            return
        lines = path.read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if line.strip() and json.loads(line)["step"] <= step]
        with atomic_open(path, "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in kept)

    def _existing(self, name: str) -> Path:
        if not self.path.is_dir():
            raise UserError(
                f"model folder {self.path} not found: give the --out folder of a training run"
            )
        path = self.file(name)
        if not path.is_file():
            raise UserError(f"{path} is missing: {self.path} is not a complete seqrnn model "
                            "folder")
        return path
