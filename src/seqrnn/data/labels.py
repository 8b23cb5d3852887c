"""Labeled texts for sentiment analysis: labels 0 and 1, and train/validation/test splits.

Labels are 0 (negative) and 1 (positive); a `LabelMap` records which original
value is which, and is saved with the model. Rows whose text is empty or blank
are skipped and counted (`LabeledTexts.skipped_empty`) unless
``on_empty="error"``: the readers (`seqrnn.data.imdb`, `seqrnn.data.tables`)
share that rule and the file checks at the end of this module. Where each text
carries its group (`LabeledTexts.groups`, on IMDb its movie), validation is
held out whole groups at a time: IMDb's test movies are not its training
movies, and a validation set that shares them scores too high.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqrnn.errors import UserError, field_error

# Label pairs whose meaning is known, (negative, positive), compared case-insensitively.
KNOWN_LABEL_PAIRS = (
    ("neg", "pos"),
    ("negative", "positive"),
    ("0", "1"),
    ("-1", "1"),
    ("false", "true"),
    ("bad", "good"),
)
ON_EMPTY = ("skip", "error")


@dataclass(frozen=True)
class LabelMap:
    """Which original label value is negative (0) and which is positive (1).

    `infer` decides for a file's two values: a known pair (`KNOWN_LABEL_PAIRS`,
    such as neg/pos, negative/positive, 0/1, false/true) maps naturally; two
    numbers map smaller to 0 (so 1/2 and 0/4 work); any other two values map in
    sorted order, the first to 0. To decide otherwise, construct one explicitly.
    """

    negative: str
    positive: str

    def __post_init__(self) -> None:
        if self.negative == self.positive:
            raise UserError(
                f"the negative and positive labels are both {self.negative!r}; "
                "give two different values"
            )

    @classmethod
    def infer(cls, values: Iterable[str], *, where: str) -> LabelMap:
        """The map for a data set's label values; UserError unless there are exactly two."""
        distinct = sorted(set(values))
        if len(distinct) != 2:
            shown = ", ".join(repr(v) for v in distinct[:10])
            shown += ", ..." if len(distinct) > 10 else ""
            raise UserError(
                f"{where} has {len(distinct)} distinct label values ({shown or 'none'}); "
                "sentiment needs exactly two: fix the labels, or name the right column "
                "with --label-column"
            )
        first, second = distinct
        pair = (first.lower(), second.lower())
        for negative, positive in KNOWN_LABEL_PAIRS:
            if pair == (positive, negative):
                return cls(negative=second, positive=first)
            if pair == (negative, positive):
                return cls(negative=first, positive=second)
        numbers = [_as_number(v) for v in distinct]
        if None not in numbers and numbers[0] > numbers[1]:
            return cls(negative=second, positive=first)
        return cls(negative=first, positive=second)

    @property
    def names(self) -> tuple[str, str]:
        """The original values of labels 0 and 1."""
        return (self.negative, self.positive)

    def encode(self, value: str) -> int:
        if value == self.negative:
            return 0
        if value == self.positive:
            return 1
        raise KeyError(value)

    def decode(self, label: int) -> str:
        return self.names[int(label)]

    def to_dict(self) -> dict:
        return {"negative": self.negative, "positive": self.positive}

    @classmethod
    def from_dict(cls, data: dict) -> LabelMap:
        if not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) for k in ("negative", "positive")
        ):
            raise UserError(
                "the label map needs string fields \"negative\" and \"positive\"; "
                "the saved labels are damaged: restore them or retrain"
            )
        return cls(negative=data["negative"], positive=data["positive"])


def parse_label_mapping(text: str) -> dict[str, str]:
    """`0=neg,1=pos` -> {"0": "neg", "1": "pos"}: a file's label values, each with a model class."""
    pairs = [part.split("=", 1) for part in text.split(",") if part.strip()]
    if len(pairs) != 2 or any(len(pair) != 2 or not all(p.strip() for p in pair)
                              for pair in pairs):
        raise field_error("labels", f"{{}} takes two FILE_VALUE=CLASS pairs such as "
                          f"0=neg,1=pos, got {text!r}")
    return {value.strip(): name.strip() for value, name in pairs}


def mapped_labels(mapping: dict[str, str], model: LabelMap) -> LabelMap:
    """The LabelMap reading a file whose values `mapping` gives the model's classes."""
    by_class = {name: value for value, name in mapping.items()}
    if set(by_class) != set(model.names) or len(mapping) != 2:
        shown = ", ".join(f"{value}={name}" for value, name in mapping.items())
        raise field_error("labels", f"{{}} {shown} must give each of the model's classes "
                          f"({', '.join(model.names)}) one value of the file")
    return LabelMap(negative=by_class[model.negative], positive=by_class[model.positive])


