"""The web application: one page and a JSON API over a sentiment classifier and a language model.

    GET  /                 the page (no external assets: it works offline)
    GET  /api/health       which models are loaded, and the limits
    POST /api/sentiment    {"text": ...} -> label, probability, and P(positive) after each word
    POST /api/generate     {"prime": ..., "length": ...} -> the generated text, streamed
    POST /api/inspect      {"text": ...} -> the language model's most readable cells on the text
    POST /api/seq2seq      {"sources": [...], "beam": N} -> each output, and its attention

Models are loaded once, when the app is built. Every client mistake is a 4xx answer with the
JSON body {"error": "..."}, plus "field": "..." when it is about one field of the request; no
request names a file on the server. Endpoints are plain `def` functions, so FastAPI runs them
in its thread pool and the event loop never waits on torch; generation and transduction, whose
cost a request chooses, are admitted by `WorkAdmission` and run in threads of their own, so
health, the classifier and inspection never wait behind them.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from anyio import CapacityLimiter, to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from seqrnn import __version__
from seqrnn.configs import MAX_BEAM, MAX_SEQ2SEQ_SOURCES, MAX_STOPS, SEED_LIMIT, ServeLimits
from seqrnn.errors import UserError
from seqrnn.metrics import DECISION_THRESHOLD, NO_EVIDENCE

_TOP_MOVERS = 5
DEFAULT_GENERATE_LENGTH = 200
MAX_GENERATE_SECONDS = 60  # a client wanting longer asks again with the text so far
# Generated characters go out in chunks of up to this many, at least this often: each chunk
# costs a hop to the event loop's thread and a network write, which one character does not repay.
MAX_INSPECT_CELLS = 16


@dataclass(frozen=True)
class Models:
    """The loaded models; any may be absent, not all."""

    sentiment: Any = None  # a seqrnn.api.sentiment.SentimentClassifier
    charlm: Any = None  # a seqrnn.api.charlm.LanguageModel
    seq2seq: Any = None  # a seqrnn.api.seq2seq.Transducer


def load_models(sentiment_dir: str | Path | None = None,
                charlm_dir: str | Path | None = None,
                seq2seq_dir: str | Path | None = None) -> Models:
    """Load the models from their run folders; UserError if a folder is missing or damaged."""
    if sentiment_dir is None and charlm_dir is None and seq2seq_dir is None:
        raise UserError("give at least one model: --sentiment RUN_DIR, --charlm RUN_DIR "
                        "and/or --seq2seq RUN_DIR")
    sentiment = charlm = transducer = None
    if sentiment_dir is not None:
        from seqrnn.api.sentiment import SentimentClassifier

        sentiment = SentimentClassifier.load(sentiment_dir)
    if charlm_dir is not None:
        from seqrnn.api.charlm import LanguageModel

        charlm = LanguageModel.load(charlm_dir)
    if seq2seq_dir is not None:
        from seqrnn.api.seq2seq import Transducer

        transducer = Transducer.load(seq2seq_dir)
    return Models(sentiment=sentiment, charlm=charlm, seq2seq=transducer)


class ApiError(Exception):
    """A client mistake (or a busy server): answered with `status` and {"error": message}."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


RETRY_AFTER_SECONDS = 5


@dataclass
class Reservation:
    """Units of work admitted for one request, held until `WorkAdmission.release`."""

    cost: int
    released: bool = False


