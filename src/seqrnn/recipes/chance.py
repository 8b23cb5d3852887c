"""Did a run learn anything? The warning a run gives at its end when its best validation
metric stayed where a model that ignores its input would be.

Each task's evaluation reports its own baseline beside the metric: a classifier the accuracy
of always answering the most common class ("majority"), a language model or a decoder the
loss of predicting each token by its training frequency alone ("unigram").
"""

from __future__ import annotations

# A classifier whose best validation accuracy is not this far on the way from chance to
# perfect learned (almost) nothing: 0.55 when the classes are balanced.
LEARNED_MARGIN = 0.1

LIKELY_CAUSES = "try another learning rate, a longer budget, or a preset"


def near_chance(best_eval: dict) -> str | None:
    """A warning when the best validation accuracy stayed at chance, else None."""
    majority = best_eval.get("majority")
    if majority is None or best_eval["accuracy"] >= majority + LEARNED_MARGIN * (1 - majority):
        return None
    return (f"validation accuracy never left chance (best {best_eval['accuracy']:.3f}; always "
            f"answering the most common class scores {majority:.3f}): the model learned almost "
            f"nothing; {LIKELY_CAUSES}")


def above_unigram(best_eval: dict) -> str | None:
    """A warning when the best validation loss never fell below the unigram loss, else None."""
    unigram = best_eval.get("unigram")
    if unigram is None or best_eval["loss"] < unigram:
        return None
    return (f"validation loss never fell below the unigram loss (best {best_eval['loss']:.3f}; "
            f"predicting each token by its training frequency alone scores {unigram:.3f}): "
            f"the model learned no context; {LIKELY_CAUSES}")


def learned_nothing(best_eval: dict) -> str | None:
    """The warning a run whose best validation metrics are `best_eval` deserves, if any."""
    return near_chance(best_eval) or above_unigram(best_eval)
