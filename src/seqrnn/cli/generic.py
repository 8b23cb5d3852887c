"""`seqrnn KIND train` for a kind that brings no command-line module of its own.

Its flags are the fields of the kind's data and model configs (those the data does not
decide), with the shared run and loop flags; seqrnn.train does the rest. Building them
imports the kind's recipe, so a kind whose recipe imports torch and that should keep
`seqrnn --help` fast declares a `cli` module instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import types
import typing
from typing import Any

from seqrnn.cli import options


def register(subparsers, kind: Any) -> None:
    """Add `seqrnn KIND train` for `kind` (a registry.Kind)."""
    from seqrnn.configs import TrainConfig

    recipe = kind.training_recipe()
    parser = subparsers.add_parser(kind.name, help=f"{kind.name}: train",
                                   description=f"The {kind.name} task.")
    commands = parser.add_subparsers(dest=f"{kind.name}_command", metavar="COMMAND",
                                     required=True)
    p = commands.add_parser("train", help="train a model into a run folder",
                            description=f"Train a {kind.name} model. "
                            + options.defaults_sentence(kind.name))
    options.add_run_flags(p, kind.name)
    loop_fields = {field.name for field in dataclasses.fields(TrainConfig)}
    for title, cls in (("data", recipe.data_config), ("model", recipe.model_config)):
        group = p.add_argument_group(title)
        for field in dataclasses.fields(cls):
            # Fields without a default the data decides; a loop flag's name sets both.
            if field.default is not dataclasses.MISSING and field.name not in loop_fields:
                _add_field(group, cls, field, kind.name)
    options.add_train_loop_flags(p, kind.name)
    p.set_defaults(run=lambda args: _train(args, kind.name))


def _add_field(group, cls: type, field: dataclasses.Field, kind: str) -> None:
    hint = _plain(typing.get_type_hints(cls)[field.name])
    extra: dict[str, Any] = {}
    if hint is bool:
        extra["action"] = "store_true"
    elif typing.get_origin(hint) in (tuple, list):
        item = (typing.get_args(hint) or (str,))[0]
        extra.update(nargs="+", type=item if item in (int, float, str) else str)
    elif hint in (int, float, str):
        extra["type"] = hint
    options.add(group, cls, field.name, f"{cls.__name__}.{field.name}", kind=kind, **extra)


def _plain(hint: Any) -> Any:
    """`int` of `int | None`: the type a flag parses."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return args[0] if len(args) == 1 else str
    return hint


def _train(args: argparse.Namespace, kind: str) -> int:
    result, run_dir = options.train_or_resume(args, kind)
    if not result.is_main:  # another process of a torchrun job: rank 0 reports for all
        return 130 if result.stopped == "interrupted" else 0
    best = ", ".join(f"{k} {v:.4f}" for k, v in (result.best_eval or {}).items())
    print(f"stopped ({result.stopped}) at step {result.step}, epoch {result.epoch}; best "
          f"validation {best}; run folder {run_dir}", file=sys.stderr)
    return options.training_status(result, run_dir, kind)
