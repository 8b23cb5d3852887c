"""POST /api/seq2seq: each source's output (spelling to sound, for a G2P model), and its
attention; several run folders decode as an ensemble."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqrnn.configs import ServeLimits
from seqrnn.serve.endpoint import Endpoint
from seqrnn.serve.hooks import ServeHook
from seqrnn.serve.middleware import check_length
from seqrnn.serve.schemas import Seq2SeqRequest, Seq2SeqResponse, Transduction


def plan(model: Any, request: Seq2SeqRequest, limits: ServeLimits):
    for source in request.sources:
        check_length("source", len(source), limits.max_source_chars, "--max-source-chars")
    return len(request.sources) * request.beam, lambda: transduce(model, request)


ENDPOINT = Endpoint("/api/seq2seq", "Transduce sources (spell to sound, for a G2P model)",
                    Seq2SeqRequest, Seq2SeqResponse, "sequence-to-sequence", "--seq2seq", plan)


def transduce(model: Any, request: Seq2SeqRequest) -> Seq2SeqResponse:
    """The answer of /api/seq2seq: each output, and with `attention` its weights."""
    outputs = model.predict(request.sources, request.beam)
    results = []
    for source, output in zip(request.sources, outputs, strict=True):
        result = Transduction(source=source, output=output)
        if request.attention:
            source_tokens, output_tokens, weights = model.attention(source, request.beam)
            result = Transduction(source=source, output=output,
                                  source_tokens=source_tokens, output_tokens=output_tokens,
                                  attention=np.round(weights, 4).tolist())
        results.append(result)
    return Seq2SeqResponse(results=results)


def _load(run_dirs: list[Path]) -> Any:
    from seqrnn.api.seq2seq import Transducer

    return Transducer.load(run_dirs)


HOOK = ServeHook(what="sequence-to-sequence", load=_load, routes=ENDPOINT.routes,
                 ensemble=True)
