"""The checks every configuration shares: declared types enforced, numbers, choices, paths and
seeds refused in one line naming their field; and the choices the fields take."""

from __future__ import annotations

import dataclasses
import math
import numbers
import types
import typing
from functools import cache
from typing import Any

from seqrnn.errors import UserError, field_error
from seqrnn.paths import given_path

CELL_TYPES = ("rnn", "lstm", "gru")  # seqrnn.nn.CELL_TYPES maps each to its cell class
LR_SCHEDULES = ("constant", "cosine", "slanted")
CHARLM_INPUTS = ("onehot", "embedding")
IMPLS = ("fused", "explicit")
CONDITION_MODES = ("input", "state", "both")  # where seqrnn.nn.conditioning adds one
INITS = ("cells", "torch")  # seqrnn.nn.make_recurrent: the cells' initialisation, or torch's
HEADS = ("last", "max", "mean")
BATCHINGS = ("bucket", "fixed")
AMP_CHOICES = ("auto", "on", "off")  # bfloat16 autocast; auto: where the device has bf16 units


def normalise_fields(config: Any) -> None:
    """Give each field of the dataclass `config` its declared type: numpy's scalars (a grid
    search over np.arange) become Python's int, float and bool, a sequence a tuple; a value of
    another type (True for a count, "8" for a size, 5 for a path) is a UserError naming the
    field."""
    for name, hint in _field_types(type(config)).items():
        value = getattr(config, name)
        optional = type(None) in typing.get_args(hint)
        fitted = _WRONG if value is None and not optional else _as_type(value, without_none(hint))
        if fitted is _WRONG:
            raise UserError(f"{_named(name)} must be {_type_words(without_none(hint))}, "
                            f"got {value!r}", fields=(name,))
        if fitted is not value:
            object.__setattr__(config, name, fitted)


_WRONG = object()  # what _as_type returns for a value that is not of the declared type


@cache
def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def without_none(hint: Any) -> Any:
    """`hint` without its None: int | None -> int."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


def _is_bool(value: Any) -> bool:
    """Python's bool or numpy's (numpy's is no numbers.Integral, yet counts as one in math)."""
    return isinstance(value, bool) or (type(value).__module__ == "numpy"
                                       and type(value).__name__ in ("bool", "bool_"))


def _as_type(value: Any, hint: Any) -> Any:
    """`value` as the type `hint` declares (bool, int, float, str or a tuple of one of them), or
    _WRONG; fields of other types as given."""
    if value is None:
        return value
    if hint is str:
        return value if isinstance(value, str) else _WRONG
    if hint is bool:
        return bool(value) if _is_bool(value) else _WRONG
    if hint in (int, float) and _is_bool(value):
        return _WRONG
    if hint is int:
        return int(value) if isinstance(value, numbers.Integral) else _WRONG
    if hint is float:
        if not isinstance(value, numbers.Real):
            return _WRONG
        try:
            return float(value)
        except OverflowError:  # an int beyond any float: the finiteness checks name it
            return math.inf
    if typing.get_origin(hint) is tuple:
        if isinstance(value, str | dict):  # iterable, but no list
            return _WRONG
        try:
            items = tuple(_as_type(item, typing.get_args(hint)[0]) for item in value)
        except TypeError:  # not a sequence
            return _WRONG
        return _WRONG if any(item is _WRONG for item in items) else items
    return value


_TYPE_WORDS = {int: ("a whole number", "whole numbers"), float: ("a number", "numbers"),
               bool: ("true or false", "true or false values"), str: ("a string", "strings")}


def _type_words(hint: Any) -> str:
    """How a message names type `hint`: "a whole number", "a list of strings"."""
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        return f"a list of {_TYPE_WORDS[item][1] if item in _TYPE_WORDS else item}"
    return _TYPE_WORDS[hint][0] if hint in _TYPE_WORDS else str(hint)


SEED_LIMIT = 2**32  # seeds are 0 .. 2**32 - 1, what every generator seqrnn uses accepts


FLOAT32_MAX = 3.4028234663852886e38  # the models compute in float32: a larger number overflows


def require_finite(**values: float) -> None:
    """UserError about the first field that is NaN, infinite, or too large for float32."""
    for name, value in values.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"{_named(name)} must be a finite number, got {value}",
                            fields=(name,))
        if isinstance(value, float) and abs(value) > FLOAT32_MAX:
            raise UserError(f"{_named(name)} must be at most {FLOAT32_MAX:.1e} in size (the "
                            f"models compute in float32), got {value}", fields=(name,))