def _as_number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True, eq=False)  # arrays have no single truth value
class LabeledTexts:
    """Texts and their 0/1 labels, in a fixed order."""

    texts: list[str]
    labels: np.ndarray  # (N,) int64: 0 negative, 1 positive
    label_map: LabelMap
    skipped_empty: int = 0  # rows dropped for empty text while reading; a subset drops none
    groups: np.ndarray | None = None  # (N,) int64: what each text is about (IMDb: its movie)
    ratings: np.ndarray | None = None  # (N,) int64: IMDb's star rating (0: none in the name)

    def __len__(self) -> int:
        return len(self.texts)

    def class_counts(self) -> tuple[int, int]:
        """(number of negative, number of positive) examples."""
        negative, positive = np.bincount(self.labels, minlength=2)[:2]
        return int(negative), int(positive)

    def subset(self, indices: Sequence[int] | np.ndarray) -> LabeledTexts:
        indices = np.asarray(indices, dtype=np.int64)
        return LabeledTexts(
            texts=[self.texts[i] for i in indices.tolist()],
            labels=self.labels[indices],
            label_map=self.label_map,
            groups=None if self.groups is None else self.groups[indices],
            ratings=None if self.ratings is None else self.ratings[indices],
        )


@dataclass(frozen=True, eq=False)  # arrays have no single truth value
class SentimentSplits:
    """Train, validation and test sets of one source, with one label map."""

    train: LabeledTexts
    val: LabeledTexts
    test: LabeledTexts
    label_map: LabelMap
    skipped_empty: int  # rows of the source dropped for empty text


def split_balanced(
    data: LabeledTexts, fraction: float, *, seed: int = 0, field: str = "val_fraction"
) -> tuple[LabeledTexts, LabeledTexts]:
    """Hold out `fraction` of each class, drawn at random with `seed`: (rest, held_out).

    Each class gives ``round(fraction * its size)`` examples, so both parts keep
    the class balance of `data`; both keep the order of `data`. With
    `data.groups`, whole groups are held out, in random order, while no class
    passes its count: near those counts (exact on IMDb), never above. A
    fraction of 0 holds out nothing. `field` names the configuration field in errors.
    """
    if not 0.0 <= fraction < 1.0:
        raise field_error(field, f"{{}} must be at least 0 and below 1, got {fraction}")
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(data.labels == label) for label in (0, 1)]
    targets = [round(fraction * len(m)) for m in members]
    for label, m, n_held in zip((0, 1), members, targets, strict=True):
        if fraction > 0 and m.size and not 0 < n_held < len(m):
            name = "{" + field + "}"
            raise UserError(
                f"{name} {fraction} of the {len(m)} examples labeled "
                f"{data.label_map.decode(label)!r} holds out {'none' if n_held == 0 else 'all'} "
                f"of them; use more data or another {name}", fields=(field,),
            )
    if data.groups is None:
        held = [rng.permutation(m)[:n] for m, n in zip(members, targets, strict=True)]
        held_out = np.sort(np.concatenate(held))
    else:
        held_out = _held_out_groups(data, np.array(targets), rng)
    rest = np.setdiff1d(np.arange(len(data)), held_out, assume_unique=True)
    return data.subset(rest), data.subset(held_out)


def _held_out_groups(data: LabeledTexts, targets: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
    """Indices of whole groups, taken in random order while no class passes its target."""
    names, index = np.unique(data.groups, return_inverse=True)
    per_group = np.zeros((len(names), 2), dtype=np.int64)  # examples of each class
    np.add.at(per_group, (index, data.labels), 1)
    held = np.zeros(2, dtype=np.int64)
    chosen = np.zeros(len(names), dtype=bool)
    for group in rng.permutation(len(names)):
        if np.all(held + per_group[group] <= targets):
            chosen[group] = True
            held += per_group[group]
            if np.array_equal(held, targets):
                break
    return np.flatnonzero(chosen[index])


# --- checks shared by the readers ------------------------------------------


def check_on_empty(on_empty: str) -> None:
    """UserError unless `on_empty` is one of `ON_EMPTY`."""
    if on_empty not in ON_EMPTY:
        raise UserError(f"on_empty must be one of {', '.join(ON_EMPTY)}, got {on_empty!r}")


def check_readable(path: Path) -> None:
    """UserError unless `path` is a file this process can open."""
    if not path.exists():
        raise UserError(f"file not found: {path}; check the path")
    if path.is_dir():
        raise UserError(
            f"{path} is a folder; pass a file, or an IMDb aclImdb folder (or its parent)"
        )
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise UserError(f"cannot read {path} ({exc.strerror}); check its permissions") from None


def empty_text_error(where: str) -> UserError:
    """The error for an empty or blank text at `where` under ``on_empty="error"``."""
    return UserError(
        f"{where}: empty text; remove the row, or let rows with empty text be skipped "
        "(the default)"
    )
