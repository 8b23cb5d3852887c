"""What both language models do to read a condition (--condition): each training and
validation document's value, the documents that read "none" instead (--condition-dropout), the
condition vocabulary saved as conditions.json, and the condition id of every token."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seqrnn.data.conditions import (
    ConditionVocab,
    dropped_documents,
    read_with_targets,
    token_conditions,
)
from seqrnn.data.documents import DocumentSplits
from seqrnn.errors import UserError
from seqrnn.kinds import CONDITIONS_FILE, VOCAB_FILE
from seqrnn.recipes import base
from seqrnn.recipes.stream import StreamSets
from seqrnn.run import RunFolder

__all__ = ["ConditionedDocuments", "condition_ids", "conditioned_prepared", "read_conditioned"]


@dataclass(frozen=True)
class ConditionedDocuments:
    """Documents, their condition values (None: none) and which training ones drop theirs."""

    splits: DocumentSplits
    dropped: np.ndarray  # (len(splits.train),) bool


def read_conditioned(splits: DocumentSplits, dropout: float, seed: int) -> ConditionedDocuments:
    return ConditionedDocuments(splits, dropped_documents(len(splits.train), dropout, seed))


def condition_ids(docs: ConditionedDocuments, name: str, train_lengths: Sequence[int],
                  val_lengths: Sequence[int],
                  saved: RunFolder | None) -> tuple[ConditionVocab, tuple[np.ndarray, np.ndarray]]:
    """The condition vocabulary of the training values (a resumed run's, checked to match)
    and the condition id of every training and validation token, each document's id repeated
    over its `*_lengths` tokens; a dropped training document's is "none" (0). A stream read
    backwards is to be reversed before `read_with_targets`."""
    values = docs.splits.train_conditions
    vocab = ConditionVocab.from_values(
        name, values, none_trained=bool(docs.dropped.any()) or None in values)
    if saved is not None and vocab != ConditionVocab.from_dict(saved.read_json(CONDITIONS_FILE)):
        raise UserError(f"the data gives other values of the condition {name!r} than the run in "
                        f"{saved.path}: resume with the data it was trained on",
                        fields=("condition",))
    train = np.where(docs.dropped, 0, vocab.encode(values))
    val = np.array([0 if v is None or v not in vocab.values else vocab.id_of(v)
                    for v in docs.splits.val_conditions], dtype=np.int64)
    return vocab, (token_conditions(train, train_lengths), token_conditions(val, val_lengths))


def conditioned_prepared(vocab, conditions: ConditionVocab, train: np.ndarray, val: np.ndarray,
                         train_conditions: np.ndarray,
                         val_conditions: np.ndarray) -> base.Prepared[StreamSets]:
    """A conditioned stream, prepared: its vocabulary and conditions saved, both sizes the
    model's, each token's condition (`condition_ids`) read with its target."""
    return base.Prepared(files={VOCAB_FILE: vocab, CONDITIONS_FILE: conditions},
                         model_fields={"vocab_size": len(vocab), "conditions": len(conditions)},
                         sets=StreamSets(train, val, conditions=(
                             read_with_targets(train_conditions),
                             read_with_targets(val_conditions))))
