"""The word language model: POST /api/wordlm, words streamed as text while they are generated,
with the character model's sampling options, limits and admission."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from seqrnn.data.tokenize import tokenize
from seqrnn.serve.admission import STREAMED, stream_response
from seqrnn.serve.hooks import Served, ServeHook
from seqrnn.serve.middleware import check_length, generation_length, require
from seqrnn.serve.schemas import BUSY, DEFAULT_WORDS, ERRORS, WordGenerateRequest


def routes(served: Served) -> APIRouter:
    router = APIRouter()
    limits, admission = served.limits, served.admission

    @router.post("/api/wordlm", responses={**ERRORS, **BUSY, **STREAMED},
                 response_class=StreamingResponse,
                 summary="Generate words, streamed as text/plain while they are generated")
    async def wordlm(request: WordGenerateRequest) -> StreamingResponse:
        lm = require(served.model, "word language", "--wordlm")
        check_length("prime", len(request.prime), limits.max_prime_chars, "--max-prime-chars")
        length = generation_length(request.length, DEFAULT_WORDS, limits.max_generate_length)
        reservation = admission.admit(request.beam)
        words = lm.stream(request.prime, length, top_k=request.top_k, top_p=request.top_p,
                          temperature=request.temperature, beam=request.beam,
                          stop=tuple(request.stop), time_limit=request.time_limit,
                          seed=request.seed, condition=request.condition)
        return await stream_response(admission, spaced(words, bool(tokenize(request.prime))),
                                     reservation)

    return router


def spaced(words: Iterator[str], after_text: bool) -> Iterator[str]:
    """The words as text that continues the prime: each after a space, but the first of a new
    document. Closing it closes `words` (a client that left ends the generation)."""
    try:
        for word in words:
            yield (" " if after_text else "") + word
            after_text = True
    finally:
        words.close()


def _load(run_dirs: list[Path]) -> Any:
    from seqrnn.api.wordlm import WordLanguageModel

    return WordLanguageModel.load(run_dirs[0])


HOOK = ServeHook(what="word language", load=_load, routes=routes)
