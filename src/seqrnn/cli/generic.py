"""`seqrnn KIND train` for a kind that brings no command-line module of its own.

Its flags are the fields of the kind's data and model configs (those the data does not
decide), with the shared run and loop flags; seqrnn.train does the rest. Building them
imports the kind's recipe, so a kind whose recipe imports torch and that should keep
`seqrnn --help` fast declares a `cli` module instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from typing import Any

from seqrnn.cli import kind_commands, options
from seqrnn.configs.checks import without_none


def register(subparsers, kind: Any) -> None:
    """Add `seqrnn KIND train` for `kind` (a registry.Kind)."""
    from seqrnn.configs import TrainConfig

    recipe = kind.training_recipe()
    def add_flags(p: argparse.ArgumentParser) -> None:
        loop_fields = {field.name for field in dataclasses.fields(TrainConfig)}
        for title, cls in (("data", recipe.data_config), ("model", recipe.model_config)):
            group = p.add_argument_group(title)
            for field in dataclasses.fields(cls):
                # Fields without a default the data decides; a loop flag's name sets both.
                if field.default is not dataclasses.MISSING and field.name not in loop_fields:
                    _add_field(group, cls, field, kind.name)

    def register_train(commands) -> None:
        kind_commands.train_command(commands, kind.name, f"Train a {kind.name} model.",
                                    add_flags, _spell_best)

    kind_commands.kind_group(subparsers, kind.name, help=f"{kind.name}: train",
                             description=f"The {kind.name} task.", commands=[register_train])


def _add_field(group, cls: type, field: dataclasses.Field, kind: str) -> None:
    hint = without_none(typing.get_type_hints(cls)[field.name])
    extra: dict[str, Any] = {}
    if hint is bool:
        extra["action"] = "store_true"
    elif typing.get_origin(hint) in (tuple, list):
        item = (typing.get_args(hint) or (str,))[0]
        extra.update(nargs="+", type=item if item in (int, float, str) else str)
    elif hint in (int, float, str):
        extra["type"] = hint  # any other hint (a union of several types) parses as text
    options.add(group, cls, field.name, f"{cls.__name__}.{field.name}", kind=kind, **extra)




def _spell_best(best: dict) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in best.items())
