"""A kind's one POST route, declared as data: its path, its request and response models, and
how a request is planned (checked against the limits, sized, answered). The forecaster, the
encoder-decoder and the tagger each have one such route; `routes` builds its router."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter

from seqrnn.configs import ServeLimits
from seqrnn.serve.hooks import Served
from seqrnn.serve.middleware import require
from seqrnn.serve.schemas import BUSY, ERRORS

# (the loaded model, the request, the limits) -> (the work units the request takes under
# admission, the function that computes its answer)
Plan = Callable[[Any, Any, ServeLimits], tuple[int, Callable[[], Any]]]


@dataclass(frozen=True)
class Endpoint:
    path: str
    summary: str
    request: type
    response: type
    what: str  # how a 404 names the model: "no {what} model is loaded"
    flag: str  # the serve flag that loads one
    plan: Plan

    def routes(self, served: Served) -> APIRouter:
        """The router answering POST `path` with the served model (404 without one)."""
        router = APIRouter()

        async def answer(request):
            model = require(served.model, self.what, self.flag)
            work, compute = self.plan(model, request, served.limits)
            return await served.admission.run_admitted(work, compute)

        # FastAPI reads the models from the annotations: set here, as each endpoint's own.
        answer.__annotations__ = {"request": self.request, "return": self.response}
        router.post(self.path, responses={**ERRORS, **BUSY}, summary=self.summary,
                    response_model=self.response)(answer)
        return router