class WorkAdmission:
    """Admits generation and transduction up to `capacity` units of work at once.

    A request that does not fit is answered 503 with Retry-After at once, rather than queued
    behind work of unbounded length. Admitted work runs in this admission's own threads (one
    per unit at most), never in the thread pool the other endpoints share: those answer in
    milliseconds however much generation is under way. A request costing more than the
    capacity is admitted when it is alone.
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.threads = CapacityLimiter(capacity)
        self._used = 0
        self._lock = threading.Lock()

    def admit(self, cost: int) -> Reservation:
        """Reserve `cost` units (at most the capacity), or answer 503."""
        cost = min(cost, self.capacity)
        with self._lock:
            if self._used + cost > self.capacity:
                raise ApiError(503, f"the server is busy with {self._used} of its "
                               f"{self.capacity} units of generation work (seqrnn serve "
                               f"--max-generation-work): retry in {RETRY_AFTER_SECONDS} s",
                               headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
            self._used += cost
        return Reservation(cost)

    def release(self, reservation: Reservation) -> None:
        """Give `reservation`'s units back; a second release of it does nothing."""
        with self._lock:
            if not reservation.released:
                reservation.released = True
                self._used -= reservation.cost

    async def run(self, function: Callable[[], Any]) -> Any:
        """`function()` in one of this admission's threads."""
        return await to_thread.run_sync(function, limiter=self.threads)

    def stream(self, first: str, pieces: Iterator[str],
               reservation: Reservation) -> AsyncIterator[str]:
        """`first`, then `pieces`, each computed in this admission's threads; `reservation` is
        released at the end, whether the stream ended, failed or its client left, and also
        when the body is dropped unread (a client gone before the response started: then no
        finally of it runs)."""
        body = self._stream(first, pieces, reservation)
        weakref.finalize(body, self.release, reservation)
        return body

    async def _stream(self, first: str, pieces: Iterator[str], reservation: Reservation):
        try:
            yield first
            while (piece := await self.run(lambda: next(pieces, None))) is not None:
                yield piece
        finally:
            try:
                pieces.close()
            finally:  # a close that fails must not keep the units: 503 for ever after
                self.release(reservation)


class ErrorResponse(BaseModel):
    error: str = Field(description="What was wrong with the request, and how to fix it.")
    field: str | None = Field(None, description="The request field the error is about; absent "
                              "when it is not about one field.")


def _unicode_text(text: str) -> str:
    """JSON may escape half of a surrogate pair alone: no character, and no answer could echo it."""
    for position, ch in enumerate(text):
        if "\ud800" <= ch <= "\udfff":
            raise ValueError(f"holds a lone surrogate (U+{ord(ch):04X}) at character {position}, "
                             "which is no character: send valid Unicode text")
    return text


UnicodeText = Annotated[str, AfterValidator(_unicode_text)]


class StrictRequest(BaseModel):
    """A request body: unknown fields refused, and no value coerced to a field's type (no true
    for a number, no "5" for 5, no "yes" for true), as the README's 422 promises."""

    model_config = ConfigDict(extra="forbid", strict=True)


class SentimentRequest(StrictRequest):
    text: UnicodeText = Field(description="The review to classify (at most the server's "
                      "max_review_chars characters, see /api/health).",
                      examples=["A wonderful film, with a clumsy ending."])


class SentimentResponse(BaseModel):
    label: str = Field(description="The predicted label: one of `classes`.")
    probability: float = Field(description="The probability of the predicted label.")
    positive_probability: float = Field(description="P(positive): the probability of classes[1].")
    classes: list[str] = Field(description="The two labels, negative first.")
    tokens: list[str] = Field(description="The words the model read, in order.")
    prefix_probabilities: list[float] = Field(
        description="P(positive) after reading each prefix: entry i is the prediction after "
        "tokens[0..i]. The many-to-one reading, made visible. Exact at `scored_prefixes`; "
        "between them (long reviews, bidirectional models) the last exact value is held.")
    scored_prefixes: list[int] = Field(
        description="The entries of prefix_probabilities scored exactly (every one, for a "
        "unidirectional model on a review it reads at once).")
    curve: str = Field(description="How the curve was computed, in words.")
    changes: list[float] = Field(
        description="How much each token moved P(positive): prefix_probabilities[i] minus the "
        "entry before it (minus 0.5, no evidence, for the first token).")
    top_movers: list[int] = Field(
        description=f"Indices of the (up to {_TOP_MOVERS}) tokens with the largest |change|, "
        "largest first.")


