"""POST /api/tag: sentences in, each word's tag and the spans they make out; several run
folders tag as an ensemble."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seqrnn.configs import ServeLimits
from seqrnn.serve.endpoint import Endpoint
from seqrnn.serve.hooks import ServeHook
from seqrnn.serve.middleware import check_length
from seqrnn.serve.schemas import TagRequest, TagResponse


def plan(model: Any, request: TagRequest, limits: ServeLimits):
    characters = sum(len(s) if isinstance(s, str) else sum(map(len, s))
                     for s in request.sentences)
    check_length("sentences", characters, limits.max_tag_chars, "--max-tag-chars")
    return 1, lambda: TagResponse(results=model.predict(request.sentences,
                                                        features=request.features))


ENDPOINT = Endpoint("/api/tag", "Tag the words of sentences and return the spans", TagRequest,
                    TagResponse, "tagging", "--tag", plan)


def health(model: Any) -> dict[str, Any]:
    return {"tag_features": len(model.vocab.features)}


def _load(run_dirs: list[Path]) -> Any:
    from seqrnn.api.tagger import Tagger

    return Tagger.load(run_dirs)


HOOK = ServeHook(what="tagging", load=_load, routes=ENDPOINT.routes, health=health,
                 ensemble=True)
