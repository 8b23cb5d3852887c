"""Named configurations, and the defaults of each kind of task.

A preset is a set of configuration fields (data, model and training loop alike), applied
under what the user gives: `seqrnn charlm train --preset race --lr 1e-3` is the race with
another learning rate. Each kind declares its presets (seqrnn.kinds, seqrnn.registry); the
bench scripts take the same names, so each README figure is one short command. Torch-free,
like seqrnn.configs, so the command line can list them cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from seqrnn import registry
from seqrnn.configs import TrainConfig
from seqrnn.errors import field_error


@dataclass(frozen=True)
class Preset:
    summary: str
    values: dict[str, Any] = field(default_factory=dict)
    needs: tuple[str, ...] = ()  # fields the user must still give, e.g. a pretrained run


def defaults(kind: str) -> dict[str, Any]:
    """The fields whose default for task `kind` is not its config dataclass's: a preset's."""
    name = registry.get(kind).default_preset
    return dict(get(kind, name).values) if name else {}


def loop_defaults(kind: str) -> dict[str, Any]:
    """The training-loop fields of `defaults(kind)`: `TrainConfig(**loop_defaults("seq2seq"))`
    trains from Python as `seqrnn seq2seq train` does (the data and model fields of those
    defaults are their configs' own defaults already)."""
    names = {f.name for f in fields(TrainConfig)}
    return {k: v for k, v in defaults(kind).items() if k in names}


def defaults_source(kind: str) -> str:
    """Where the defaults of task `kind` come from, for --help."""
    name = registry.get(kind).default_preset
    return f"the {name} preset's" if name else "the lecture's"


def implied_fields(kind: str) -> set[str]:
    """The fields whose default another field of task `kind` may imply."""
    return {name for _, implied in registry.get(kind).implied for name in implied}


def implied_defaults(kind: str, given: dict[str, Any]) -> dict[str, Any]:
    """The defaults that the fields in `given` (those set to something) imply for task `kind`:
    a pretrained encoder trains with the fine-tuning recipe. Whatever the user sets wins."""
    implied: dict[str, Any] = {}
    for name, values in registry.get(kind).implied:
        if given.get(name) is not None:
            implied.update(values)
    return implied


def names(kind: str) -> list[str]:
    return list(registry.get(kind).presets)


def get(kind: str, name: str) -> Preset:
    """The preset `name` of task `kind`; UserError about field `preset` if there is none."""
    presets = registry.get(kind).presets
    if name not in presets:
        choices = ", ".join(presets) or "none"
        raise field_error("preset", f"unknown {{}} {name!r} for {kind}: use one of {choices}")
    return presets[name]


def describe(kind: str) -> str:
    """One line per preset, for --help."""
    return "; ".join(f"{name}: {preset.summary}"
                     for name, preset in registry.get(kind).presets.items())