class GenerateRequest(StrictRequest):
    prime: UnicodeText = Field(
        description="Text the generation starts from; every character must be in the model's "
        "vocabulary. It is not repeated in the answer.", examples=["The "])
    length: int | None = Field(
        None, ge=1, description=f"Characters to generate: at most the server's "
        f"max_generate_length; default {DEFAULT_GENERATE_LENGTH}, or that limit if it is lower.")
    temperature: float = Field(1.0, gt=0, allow_inf_nan=False,
                               description="Below 1 is more conservative, above 1 more "
                               "adventurous.")
    top_k: int = Field(5, ge=0, description="Draw from the k most likely characters; 0: all.")
    top_p: float = Field(1.0, gt=0, le=1, allow_inf_nan=False,
                         description="Nucleus sampling: draw from the fewest most likely "
                         "characters whose probabilities add up to top_p; 1: off.")
    beam: int = Field(1, ge=1, le=MAX_BEAM,
                      description="Beam search with this many hypotheses: the most likely text "
                      "by mean log-probability per character, deterministic (top_k, top_p, "
                      "temperature and seed do not apply); 1: sample.")
    stop: list[UnicodeText] = Field(
        [], max_length=MAX_STOPS, description="The generation ends after the first of these "
        "strings (each 1 to 100 characters).")
    time_limit: float | None = Field(None, gt=0, le=MAX_GENERATE_SECONDS, allow_inf_nan=False,
                                     description="The generation ends after this many seconds.")
    seed: int | None = Field(None, ge=0, lt=SEED_LIMIT,
                             description="Random seed, for a repeatable generation.")

    @field_validator("stop")
    @classmethod
    def _stops_are_short(cls, stops: list[str]) -> list[str]:
        if any(not 1 <= len(stop) <= 100 for stop in stops):
            raise ValueError("each stop string must have 1 to 100 characters")
        return stops


class InspectRequest(StrictRequest):
    text: UnicodeText = Field(description="Text for the language model to read (at most the "
                              "server's max_inspect_chars characters).")
    cells: int = Field(4, ge=1, le=MAX_INSPECT_CELLS, description="How many cells to pick.")
    state: Literal["c", "h"] | None = Field(
        None, description="Colour by the LSTM cell state c (as tanh(c)) or the hidden state h; "
        "default: c for an LSTM, h otherwise.")


class InspectedCell(BaseModel):
    layer: int = Field(description="Layer, counted from 0.")
    unit: int = Field(description="Cell within the layer, counted from 0.")
    feature: str = Field(description="The text feature this cell correlates with most.")
    description: str = Field(description="What the feature means.")
    correlation: float = Field(description="Pearson r of the activation with the feature.")
    activations: list[float] = Field(description="The activation after each character of "
                                     "`text`, in [-1, 1].")


class InspectResponse(BaseModel):
    text: str = Field(description="The text that was read (characters the model never saw "
                      "are left out).")
    state: str = Field(description="c or h: which state the activations are.")
    dropped_chars: list[str] = Field(description="Characters left out of the text.")
    cells: list[InspectedCell]


class Seq2SeqRequest(StrictRequest):
    sources: list[UnicodeText] = Field(
        min_length=1, max_length=MAX_SEQ2SEQ_SOURCES,
        description=f"Up to {MAX_SEQ2SEQ_SOURCES} sources (words, for a G2P model), each "
        "with symbols the model has seen.", examples=[["seqrnn", "pronounce"]])
    beam: int = Field(1, ge=1, le=MAX_BEAM, description="Beam search with this many "
                      "hypotheses per source; 1: greedy.")
    attention: bool = Field(False, description="Also return the attention weights of each "
                            "output (a model with attention only).")


class Transduction(BaseModel):
    source: str
    output: str = Field(description="The output, tokens joined as the training data joins "
                        "them.")
    source_tokens: list[str] | None = Field(None, description="With attention: the source's "
                                            "tokens.")
    output_tokens: list[str] | None = Field(None, description="With attention: the output's "
                                            "tokens, then the end token.")
    attention: list[list[float]] | None = Field(
        None, description="With attention: row i is where the decoder looked to write "
        "output token i, one weight per source token (each row sums to 1).")


