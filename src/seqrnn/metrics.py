"""Binary classification metrics, in numpy (no scikit-learn needed), the error rates of
sequence transduction (WER, PER), and the losses a model must beat to have learned anything."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from seqrnn.errors import UserError

# P(positive) at or above this is a positive prediction: the one rule every caller decides by.
DECISION_THRESHOLD = 0.5
NO_EVIDENCE = 0.5  # P(positive) before a word is read: where a curve of prefixes starts


def perplexity(loss: float) -> float:
    """exp(loss) of a mean cross-entropy in nats; inf where that is beyond a float (a loss
    above about 709, a diverged model) instead of an OverflowError."""
    try:
        return math.exp(loss)
    except OverflowError:
        return math.inf


COUNT_CHUNK = 1 << 24  # ids counted at once


def unigram_loss(train_ids: np.ndarray, targets: np.ndarray) -> float:
    """Mean cross-entropy, in nats, of `targets` under the training ids' frequencies (add-one
    smoothed): what a model that ignores all context scores. A language model whose loss
    never falls below it has learned no more than how common each token is."""
    train_ids, targets = np.asarray(train_ids), np.asarray(targets)
    size = int(max(train_ids.max(initial=0), targets.max(initial=0))) + 1
    return unigram_loss_of_counts(_counts(train_ids, size), _counts(targets, size))


def _counts(ids: np.ndarray, size: int) -> np.ndarray:
    """How often each id below `size` occurs, counted a chunk at a time (a large corpus is
    never copied whole)."""
    counts = np.zeros(size, dtype=np.int64)
    for start in range(0, len(ids), COUNT_CHUNK):
        counts += np.bincount(ids[start:start + COUNT_CHUNK], minlength=size)
    return counts


def unigram_loss_of_counts(train_counts: np.ndarray, target_counts: np.ndarray) -> float:
    """`unigram_loss` from how often each id occurs in the training ids and in the targets."""
    train_counts, target_counts = np.asarray(train_counts), np.asarray(target_counts)
    used = np.flatnonzero(train_counts + target_counts)
    size = int(used[-1]) + 1 if len(used) else 1  # unigram_loss's: the largest id seen, + 1
    counts = np.ones(size) + train_counts[:size]
    total = int(target_counts.sum())
    if not total:
        return math.nan
    return float(-(target_counts[:size] * np.log(counts / counts.sum())).sum() / total)


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random negative.

    Computed from ranks (Mann-Whitney U), ties counted as half; NaN with one class only.
    """
    labels = np.asarray(labels, dtype=bool)
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    u = mean_ranks(scores)[labels].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def mean_ranks(values) -> np.ndarray:
    """Each value's rank, 1 for the smallest, equal values sharing their mean rank."""
    order = np.argsort(values, kind="stable")
    ordered = np.asarray(values)[order]
    ranks = np.empty(len(ordered), dtype=np.float64)
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])  # each run of equals
    ends = np.r_[starts[1:], len(ordered)]
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + end + 1) / 2
    return ranks


def require_items(count: int, what: str, fix: str, fields: tuple[str, ...] = ()) -> None:
    """UserError when `what` holds nothing to score: a metric of no items is not a number.

    `fix` may name `fields` as placeholders, `{split}`, for each front end to spell."""
    if count < 1:
        raise UserError(f"{what} has nothing to evaluate; {fix}", fields=fields)


def binary_metrics(labels: np.ndarray, probabilities: np.ndarray,
                   threshold: float = DECISION_THRESHOLD) -> dict:
    """Accuracy, precision, recall, F1 and ROC AUC of P(positive) against 0/1 labels."""
    labels = np.asarray(labels, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if len(labels) == 0:
        raise ValueError("binary_metrics needs at least one example")
    predicted = (probabilities >= threshold).astype(np.int64)
    tp = int(((predicted == 1) & (labels == 1)).sum())
    tn = int(((predicted == 0) & (labels == 0)).sum())
    fp = int(((predicted == 1) & (labels == 0)).sum())
    fn = int(((predicted == 0) & (labels == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": (tp + tn) / len(labels),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "roc_auc": roc_auc(labels, probabilities),
        # rows: true label (negative, positive); columns: predicted label
        "confusion_matrix": [[tn, fp], [fn, tp]],
        "examples": len(labels),
    }


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions from a to b."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def transduction_errors(outputs: Sequence[Sequence], references: Sequence[Sequence[Sequence]]
                        ) -> dict[str, float]:
    """Word error rate and phoneme (token) error rate of outputs against their references.

    An output is right when it equals any of its references (WER counts the wrong ones). PER
    sums, over the outputs, the edit distance to the closest reference, and divides by the
    summed lengths of those references, as G2P papers report it.
    """
    if len(outputs) != len(references) or not outputs:
        raise ValueError("give one list of references per output, and at least one output")
    wrong, edits, length = 0, 0, 0
    for output, alternatives in zip(outputs, references, strict=True):
        output = tuple(output)
        distances = [(edit_distance(output, tuple(ref)), len(ref)) for ref in alternatives]
        distance, ref_length = min(distances)
        wrong += distance > 0
        edits += distance
        length += ref_length
    return {"wer": wrong / len(outputs), "per": edits / max(length, 1), "words": len(outputs),
            "reference_tokens": length}
