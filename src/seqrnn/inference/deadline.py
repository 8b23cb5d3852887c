"""The time limit of a generation, read on one clock.

`clock` is time.monotonic; a test replaces it (seqrnn.inference.deadline.clock) to move time
on at will instead of waiting for it.
"""

from __future__ import annotations

import time

clock = time.monotonic


def deadline_after(seconds: float | None) -> float | None:
    """The moment, on `clock`, `seconds` from now; None (no limit) for None."""
    return None if seconds is None else clock() + seconds


def passed(deadline: float | None) -> bool:
    """Whether `deadline` (from deadline_after) has come; never for None."""
    return deadline is not None and clock() >= deadline
