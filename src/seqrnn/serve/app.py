"""The web application: one page and a JSON API over trained models of every servable kind.

    GET  /                 the page (no external assets: it works offline)
    GET  /api/health       which models are loaded, and the limits
    POST /api/sentiment    {"text": ...} -> label, probability, and P(positive) after each word
    POST /api/generate     {"prime": ..., "length": ...} -> the generated text, streamed
    POST /api/inspect      {"text": ...} -> the language model's most readable cells on the text
    POST /api/wordlm       {"prime": ..., "length": ...} -> the word model's words, streamed
    POST /api/seq2seq      {"sources": [...], "beam": N} -> each output, and its attention

Models are loaded once, when the app is built; each kind's routes come from its router
(`seqrnn.serve.routers.serve_hooks`). Every client mistake is a 4xx answer with the JSON body
{"error": "..."}, plus "field": "..." when it is about one field of the request; no request
names a file on the server. Endpoints are plain `def` functions, so FastAPI runs them in its
thread pool and the event loop never waits on torch; generation and transduction, whose cost
a request chooses, are admitted by `WorkAdmission` and run in threads of their own, so health,
the classifier and inspection never wait behind them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from seqrnn import __version__
from seqrnn.api.loading import run_kind
from seqrnn.configs import ServeLimits
from seqrnn.errors import UserError
from seqrnn.serve import middleware
from seqrnn.serve.admission import WorkAdmission
from seqrnn.serve.hooks import Served
from seqrnn.serve.routers import serve_hooks
from seqrnn.serve.schemas import MAX_INSPECT_CELLS, HealthResponse

__all__ = ["Models", "WorkAdmission", "build_app", "create_app", "load_models"]
RunDirs = str | Path | Iterable[str | Path] | None


class Models(Mapping[str, Any]):
    """The loaded models by kind (`models.charlm`, or `models["charlm"]`); any may be absent,
    not all. Several runs of a kind that has ensembles are one model, their ensemble."""

    def __init__(self, **by_kind: Any):
        self._servable = tuple(serve_hooks())
        unknown = set(by_kind) - set(self._servable)
        if unknown:
            raise UserError(f"no kind of model is called {', '.join(sorted(unknown))}: the "
                            f"server serves {', '.join(self._servable)}")
        self._by_kind = {kind: model for kind, model in by_kind.items() if model is not None}

    def __getattr__(self, kind: str) -> Any:
        if kind.startswith("_") or kind not in self._servable:
            raise AttributeError(kind)
        return self._by_kind.get(kind)

    def __getitem__(self, kind: str) -> Any:
        return self._by_kind[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_kind)

    def __len__(self) -> int:
        return len(self._by_kind)


def _paths(run_dirs: RunDirs) -> list[Path]:
    if run_dirs is None:
        return []
    if isinstance(run_dirs, (str, Path)):
        return [Path(run_dirs)]
    return [Path(path) for path in run_dirs]


def load_runs(by_kind: Mapping[str, RunDirs] | None = None, runs: RunDirs = None) -> Models:
    """Load the models of run folders: `by_kind` names each folder's kind (the --<kind> flags),
    `runs` are read for theirs (--model). A kind's several folders are one ensemble, where the
    kind has one. UserError if none is given, or a folder is missing, damaged or not servable.
    """
    hooks = serve_hooks()
    grouped: dict[str, list[Path]] = {}
    for kind, run_dirs in (by_kind or {}).items():
        if kind not in hooks:
            raise UserError(f"no kind of model is called {kind}: the server serves "
                            f"{', '.join(hooks)}")
        grouped.setdefault(kind, []).extend(_paths(run_dirs))
    for path in _paths(runs):
        grouped.setdefault(run_kind(path, hooks, "seqrnn serve"), []).append(path)
    grouped = {kind: paths for kind, paths in grouped.items() if paths}
    if not grouped:
        raise UserError("give at least one model: --model RUN_DIR, or "
                        + ", ".join(f"--{kind} RUN_DIR" for kind in hooks))
    return Models(**{kind: hooks[kind].load_runs(kind, paths)
                     for kind, paths in grouped.items()})


def load_models(sentiment_dir: RunDirs = None, charlm_dir: RunDirs = None,
                seq2seq_dir: RunDirs = None, *, wordlm_dir: RunDirs = None,
                runs: RunDirs = None) -> Models:
    """Load the models from their run folders; UserError if a folder is missing or damaged."""
    return load_runs({"sentiment": sentiment_dir, "charlm": charlm_dir,
                      "seq2seq": seq2seq_dir, "wordlm": wordlm_dir}, runs)


def build_app(models: Models, limits: ServeLimits | None = None) -> FastAPI:
    """The FastAPI application over already loaded models: every kind's routes are mounted,
    answering 404 naming their flag where the kind was not loaded."""
    limits = limits or ServeLimits()
    hooks = serve_hooks()  # the kinds served, fixed when the app is built
    admission = WorkAdmission(limits.max_generation_work)
    page = resources.files("seqrnn.serve").joinpath("page.html").read_text(encoding="utf-8")
    app = FastAPI(
        title="seqrnn",
        version=__version__,
        description="Recurrent networks at work: a sentiment classifier that reads a review "
        "word by word, character and word language models that write, and an encoder-decoder "
        'that transduces. Errors are 4xx answers with the body {"error": "..."}, and "field" '
        "when one request field is wrong.",
    )
    middleware.install(app, limits.max_body_bytes)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return page

    @app.get("/api/health", summary="Which models are loaded, and the limits")
    def health() -> HealthResponse:
        fields: dict[str, Any] = {}  # each loaded kind's own (the others stay null)
        for kind, model in models.items():
            fields.update(hooks[kind].health(model))
        return HealthResponse(
            status="ok", version=__version__,
            models={kind: kind in models for kind in hooks},
            limits={**asdict(limits), "max_inspect_cells": MAX_INSPECT_CELLS}, **fields)

    for kind, hook in hooks.items():
        app.include_router(hook.routes(Served(kind, models.get(kind), limits, admission)))
    return app


def create_app(sentiment_dir: RunDirs = None, charlm_dir: RunDirs = None,
               seq2seq_dir: RunDirs = None, *, wordlm_dir: RunDirs = None,
               runs: RunDirs = None, limits: ServeLimits | None = None) -> FastAPI:
    """Load the models from their run folders and build the app (UserError on a bad folder)."""
    return build_app(load_models(sentiment_dir, charlm_dir, seq2seq_dir, wordlm_dir=wordlm_dir,
                                 runs=runs), limits)
