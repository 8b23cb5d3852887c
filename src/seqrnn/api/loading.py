"""Loading a trained model of any task from its run folder, the same way for every kind."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from torch import nn

from seqrnn.errors import UserError, field_error
from seqrnn.run import CONFIG_FILE, VOCAB_FILE, WEIGHTS, RunConfig, RunFolder
from seqrnn.tasks.base import TaskSpec
from seqrnn.train.process import flush_denormals, resolve_device


def load_trained(run_dir: str | Path, spec: TaskSpec, vocab_class: type | None, *,
                 weights: str = "best", device: str = "cpu") -> tuple[nn.Module, Any, RunConfig]:
    """The model of a `spec.kind` run in eval mode, its vocabulary and its config.json.

    `weights` is "best" (model.safetensors) or "latest" (latest.safetensors). A model with
    vocabularies of its own (vocab_class None) gets None for the vocabulary.
    """
    if weights not in WEIGHTS:
        raise field_error("weights", f"unknown {{}} {weights!r}: use one of best, latest")
    flush_denormals()
    run = RunFolder(run_dir)
    config = run.read_config(spec.kind)
    model_config = run.build_config(spec.model_config, config.model)
    vocab = None if vocab_class is None else vocab_class.from_dict(run.read_json(VOCAB_FILE))
    if vocab is not None and model_config.vocab_size != len(vocab):
        raise UserError(f"{run.path}: config.json says {model_config.vocab_size} vocabulary "
                        f"entries but vocab.json has {len(vocab)}; the folder is mixed up")
    run.check_fits(lambda: spec.model_from_config(model_config), WEIGHTS[weights])
    model = spec.model_from_config(model_config)
    run.load_into(model, WEIGHTS[weights])
    return model.to(resolve_device(device)).eval(), vocab, config


def run_kind(run_dir: str | Path, kinds: Iterable[str], use: str) -> str:
    """The kind of model a run folder holds (its config.json's), one of `kinds`; else a
    UserError naming the kinds that `use` (a command, say) takes."""
    config = RunFolder(run_dir).read_json(CONFIG_FILE)
    kind = config.get("kind") if isinstance(config, dict) else None
    kinds = tuple(kinds)
    if kind not in kinds:
        raise UserError(f"{run_dir} holds a {kind or 'unknown'} model; {use} takes "
                        f"{', '.join(kinds[:-1])} or {kinds[-1]}")
    return kind
