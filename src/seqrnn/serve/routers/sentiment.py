"""POST /api/sentiment: a review's label, and P(positive) after each of its words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter

from seqrnn.metrics import DECISION_THRESHOLD, NO_EVIDENCE
from seqrnn.serve.hooks import Served, ServeHook
from seqrnn.serve.middleware import ApiError, check_length, require
from seqrnn.serve.schemas import ERRORS, TOP_MOVERS, SentimentRequest, SentimentResponse


def routes(served: Served) -> APIRouter:
    router = APIRouter()
    limits = served.limits

    @router.post("/api/sentiment", responses=ERRORS,
                 summary="Classify a review, with the prediction after every word")
    def sentiment(request: SentimentRequest) -> SentimentResponse:
        clf = require(served.model, "sentiment", "--sentiment")
        check_length("review", len(request.text), limits.max_review_chars,
                     "--max-review-chars")
        if not request.text.strip():
            raise ApiError(422, "the review is empty: send some text")
        return classify(clf, request.text)

    return router


def classify(clf: Any, text: str) -> SentimentResponse:
    """The answer of /api/sentiment for `text`."""
    curve = clf.prefix_curve(text)
    tokens, prefix = curve.tokens, curve.probabilities
    if len(tokens) == 0:
        raise ApiError(422, "the review has no words the model can read: send some text")
    proba = np.asarray(clf.predict_proba([text]), dtype=np.float64)[0]  # (2,)
    prefix = np.asarray(prefix, dtype=np.float64)  # (T,)
    changes = np.diff(prefix, prepend=NO_EVIDENCE)
    winner = int(proba[1] >= DECISION_THRESHOLD)
    classes = [str(c) for c in clf.classes_]
    return SentimentResponse(
        label=classes[winner], probability=float(proba[winner]),
        positive_probability=float(proba[1]), classes=classes, tokens=list(tokens),
        prefix_probabilities=prefix.tolist(), scored_prefixes=curve.scored.tolist(),
        curve=curve.method, changes=changes.tolist(),
        top_movers=np.argsort(-np.abs(changes), kind="stable")[:TOP_MOVERS].tolist(),
    )


def _load(run_dirs: list[Path]) -> Any:
    from seqrnn.api.sentiment import load_classifier

    return load_classifier(run_dirs)


HOOK = ServeHook(what="sentiment", load=_load, routes=routes, ensemble=True,
                 health=lambda clf: {"classes": [str(c) for c in clf.classes_]})
