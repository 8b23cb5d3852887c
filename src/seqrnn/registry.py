"""The registry of task kinds: everything that names a kind iterates over it.

A kind declares in one `Kind` what the rest of seqrnn needs of it: its training recipe
(a recipes.base.Recipe), the files its runs write beside the shared ones, the loaded-model
class users call, its presets and defaults, its command-line module, and how it is served and
exported. The command line's subcommands, the run folder's file list, the presets,
`seqrnn.train`, `seqrnn.load`, `seqrnn serve` and `seqrnn export` read them from here, so a new
kind is its own files and one `register(Kind(...))` line.

Torch-free, so `seqrnn --help` stays fast: what would import torch is named as
"module:attribute" and imported on first use (an object may be given instead).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from seqrnn.errors import UserError

if TYPE_CHECKING:
    from seqrnn.presets import Preset
    from seqrnn.recipes.base import Recipe
    from seqrnn.serve.hooks import ServeHook


@dataclass(frozen=True)
class Kind:
    """One kind of task, as config.json's "kind" and `seqrnn <name> train` name it."""

    name: str
    recipe: str | Recipe  # its training recipe, recipes.base.Recipe
    files: tuple[str, ...] = ()  # run-folder files its training writes beside the shared ones
    # The class users call, whose `load(run_dir, weights=, device=)` returns a loaded model;
    # None: seqrnn.load gives the generic api.loading.Loaded.
    model: str | type | None = None
    presets: Mapping[str, Preset] = field(default_factory=dict)
    default_preset: str | None = None  # whose values are this kind's defaults (issue 31)
    # Defaults that follow from another field being given: [(field, defaults)].
    implied: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    # Module with `register(subparsers)` for `seqrnn <name> ...`; None: a generic
    # `seqrnn <name> train` built from the recipe's config dataclasses (seqrnn.cli.generic).
    cli: str | None = None
    # The server's seqrnn.serve.hooks.ServeHook (loading, routes, health); None: not served.
    serve: str | ServeHook | None = None
    # `seqrnn export`'s (run_dir, weights) -> api.export.Exported; None: not exported.
    export: str | Callable | None = None

    def training_recipe(self) -> Recipe:
        return resolve(self.recipe)

    def model_class(self) -> type | None:
        return None if self.model is None else resolve(self.model)


_KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add `kind` (replacing one of the same name: a test may declare its own)."""
    _builtins()
    _KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    _KINDS.pop(name, None)


def kinds() -> list[Kind]:
    """Every kind, built-in ones first, in the order they were registered."""
    _builtins()
    return list(_KINDS.values())


def get(name: str) -> Kind:
    """Kind `name`; UserError naming the known ones if there is none."""
    _builtins()
    if name not in _KINDS:
        known = ", ".join(_KINDS)
        raise UserError(f"unknown kind of task {name!r}: use one of {known}")
    return _KINDS[name]


def run_files() -> tuple[str, ...]:
    """The files any kind's training writes beside the shared ones, each once."""
    return tuple(dict.fromkeys(name for kind in kinds() for name in kind.files))


def resolve(target: Any) -> Any:
    """The object a "module:attribute" string names, imported now; any other value as is."""
    if not isinstance(target, str):
        return target
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


_loaded = False


def _builtins() -> None:
    """Register seqrnn's own kinds (seqrnn.kinds) on first use: that module registers here."""
    global _loaded
    if not _loaded:
        _loaded = True
        importlib.import_module("seqrnn.kinds")
