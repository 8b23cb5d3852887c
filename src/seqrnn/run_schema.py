"""The structure checks of a run folder's files, read before anything trusts them: a loaded
train_state.pt, and config.json's values against the config dataclass each part builds."""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any

import torch

from seqrnn.errors import UserError

_RNG_SHAPE = torch.get_rng_state().shape  # the CPU generator's state, as torch saves it


def check_train_state(path: Path, state: Any) -> None:
    """One line naming what is wrong with a loaded train_state.pt's structure."""
    def wrong(what: str) -> UserError:
        return UserError(f"{path} is damaged ({what}): restore it from a copy, or start anew")

    if not isinstance(state, dict):
        raise wrong(f"a {type(state).__name__}, not a dict")
    for key, kind in (("progress", dict), ("optimizers", list), ("rng_cpu", torch.Tensor),
                      ("carried", dict)):
        if not isinstance(state.get(key), kind):
            raise wrong(f"'{key}' is missing or not a {kind.__name__}")
    step = state["progress"].get("step")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise wrong("its step is not a count")
    if state["rng_cpu"].dtype != torch.uint8 or state["rng_cpu"].shape != _RNG_SHAPE:
        raise wrong("'rng_cpu' is not a random generator state")
    if not all(isinstance(o, dict) and isinstance(o.get("param_groups"), list)
               for o in state["optimizers"]):
        raise wrong("an optimizer state has no parameter groups")
    before = state.get("best_before_stop")
    if before is not None and not (isinstance(before, dict)
                                   and isinstance(before.get("eval"), dict)):
        raise wrong("'best_before_stop' is not a best evaluation")


def field_type_error(cls: type, values: dict) -> str | None:
    """The first field of `values` whose JSON value cannot be `cls`'s field type, or None."""
    hints = typing.get_type_hints(cls)
    for name, value in values.items():
        if name in hints and not _fits(value, hints[name]):
            return f"{name} is {value!r}, not {_type_name(hints[name])}"
    return None


def _fits(value: Any, hint: Any) -> bool:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arg) for arg in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin in (tuple, list):
        return isinstance(value, list | tuple) and all(
            _fits(item, args[0]) for item in value) if args else isinstance(value, list | tuple)
    if origin is dict or hint is dict:
        return isinstance(value, dict)
    if dataclasses.is_dataclass(hint):
        return isinstance(value, dict | hint)
    return True  # Any, Literal and the like: the config's own checks decide


def _type_name(hint: Any) -> str:
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "a string",
             type(None): "null"}
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in typing.get_args(hint))
    if typing.get_origin(hint) in (tuple, list):
        return "a list"
    if dataclasses.is_dataclass(hint) or hint is dict:
        return "an object"
    return names.get(hint, str(hint))
