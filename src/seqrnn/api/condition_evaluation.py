"""How much a conditioned language model's condition carries, and how well it steers.

- `condition_gap`: held-out perplexity of the run's validation documents read with each
  document's true condition, with none (the "none" entry) and with a wrong one. The condition
  carries information where the true one scores below the others.
- `control`: samples written for each condition, scored by a sentiment classifier: the share
  of them it assigns to the class the condition asks for (IMDb's ratings 1-4 negative, 7-10
  positive; a label condition its own class), and for numeric conditions the Spearman rank
  correlation between the requested value and P(positive).

    from seqrnn.api.wordlm import WordLanguageModel
    from seqrnn.api.sentiment import load_classifier
    lm = WordLanguageModel.load("runs/imdb-rating")
    print(condition_gap(lm))
    print(control(lm, load_classifier("runs/imdb-clf"), samples=20))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from seqrnn.data.conditions import ConditionVocab, read_with_targets, token_conditions
from seqrnn.errors import UserError, field_error
from seqrnn.metrics import mean_ranks, perplexity
from seqrnn.recipes.conditioned import ConditionedDocuments
from seqrnn.recipes.stream import stream_loss

NEGATIVE_RATINGS, POSITIVE_RATINGS = range(1, 5), range(7, 11)  # IMDb's rule for its labels


def require_conditioned(lm: Any) -> ConditionVocab:
    if lm.conditions is None:
        raise UserError("this model was trained without --condition: a condition gap and "
                        "control need a conditioned model (train one with --condition)")
    return lm.conditions


def held_out_documents(lm: Any, *, allow_changed_data: bool = False
                       ) -> tuple[list[str], list[str | None]]:
    """The validation documents of a loaded run and their condition values, read again as its
    training read them (its data, seed and split); data changed since is refused, unless
    `allow_changed_data`."""
    require_conditioned(lm)
    raw = lm.training_data("pass its held-out documents and their conditions",
                           allow_changed_data=allow_changed_data)[2]
    if not isinstance(raw, ConditionedDocuments):
        raise UserError("the run's data records no condition: it cannot be evaluated with its "
                        "held-out conditions")
    return raw.splits.val, raw.splits.val_conditions


def wrong_conditions(vocab: ConditionVocab, ids: np.ndarray) -> np.ndarray:
    """For each condition id (>= 1), another: the farthest value when all are numbers (a rating
    1 reads 10), else the next value in the vocabulary's order."""
    numbers = vocab.numeric()
    if numbers is not None:
        farthest = np.abs(numbers[:, None] - numbers[None, :]).argmax(axis=1) + 1  # (n,)
        return farthest[ids - 1]
    return ids % len(vocab.values) + 1


def known_documents(vocab: ConditionVocab, documents: Sequence[str],
                    values: Sequence[str | None],
                    max_documents: int | None = None) -> tuple[list[str], list[str]]:
    """The documents (at most `max_documents`) whose condition value the model knows, and
    those values."""
    if max_documents is not None and max_documents < 1:
        raise field_error("max_documents", f"{{}} must be at least 1, got {max_documents}")
    kept = [(doc, value) for doc, value in zip(documents, values, strict=True)
            if value is not None and value in vocab.values][:max_documents]
    if not kept:
        raise UserError("no held-out document has a condition value the model knows: there is "
                        "nothing to compare")
    return [doc for doc, _ in kept], [value for _, value in kept]


def documents_loss(lm: Any, documents: Sequence[str], conditions: np.ndarray | None = None, *,
                   num_steps: int = 70, rows: int = 32) -> dict:
    """Loss, perplexity and tokens of `documents` streamed as training streams them, read by a
    conditioned model with each document's condition id in `conditions` (0: none)."""
    return _stream_loss(lm, *lm.document_stream(list(documents)), conditions,
                        num_steps=num_steps, rows=rows)


def _stream_loss(lm: Any, ids: np.ndarray, lengths: np.ndarray, conditions: np.ndarray | None,
                 *, num_steps: int, rows: int) -> dict:
    """documents_loss of documents already encoded (`lm.document_stream`)."""
    per_token = None
    if conditions is not None:
        per_token = token_conditions(np.asarray(conditions), lengths)
    if getattr(lm, "reverse", False):  # a backward model reads the stream back to front
        ids = ids[::-1]
        per_token = None if per_token is None else per_token[::-1]
    total, count = stream_loss(lm.model, lm.loss_sum, ids, num_steps, rows,
                               conditions=None if per_token is None
                               else read_with_targets(per_token))
    return {"loss": total / count, "perplexity": perplexity(total / count), "tokens": count}


