"""Loading a trained model of any task from its run folder, the same way for every kind."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from seqrnn import registry
from seqrnn.data.vocabulary import Vocabulary
from seqrnn.errors import UserError, field_error
from seqrnn.recipes.base import Recipe
from seqrnn.run import CONFIG_FILE, WEIGHTS, RunConfig, RunFolder
from seqrnn.trainer.process import flush_denormals, resolve_device


@dataclass
class Loaded:
    """A trained model as its run folder holds it: the module in eval mode, its vocabularies
    (run-folder file name -> the object of the recipe's `vocabularies` class) and config.json."""

    model: nn.Module
    vocabularies: dict[str, Vocabulary]
    config: RunConfig


def load_trained(run_dir: str | Path, recipe: Recipe, *, weights: str = "best",
                 device: str = "cpu") -> Loaded:
    """The model of a `recipe.kind` run, with its vocabularies, each checked against the size
    its model config gives it. `weights` is "best" (model.safetensors) or "latest"
    (latest.safetensors)."""
    if weights not in WEIGHTS:
        raise field_error("weights", f"unknown {{}} {weights!r}: use one of best, latest")
    flush_denormals()
    run = RunFolder(run_dir)
    config = run.read_config(recipe.kind)
    model_config = run.build_config(recipe.model_config, config.model)
    vocabularies = {}
    for name, (cls, size_field) in recipe.vocabularies.items():
        vocabularies[name] = vocab = cls.from_dict(run.read_json(name))
        size = getattr(model_config, size_field)
        found = vocab.sizes if isinstance(size, tuple) else len(vocab)  # one size per column
        if size != found:
            raise UserError(f"{run.path}: config.json says {size} vocabulary entries but "
                            f"{name} has {found}; the folder is mixed up")
    run.check_fits(lambda: recipe.model_from_config(model_config), WEIGHTS[weights])
    model = recipe.model_from_config(model_config)
    run.load_into(model, WEIGHTS[weights])
    return Loaded(model.to(resolve_device(device)).eval(), vocabularies, config)


def load(run_dir: str | Path, *, weights: str = "best", device: str = "cpu") -> Any:
    """The model of any run folder, as its kind's class loads it (registry.Kind.model: a
    LanguageModel, a SentimentClassifier, ...), or a Loaded for a kind that has none."""
    found = RunFolder(run_dir).read_json(CONFIG_FILE)
    name = found.get("kind") if isinstance(found, dict) else None
    if not isinstance(name, str):
        raise UserError(f"{RunFolder(run_dir).file(CONFIG_FILE)} is damaged ('kind' is missing "
                        "or not a string): restore it from a copy, or retrain")
    if name not in {kind.name for kind in registry.kinds()}:
        raise UserError(f"{run_dir} holds a {name} model, a kind this seqrnn does not know: "
                        "upgrade, or load it with the code that registers its kind")
    kind = registry.get(name)
    cls = kind.model_class()
    if cls is None:
        return load_trained(run_dir, kind.training_recipe(), weights=weights, device=device)
    return cls.load(run_dir, weights=weights, device=device)


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
