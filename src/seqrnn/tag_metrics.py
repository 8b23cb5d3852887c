"""Chunk (span) precision, recall and F1 and token accuracy of a tagger, counted as CoNLL's
conlleval script counts them.

A chunk is read by `seqrnn.data.tag_schemes.spans` (conlleval's rules) in each sentence on its
own, so no chunk crosses a sentence end. A predicted chunk is correct when a gold chunk has its
type and both its ends. Precision is correct / predicted chunks, recall correct / gold chunks,
F1 their harmonic mean; any of them with a zero denominator is 0, as conlleval prints. Token
accuracy is the share of tokens whose predicted tag is the gold tag, ``O`` included. All scores
are fractions in [0, 1], not conlleval's percentages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from seqrnn.data.tag_schemes import spans
from seqrnn.errors import UserError


def span_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]],
                scheme: str) -> dict[str, Any]:
    """Scores of `predicted` tag sequences against `gold`, sentence by sentence.

    Returns {"precision", "recall", "f1", "accuracy", "correct", "predicted", "support",
    "tokens", "per_type"}: `correct`, `predicted` and `support` count chunks (correct,
    predicted, gold), `tokens` the tokens; `per_type` maps each type found in gold or
    predicted, sorted, to its {"precision", "recall", "f1", "correct", "predicted", "support"}.
    """
    if len(gold) != len(predicted):
        raise UserError(f"{len(gold)} gold sentences but {len(predicted)} predicted ones; "
                        "predict one tag sequence for each sentence")
    support: Counter[str] = Counter()
    found: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    tokens = right = 0
    pairs = zip(gold, predicted, strict=True)
    for number, (gold_tags, predicted_tags) in enumerate(pairs, start=1):
        if len(gold_tags) != len(predicted_tags):
            raise UserError(f"sentence {number}: {len(gold_tags)} gold tags but "
                            f"{len(predicted_tags)} predicted; predict one tag for each token")
        gold_spans = spans(gold_tags, scheme, where=f"gold sentence {number}")
        predicted_spans = spans(predicted_tags, scheme, where=f"predicted sentence {number}")
        support.update(kind for kind, _, _ in gold_spans)
        found.update(kind for kind, _, _ in predicted_spans)
        correct.update(kind for kind, _, _ in set(gold_spans).intersection(predicted_spans))
        tokens += len(gold_tags)
        right += sum(a == b for a, b in zip(gold_tags, predicted_tags, strict=True))
    per_type = {kind: _scores(correct[kind], found[kind], support[kind])
                for kind in sorted(support.keys() | found.keys())}
    overall = _scores(sum(correct.values()), sum(found.values()), sum(support.values()))
    return {**overall, "accuracy": _ratio(right, tokens), "tokens": tokens,
            "per_type": per_type}


def _scores(correct: int, predicted: int, support: int) -> dict[str, Any]:
    precision, recall = _ratio(correct, predicted), _ratio(correct, support)
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "correct": correct,
            "predicted": predicted, "support": support}


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0