def require_positive(**values: float) -> None:
    """UserError about the first field whose value is not a positive (finite) number."""
    require_finite(**values)
    for name, value in values.items():
        if value <= 0:
            raise UserError(f"{_named(name)} must be positive, got {value}", fields=(name,))


def require_eval_tokens(eval_tokens: int | None) -> None:
    """A stream's evaluation budget: None (automatic), 0 (all) or a positive count."""
    if eval_tokens is not None and eval_tokens < 0:
        raise field_error("eval_tokens", f"{{}} must be 0 (all of validation) or positive, "
                          f"got {eval_tokens}")


def require_seed(seed: int) -> int:
    """`seed` as a Python int (numpy's integers too); UserError if it is no seed."""
    number = _as_type(seed, int)
    if number is _WRONG:
        raise field_error("seed", f"{{}} must be a whole number, got {seed!r}")
    if not 0 <= number < SEED_LIMIT:
        raise field_error("seed", f"{{}} must be between 0 and {SEED_LIMIT - 1}, got {number}")
    return number


def require_path(**values: str | None) -> None:
    """UserError about the first field that is an empty path (seqrnn.paths.given_path)."""
    for name, value in values.items():
        if value is not None:
            given_path(value, name)


def require_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UserError(f"unknown {_named(name)} {value!r}: use one of {', '.join(allowed)}",
                        fields=(name,))


def require_dropout(dropout: float, name: str = "dropout") -> None:
    if not 0 <= dropout < 1:
        raise UserError(f"{_named(name)} must be in [0, 1), got {dropout}", fields=(name,))


def require_fractions(val_fraction: float, test_fraction: float) -> None:
    """Validation and test fractions of a split: each in [0, 1), leaving training data."""
    for name, fraction in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= fraction < 1.0:
            raise field_error(name, f"{{}} must be at least 0 and below 1, got {fraction}")
    if val_fraction + test_fraction >= 1.0:
        raise UserError(f"{{val_fraction}} {val_fraction} and {{test_fraction}} {test_fraction} "
                        "leave no training text; make their sum below 1",
                        fields=("val_fraction", "test_fraction"))


# Fields the data decides, not a flag: named in words, which no front end respells.
_IN_WORDS = {"vocab_size": "vocab size"}


def _named(name: str) -> str:
    """How a message names field `name`: its words, or a placeholder for a front end to spell."""
    return _IN_WORDS.get(name, "{" + name + "}")


def require_condition_model(conditions: int, condition_dim: int, condition_mode: str) -> None:
    """A language model's condition fields: how many entries (0: unconditioned), their width
    and where they enter."""
    if conditions < 0 or conditions == 1:
        raise field_error("conditions", f"{{}} must be 0 (no condition) or at least 2 (the "
                          f"'none' entry and one value), got {conditions}")
    require_positive(condition_dim=condition_dim)
    require_choice("condition_mode", condition_mode, CONDITION_MODES)


def require_condition_data(condition: str | None, condition_dropout: float) -> None:
    """A language model's --condition and --condition-dropout."""
    if condition is not None and not condition.strip():
        raise field_error("condition", "{} must name a condition (rating, label or a column)")
    if not 0 <= condition_dropout < 1:
        raise field_error("condition_dropout", f"{{}} must be at least 0 and below 1, got "
                          f"{condition_dropout}")
    if condition is None and condition_dropout > 0:
        raise UserError("{condition_dropout} needs a {condition} to drop",
                        fields=("condition_dropout", "condition"))
