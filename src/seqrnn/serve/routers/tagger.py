"""POST /api/tag: sentences in, each word's tag and the spans they make out; several run
folders tag as an ensemble."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter

from seqrnn.serve.hooks import Served, ServeHook
from seqrnn.serve.middleware import check_length, require
from seqrnn.serve.schemas import BUSY, ERRORS, TagRequest, TagResponse


def routes(served: Served) -> APIRouter:
    router = APIRouter()
    limits, admission = served.limits, served.admission

    @router.post("/api/tag", responses={**ERRORS, **BUSY},
                 summary="Tag the words of sentences and return the spans")
    async def tag(request: TagRequest) -> TagResponse:
        model = require(served.model, "tagging", "--tag")
        characters = sum(len(s) if isinstance(s, str) else sum(map(len, s))
                         for s in request.sentences)
        check_length("sentences", characters, limits.max_tag_chars, "--max-tag-chars")
        return await admission.run_admitted(1, lambda: TagResponse(results=model.predict(
            request.sentences, features=request.features)))

    return router


def health(model: Any) -> dict[str, Any]:
    return {"tag_features": len(model.vocab.features)}


def _load(run_dirs: list[Path]) -> Any:
    from seqrnn.api.tagger import Tagger

    return Tagger.load(run_dirs)


HOOK = ServeHook(what="tagging", load=_load, routes=routes, health=health, ensemble=True)
