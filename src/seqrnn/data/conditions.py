"""What a conditioned language model is told about each document: its condition's values.

A condition is categorical: IMDb's rating (1-4, 7-10, each value a category of its own, not a
number), IMDb's label (neg, pos), or the values of a table's column. Id 0 is `NONE`, the
learned "no condition" entry: documents without a value (IMDb's unlabelled reviews, a blank
cell) and those dropped by --condition-dropout train it, and a sample without a condition
reads it. A spec such as "1:0.5,10:0.5" mixes conditions: the model reads the weighted mean
of their vectors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seqrnn.errors import UserError

NONE = "<none>"  # id 0: no condition
IMDB_CONDITIONS = ("rating", "label")  # what IMDb's documents carry


@dataclass(frozen=True)
class ConditionVocab:
    """The condition `name` and the values training saw; value i has id i + 1."""

    name: str
    values: tuple[str, ...]
    none_trained: bool = False  # whether any training document had no condition

    @classmethod
    def from_values(cls, name: str, values: Sequence[str | None],
                    none_trained: bool) -> ConditionVocab:
        """The values that occur, in numeric order where all are numbers, else sorted."""
        found = {v for v in values if v is not None}
        if not found:
            raise UserError(f"no training document has a value of the condition {name!r}; "
                            "give a {condition} the documents carry", fields=("condition",))
        return cls(name, tuple(sorted(found, key=_order_key(found))), none_trained)

    def __len__(self) -> int:
        return len(self.values) + 1

    def encode(self, values: Sequence[str | None]) -> np.ndarray:
        """Ids (N,) int64 of known values; None is NONE."""
        return np.array([0 if v is None else self.id_of(v) for v in values], dtype=np.int64)

    def decode(self, ids) -> list[str]:
        return [NONE if i == 0 else self.values[i - 1] for i in ids]

    def id_of(self, value: str) -> int:
        try:
            return self.values.index(str(value)) + 1
        except ValueError:
            raise UserError(f"the model never saw the {self.name} {value!r} in training: "
                            f"give {{condition}} one of {', '.join(self.values)}",
                            fields=("condition",)) from None

    def weights(self, spec: str | int | None) -> np.ndarray:
        """Mixture weights (len(self),) float32 of a condition spec: a value, None (no
        condition), or "value:weight,value:weight" with positive weights that add up to 1."""
        out = np.zeros(len(self), dtype=np.float32)
        if spec is None:
            if not self.none_trained:
                raise UserError(f"this model read a {self.name} for every training document "
                                "(no --condition-dropout), so it needs one: give {condition} "
                                f"one of {', '.join(self.values)}", fields=("condition",))
            out[0] = 1.0
            return out
        spec = str(spec).strip()
        if spec in self.values or ":" not in spec:
            out[self.id_of(spec)] = 1.0
            return out
        for value, weight in parse_mixture(spec):
            out[self.id_of(value)] += weight
        return out

    def numeric(self) -> np.ndarray | None:
        """The values as numbers (float64), or None where one is not a number."""
        try:
            return np.array([float(v) for v in self.values])
        except ValueError:
            return None

    def to_dict(self) -> dict:
        return {"name": self.name, "values": list(self.values), "none_trained": self.none_trained}

    @classmethod
    def from_dict(cls, data: dict) -> ConditionVocab:
        try:
            values = tuple(str(v) for v in data["values"])
            return cls(str(data["name"]), values, bool(data.get("none_trained", False)))
        except (KeyError, TypeError):
            raise UserError("the condition vocabulary (conditions.json) is damaged: restore it "
                            "from a copy, or retrain") from None


def parse_mixture(spec: str) -> list[tuple[str, float]]:
    """[(value, weight)] of "value:weight,value:weight"; the weights positive, summing to 1."""
    pairs = []
    for part in spec.split(","):
        value, _, weight = part.rpartition(":")
        try:
            number = float(weight)
        except ValueError:
            number = math.nan
        if not value.strip() or not math.isfinite(number) or number <= 0:
            raise UserError(f"the condition mixture {spec!r} has a bad part {part!r}: write "
                            "{condition} as value:weight pairs such as 1:0.5,10:0.5, each "
                            "weight above 0", fields=("condition",))
        pairs.append((value.strip(), number))
    total = sum(weight for _, weight in pairs)
    if abs(total - 1) > 1e-6:
        raise UserError(f"the weights of the condition mixture {spec!r} add up to {total:g}: "
                        "make them add up to 1 in {condition}", fields=("condition",))
    return pairs


def _order_key(values: set[str]):
    try:
        for v in values:
            float(v)
    except ValueError:
        return str
    return float


def dropped_documents(count: int, fraction: float, seed: int) -> np.ndarray:
    """Which of `count` training documents read no condition (--condition-dropout), drawn
    once per run with its seed: (count,) bool."""
    return np.random.default_rng([seed, 29]).random(count) < fraction


def token_conditions(ids: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
    """The condition id of each token: document i's id repeated over its `lengths[i]` tokens;
    the smallest integer type that holds them."""
    dtype = np.uint8 if len(ids) == 0 or ids.max() < 256 else np.int32
    return np.repeat(ids.astype(dtype), np.asarray(lengths, dtype=np.int64))


def read_with_targets(conditions: np.ndarray) -> np.ndarray:
    """The condition each position is read with: that of the token it predicts, so that a
    document's end (EOS, a newline) already reads the next document's condition, as a
    sample's prime does."""
    return np.concatenate([conditions[1:], conditions[-1:]])