def condition_gap(lm: Any, documents: Sequence[str], values: Sequence[str | None], *,
                  num_steps: int = 70, rows: int = 32,
                  max_documents: int | None = None) -> dict:
    """Loss and perplexity of `documents` (`known_documents`) read with their true condition,
    with none and with a wrong one (`wrong_conditions`); `gap`: 1 - perplexity(true) /
    perplexity(none), `wrong_gap` likewise against the wrong one."""
    vocab = require_conditioned(lm)
    documents, values = known_documents(vocab, documents, values, max_documents)
    true = vocab.encode(values)
    readings = {"true": true, "none": np.zeros_like(true), "wrong": wrong_conditions(vocab, true)}
    out: dict[str, Any] = {"documents": len(documents)}
    ids, lengths = lm.document_stream(documents)  # encoded once, read three ways
    for name, per_document in readings.items():
        out[name] = _stream_loss(lm, ids, lengths, per_document, num_steps=num_steps, rows=rows)
    out["gap"] = 1 - out["true"]["perplexity"] / out["none"]["perplexity"]
    out["wrong_gap"] = 1 - out["true"]["perplexity"] / out["wrong"]["perplexity"]
    return out


def requested_class(vocab: ConditionVocab, value: str, classes: Sequence[str]) -> int | None:
    """The class (0 negative, 1 positive) condition `value` asks for: a rating's by IMDb's
    rule, a value named as one of the classifier's `classes` that one; None: neither."""
    if value in classes:
        return list(classes).index(value)
    if vocab.name == "rating" and vocab.numeric() is not None:
        rating = float(value)
        if rating in NEGATIVE_RATINGS:
            return 0
        if rating in POSITIVE_RATINGS:
            return 1
    return None


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rank correlation (ties share their mean rank); None where one side is
    constant or there are fewer than 2 points."""
    if len(x) < 2:
        return None
    rx, ry = mean_ranks(np.asarray(x, dtype=float)), mean_ranks(np.asarray(y, dtype=float))
    if rx.std() == 0 or ry.std() == 0:
        return None
    return float(np.corrcoef(rx, ry)[0, 1])


def control(lm: Any, classifier: Any, *, conditions: Sequence[str] | None = None,
            samples: int = 20, length: int = 60, prime: str | None = None, seed: int = 0,
            **sampling) -> dict:
    """`samples` samples of `length` tokens for each condition (default: every value the
    model knows), sample i drawn with seed + i, scored by `classifier` (its predict_proba):
    per condition the mean P(positive) and the share in the requested class; overall that
    share over the conditions that request one, and for numeric conditions Spearman's rank
    correlation of the value with P(positive), over the samples and over the means."""
    vocab = require_conditioned(lm)
    if samples < 1:
        raise field_error("samples", f"{{}} must be at least 1, got {samples}")
    prime = lm.default_prime() if prime is None else prime
    classes = [str(c) for c in classifier.classes_] if hasattr(classifier, "classes_") else []
    per_condition, scored, hits = {}, 0, 0
    values_x, probs_y, means = [], [], []
    for value in conditions or vocab.values:
        vocab.id_of(value)  # a value the model knows, or a UserError naming them
        texts = [lm.sample(prime, length, condition=value, seed=seed + i, **sampling)
                 for i in range(samples)]
        positive = classifier.predict_proba(texts)[:, 1]
        wanted = requested_class(vocab, value, classes)
        entry = {"mean_positive": float(positive.mean()), "requested": wanted,
                 "example": texts[0]}
        if wanted is not None:
            in_class = (positive >= 0.5) == bool(wanted)
            entry["share_requested"] = float(in_class.mean())
            scored, hits = scored + samples, hits + int(in_class.sum())
        per_condition[value] = entry
        if vocab.numeric() is not None and wanted is not None:
            values_x += [float(value)] * samples
            probs_y += positive.tolist()
            means.append((float(value), float(positive.mean())))
    return {
        "samples_per_condition": samples, "length": length,
        "conditions": per_condition,
        "share_requested": hits / scored if scored else None,
        "spearman_samples": spearman(values_x, probs_y),
        "spearman_means": spearman([m[0] for m in means], [m[1] for m in means]),
    }
