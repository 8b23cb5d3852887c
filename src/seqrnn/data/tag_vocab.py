"""The tagger's vocabularies beside the words' (WordVocab) and the characters' (a WordVocab of
single characters): its tags, and one vocabulary per feature column (a part of speech, say).

Tags have no unknown id: a tag training never saw cannot be predicted, and is refused where it
is read. Feature values do (WordVocab's UNK_ID), as words do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from seqrnn.data.ids import unseen
from seqrnn.data.tag_schemes import SCHEMES
from seqrnn.data.vocab import WordVocab
from seqrnn.errors import UserError

_DIGIT = re.compile(r"\d")


def word_key(word: str, lowercase: bool) -> str:
    """What the word embedding reads: with `lowercase`, the word lowercased with every digit 0
    (the characters keep case and digits; "1999" and "2001" share an embedding)."""
    return _DIGIT.sub("0", word.lower()) if lowercase else word


@dataclass(frozen=True)
class TagVocab:
    """The tags of a scheme, id i for `tags[i]`: the training sentences' tags, sorted, with O
    first."""

    tags: tuple[str, ...]
    scheme: str
    _ids: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise UserError(f"unknown tag scheme {self.scheme!r}; choose one of "
                            f"{', '.join(SCHEMES)}")
        if len(set(self.tags)) != len(self.tags) or not self.tags:
            raise UserError(f"the tag list {list(self.tags)} is empty or repeats a tag; "
                            "retrain, or use the tags.json of a trained tagger")
        object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "_ids", {tag: i for i, tag in enumerate(self.tags)})

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], scheme: str) -> TagVocab:
        found = {tag for tags in sentences for tag in tags}
        return cls(tuple(sorted(found, key=lambda tag: (tag != "O", tag))), scheme)

    def __len__(self) -> int:
        return len(self.tags)

    def encode(self, tags: Sequence[str], *, where: str = "a sentence") -> list[int]:
        """Each tag's id; UserError naming `where` for a tag training never saw."""
        new = unseen(tags, self._ids)
        if new:
            raise UserError(f"{where} has the tag {new[0]!r}, which the training sentences "
                            f"never had (they have {', '.join(self.tags)}): train on data "
                            "with it, or leave it out")
        return [self._ids[tag] for tag in tags]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tags[int(i)] for i in ids]

    def to_dict(self) -> dict:
        return {"kind": "tags", "scheme": self.scheme, "tags": list(self.tags)}

    @classmethod
    def from_dict(cls, data: dict) -> TagVocab:
        tags = _stored(data, "tags", "tags", "tags.json")
        return cls(tuple(str(tag) for tag in tags), str(data.get("scheme")))


@dataclass(frozen=True)
class FeatureVocabs:
    """One WordVocab per feature column, in column order; `sizes` are the embedding tables'."""

    columns: tuple[WordVocab, ...]

    @classmethod
    def build(cls, sentences: Iterable[Sequence[Sequence[str]]], count: int) -> FeatureVocabs:
        """From each training sentence's feature columns (count of them)."""
        columns: list[list[Sequence[str]]] = [[] for _ in range(count)]
        for features in sentences:
            for k, values in enumerate(features):
                columns[k].append(values)
        return cls(tuple(WordVocab.build(values) for values in columns))

    def __len__(self) -> int:
        return len(self.columns)

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(len(vocab) for vocab in self.columns)

    def encode(self, features: Sequence[Sequence[str]]) -> list[list[int]]:
        return [vocab.encode(values) for vocab, values in zip(self.columns, features,
                                                              strict=True)]

    def decode(self, ids: Iterable[Iterable[int]]) -> list[list[str]]:
        return [vocab.decode(column) for vocab, column in zip(self.columns, ids, strict=True)]

    def to_dict(self) -> dict:
        return {"kind": "features", "columns": [vocab.to_dict() for vocab in self.columns]}

    @classmethod
    def from_dict(cls, data: dict) -> FeatureVocabs:
        columns = _stored(data, "features", "columns", "features.json")
        return cls(tuple(WordVocab.from_dict(column) for column in columns))


def _stored(data: object, kind: str, key: str, file: str) -> list:
    """data[key], a list, of the JSON object a tagger writes as `file` ({"kind": kind, ...});
    a one-line UserError for anything else."""
    if not isinstance(data, dict) or data.get("kind") != kind or not isinstance(data.get(key),
                                                                                 list):
        raise UserError(f'{file} is not what a trained tagger writes (a "kind": "{kind}" '
                        f'object with a list of {key}); use the {file} of a trained tagger, or '
                        "retrain")
    return data[key]
