"""Checkpoint folders: weights in safetensors, everything else in JSON.

A run folder holds::

    config.json          kind, format version, model config, training config
    vocab.json           the vocabulary (characters or words) and label names
    model.safetensors    the best weights so far (by validation loss)
    latest.safetensors   the latest weights, for resuming
    train_state.pt       optimizer, counters, RNG and carried state; tensors and
                         plain containers only, loaded with ``weights_only=True``

Nothing here executes code on load. Every file is written to a temporary name
and renamed, so a crash leaves the previous version intact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from seqrnn.atomic import atomic_path, write_json
from seqrnn.errors import UserError

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.json"
BEST_WEIGHTS = "model.safetensors"
LATEST_WEIGHTS = "latest.safetensors"
TRAIN_STATE = "train_state.pt"


def check_new_run_dir(out: Path) -> None:
    """A fresh run needs a folder that does not hold a run yet (nothing is overwritten)."""
    if (out / CONFIG_FILE).exists():
        raise UserError(f"{out} already holds a run: continue it with --resume {out}, "
                        "or choose another --out")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file: give a folder")


def write_config(run_dir: Path, kind: str, model: dict, train: dict | None = None) -> None:
    write_json(
        Path(run_dir) / CONFIG_FILE,
        {"format_version": FORMAT_VERSION, "kind": kind, "model": model, "train": train},
    )


def read_config(run_dir: Path, kind: str) -> dict:
    """Read config.json and check that the folder holds a model of `kind`."""
    config = read_json(run_dir, CONFIG_FILE)
    found = config.get("kind")
    if found != kind:
        raise UserError(
            f"{run_dir} holds a {found or 'unknown'} model, not a {kind} model: "
            f"give a folder written by `seqrnn {kind} train`"
        )
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise UserError(
            f"{run_dir} was written by a newer seqrnn (format {config['format_version']}): upgrade"
        )
    return config


def read_json(run_dir: Path, name: str) -> Any:
    path = _existing(run_dir, name)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is corrupt ({exc}): retrain, or restore the file") from exc


def save_weights(path: Path, state_dict: dict[str, torch.Tensor], step: int) -> None:
    """Save weights with the training step in the metadata (to pair them with train_state)."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state_dict.items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"step": str(step)})


def load_weights(run_dir: Path, name: str = BEST_WEIGHTS) -> tuple[dict[str, torch.Tensor], int]:
    """Load weights on the CPU; return them with the step they were saved at."""
    path = _existing(run_dir, name)
    try:
        with safe_open(str(path), framework="pt") as f:
            step = int((f.metadata() or {}).get("step", -1))
        return load_file(str(path)), step
    except (SafetensorError, OSError, ValueError) as exc:
        raise UserError(f"{path} is corrupt or truncated ({exc}): retrain, or restore it") from exc


def save_train_state(run_dir: Path, state: dict) -> None:
    with atomic_path(Path(run_dir) / TRAIN_STATE) as tmp:
        torch.save(state, tmp)


def load_train_state(run_dir: Path) -> dict:
    path = _existing(run_dir, TRAIN_STATE)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for a damaged pickle
        raise UserError(f"{path} is corrupt or truncated ({exc}): cannot resume") from exc


def check_strict_load(module: torch.nn.Module, state_dict: dict, where: Path) -> None:
    """Load `state_dict` into `module`, turning a mismatch into a clear error."""
    try:
        module.load_state_dict(state_dict)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise UserError(
            f"weights in {where} do not match its config.json ({first}): the folder is mixed up"
        ) from exc


def _existing(run_dir: Path, name: str) -> Path:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(
            f"model folder {run_dir} not found: give the --out folder of a training run"
        )
    path = run_dir / name
    if not path.is_file():
        raise UserError(f"{path} is missing: {run_dir} is not a complete seqrnn model folder")
    return path