class Seq2SeqResponse(BaseModel):
    results: list[Transduction]


class HealthResponse(BaseModel):
    status: Literal["ok"]
    version: str
    models: dict[str, bool] = Field(description="Which models are loaded: sentiment, charlm, "
                                    "seq2seq.")
    limits: dict[str, int] = Field(description="The server's limits on one request.")
    classes: list[str] | None = Field(description="The sentiment labels, negative first.")
    default_prime: str | None = Field(description="A prime the language model can read.")


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 404, 413, 422)
}
_BUSY: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorResponse, "description": "Busy: too much generation work is under "
          "way (seqrnn serve --max-generation-work); retry after the Retry-After seconds."}
}


class BodyLimit:
    """ASGI middleware: a body over `max_bytes` gets 413, and is never read past the limit.

    A declared Content-Length is refused before any of the body is read; a chunked body
    is read here, counting, and handed to the app whole only once it has ended in time.
    """

    def __init__(self, app: Any, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        chunks, size, first = [], 0, None
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                first = message
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        first = first or {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        pending = [first]

        async def replay() -> dict:
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: dict, receive: Any, send: Any) -> None:
        response = JSONResponse({"error": f"the request body is over {self.max_bytes} bytes: "
                                 "send a shorter text"}, status_code=413)
        await response(scope, receive, send)


def _require(model: Any, kind: str, flag: str) -> Any:
    if model is None:
        raise ApiError(404, f"no {kind} model is loaded on this server: start it with "
                            f"`seqrnn serve {flag} RUN_DIR`")
    return model


def _check_length(what: str, length: int, limit: int, flag: str) -> None:
    if length > limit:
        raise ApiError(422, f"the {what} is {length} characters long; this server accepts at "
                            f"most {limit} (seqrnn serve {flag})")


def _describe_validation(exc: RequestValidationError) -> tuple[int, str]:
    """A status and one line for pydantic's list of errors: 400 for unreadable JSON."""
    problems = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            where = error["loc"][-1] if len(error["loc"]) > 1 else "?"
            reason = error.get("ctx", {}).get("error", "invalid JSON")
            return 400, f"malformed JSON at character {where}: {reason}"
        field = ".".join(str(part) for part in error["loc"] if part != "body")
        if not field:  # the body as a whole: absent, not JSON, or not an object
            problems.append("the request needs a JSON object body "
                            "(Content-Type: application/json)")
        else:
            problems.append(f"{field}: {error['msg']}")
    return 422, "; ".join(problems)


def _sentiment(clf: Any, text: str) -> SentimentResponse:
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
        top_movers=np.argsort(-np.abs(changes), kind="stable")[:_TOP_MOVERS].tolist(),
    )


