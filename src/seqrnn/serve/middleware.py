"""What every request passes through: the body's size limit, and errors as {"error": ...}.

Every client mistake is a 4xx answer with the JSON body {"error": "..."}, plus "field": "..."
when it is about one field of the request.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from seqrnn.errors import UserError


class ApiError(Exception):
    """A client mistake (or a busy server): answered with `status` and {"error": message}."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def require(model: Any, kind: str, flag: str) -> Any:
    """`model`, or 404 naming the flag that loads one."""
    if model is None:
        raise ApiError(404, f"no {kind} model is loaded on this server: start it with "
                            f"`seqrnn serve {flag} RUN_DIR`")
    return model


def check_length(what: str, length: int, limit: int, flag: str, unit: str = "characters") -> None:
    """422 naming the serve flag that raises the limit when `what` is over it."""
    if length > limit:
        raise ApiError(422, f"the {what} is {length} {unit} long; this server accepts at "
                            f"most {limit} (seqrnn serve {flag})")


def generation_length(requested: int | None, default: int, limit: int) -> int:
    """The length a generation asks for (`default`, or the limit if lower, when it does not say);
    422 when it is over the limit."""
    length = requested or min(default, limit)
    if length > limit:
        raise ApiError(422, f"length {length} is over this server's limit of {limit} (seqrnn "
                            "serve --max-generate-length)")
    return length


def describe_validation(exc: RequestValidationError) -> tuple[int, str]:
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


def install(app: FastAPI, max_body_bytes: int) -> None:
    """The body limit and the error handlers, on `app`."""

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
        status, message = describe_validation(exc)
        return JSONResponse({"error": message}, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": f"{exc.detail} ({request.method} {request.url.path})"},
                            status_code=exc.status_code, headers=exc.headers)

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)


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
