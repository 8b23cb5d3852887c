"""The character language model: POST /api/generate (streamed text) and POST /api/inspect
(its most readable cells on a text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from seqrnn.serve.admission import STREAMED, stream_response
from seqrnn.serve.hooks import Served, ServeHook
from seqrnn.serve.middleware import check_length, generation_length, require
from seqrnn.serve.schemas import (
    BUSY,
    DEFAULT_GENERATE_LENGTH,
    ERRORS,
    GenerateRequest,
    InspectRequest,
    InspectResponse,
)


def routes(served: Served) -> APIRouter:
    router = APIRouter()
    limits, admission = served.limits, served.admission
    # Concurrent generations are stepped together in one worker thread: one core at most,
    # so the classifier's answers keep the other.
    sampler = None
    if served.model is not None:
        from seqrnn.api.shared_sampler import SharedSampler

        sampler = SharedSampler(served.model)

    @router.post("/api/generate", responses={**ERRORS, **BUSY, **STREAMED},
                 response_class=StreamingResponse,
                 summary="Generate text, streamed as text/plain while it is generated")
    async def generate(request: GenerateRequest) -> StreamingResponse:
        lm = require(served.model, "language", "--charlm")
        check_length("prime", len(request.prime), limits.max_prime_chars, "--max-prime-chars")
        length = generation_length(request.length, DEFAULT_GENERATE_LENGTH,
                                   limits.max_generate_length)
        lm.check_prime(request.prime)  # the model's own rule, worded for the web by user_error
        reservation = admission.admit(request.beam)
        chars = sampler.stream(request.prime, length, top_k=request.top_k, top_p=request.top_p,
                               temperature=request.temperature, beam=request.beam,
                               stop=tuple(request.stop), time_limit=request.time_limit,
                               seed=request.seed, condition=request.condition)
        return await stream_response(admission, chars, reservation)

    @router.post("/api/inspect", responses=ERRORS,
                 summary="The language model's most readable cells on a short text")
    def inspect(request: InspectRequest) -> InspectResponse:
        from seqrnn.analysis.inspect_cells import inspect as inspect_text

        lm = require(served.model, "language", "--charlm")
        check_length("text", len(request.text), limits.max_inspect_chars,
                     "--max-inspect-chars")
        return InspectResponse(**inspect_text(lm, request.text, cells=request.cells,
                                              state=request.state).to_dict())

    return router


def _load(run_dirs: list[Path]) -> Any:
    from seqrnn.api.charlm import LanguageModel

    return LanguageModel.load(run_dirs[0])


HOOK = ServeHook(what="language", load=_load, routes=routes,
                 health=lambda lm: {"default_prime": lm.default_prime()})