def build_app(models: Models, limits: ServeLimits | None = None) -> FastAPI:
    """The FastAPI application over already loaded models."""
    limits = limits or ServeLimits()
    admission = WorkAdmission(limits.max_generation_work)
    # Concurrent generations are stepped together in one worker thread: one core at most,
    # so the classifier's answers keep the other.
    sampler = None
    if models.charlm is not None:
        from seqrnn.api.shared_sampler import SharedSampler

        sampler = SharedSampler(models.charlm)
    page = resources.files("seqrnn.serve").joinpath("page.html").read_text(encoding="utf-8")
    app = FastAPI(
        title="seqrnn",
        version=__version__,
        description="Recurrent networks at work: a sentiment classifier that reads a review "
        "word by word, and a character language model that writes. Errors are 4xx answers "
        'with the body {"error": "..."}, and "field" when one request field is wrong.',
    )

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> JSONResponse:
        # Fields are spelled as the JSON fields of the request, which share the library's names.
        body = {"error": exc.render(str)}
        if exc.field is not None:
            body["field"] = exc.field
        return JSONResponse(body, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, message = _describe_validation(exc)
        return JSONResponse({"error": message}, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": f"{exc.detail} ({request.method} {request.url.path})"},
                            status_code=exc.status_code, headers=exc.headers)

    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return page

    @app.get("/api/health", summary="Which models are loaded, and the limits")
    def health() -> HealthResponse:
        return HealthResponse(
            status="ok", version=__version__,
            models={"sentiment": models.sentiment is not None,
                    "charlm": models.charlm is not None, "seq2seq": models.seq2seq is not None},
            limits={**asdict(limits), "max_inspect_cells": MAX_INSPECT_CELLS},
            classes=None if models.sentiment is None else [str(c) for c in
                                                           models.sentiment.classes_],
            default_prime=None if models.charlm is None else models.charlm.default_prime(),
        )

    @app.post("/api/sentiment", responses=_ERRORS,
              summary="Classify a review, with the prediction after every word")
    def sentiment(request: SentimentRequest) -> SentimentResponse:
        clf = _require(models.sentiment, "sentiment", "--sentiment")
        _check_length("review", len(request.text), limits.max_review_chars,
                      "--max-review-chars")
        if not request.text.strip():
            raise ApiError(422, "the review is empty: send some text")
        return _sentiment(clf, request.text)

    @app.post("/api/generate", responses={**_ERRORS, **_BUSY,
                                          200: {"content": {"text/plain": {}}}},
              response_class=StreamingResponse,
              summary="Generate text, streamed as text/plain while it is generated")
    async def generate(request: GenerateRequest) -> StreamingResponse:
        lm = _require(models.charlm, "language", "--charlm")
        _check_length("prime", len(request.prime), limits.max_prime_chars, "--max-prime-chars")
        length = request.length or min(DEFAULT_GENERATE_LENGTH, limits.max_generate_length)
        if length > limits.max_generate_length:
            raise ApiError(422, f"length {length} is over this server's limit of "
                                f"{limits.max_generate_length} (seqrnn serve "
                                "--max-generate-length)")
        lm.check_prime(request.prime)  # the model's own rule, worded for the web by user_error
        reservation = admission.admit(request.beam)
        chars = sampler.stream(request.prime, length, top_k=request.top_k, top_p=request.top_p,
                          temperature=request.temperature, beam=request.beam,
                          stop=tuple(request.stop), time_limit=request.time_limit,
                          seed=request.seed)
        try:  # reads the prime now, so any UserError is still a 4xx answer
            first = await admission.run(lambda: next(chars, ""))
        except BaseException:
            admission.release(reservation)
            raise

        return StreamingResponse(
            admission.stream(first, chars, reservation), media_type="text/plain; charset=utf-8",
            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )

    @app.post("/api/inspect", responses=_ERRORS,
              summary="The language model's most readable cells on a short text")
    def inspect(request: InspectRequest) -> InspectResponse:
        from seqrnn.analysis.inspect_cells import inspect as inspect_text

        lm = _require(models.charlm, "language", "--charlm")
        _check_length("text", len(request.text), limits.max_inspect_chars,
                      "--max-inspect-chars")
        return InspectResponse(**inspect_text(lm, request.text, cells=request.cells,
                                              state=request.state).to_dict())

    @app.post("/api/seq2seq", responses={**_ERRORS, **_BUSY},
              summary="Transduce sources (spell to sound, for a G2P model)")
    async def seq2seq(request: Seq2SeqRequest) -> Seq2SeqResponse:
        model = _require(models.seq2seq, "sequence-to-sequence", "--seq2seq")
        for source in request.sources:
            _check_length("source", len(source), limits.max_source_chars, "--max-source-chars")
        reservation = admission.admit(len(request.sources) * request.beam)
        try:
            return await admission.run(lambda: _transduce(model, request))
        finally:
            admission.release(reservation)

    return app


def _transduce(model: Any, request: Seq2SeqRequest) -> Seq2SeqResponse:
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


def create_app(sentiment_dir: str | Path | None = None, charlm_dir: str | Path | None = None,
               seq2seq_dir: str | Path | None = None, *,
               limits: ServeLimits | None = None) -> FastAPI:
    """Load the models from their run folders and build the app (UserError on a bad folder)."""
    return build_app(load_models(sentiment_dir, charlm_dir, seq2seq_dir), limits)
