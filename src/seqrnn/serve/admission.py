"""Admission of the work whose cost a request chooses: generation and transduction."""

from __future__ import annotations

import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from anyio import CapacityLimiter, to_thread
from fastapi.responses import StreamingResponse

from seqrnn.serve.middleware import ApiError

RETRY_AFTER_SECONDS = 5
STREAMED: dict[int | str, dict[str, Any]] = {200: {"content": {"text/plain": {}}}}
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


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

    async def run_admitted(self, cost: int, function: Callable[[], Any]) -> Any:
        """`function()` in one of this admission's threads, holding `cost` units meanwhile
        (503 when they are not free)."""
        reservation = self.admit(cost)
        try:
            return await self.run(function)
        finally:
            self.release(reservation)

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


async def stream_response(admission: WorkAdmission, pieces: Iterator[str],
                          reservation: Reservation) -> StreamingResponse:
    """`pieces` (an iterator of text) as a text/plain stream, computed in the admission's
    threads; the first piece is computed now, so a UserError it raises is still a 4xx."""
    try:
        first = await admission.run(lambda: next(pieces, ""))
    except BaseException:
        admission.release(reservation)
        raise
    return StreamingResponse(admission.stream(first, pieces, reservation),
                             media_type="text/plain; charset=utf-8", headers=STREAM_HEADERS)
