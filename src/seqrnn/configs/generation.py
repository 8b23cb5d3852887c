"""How a language model chooses each next token."""

from __future__ import annotations

from dataclasses import dataclass

from seqrnn.configs.checks import (
    normalise_fields,
    require_positive,
)
from seqrnn.errors import field_error

MAX_BEAM = 64
MAX_STOPS = 16


@dataclass(frozen=True)
class Sampling:
    """How a language model chooses each next token, and when it stops early."""

    top_k: int = 5  # the lecture's get_top_char; 0: the whole vocabulary
    top_p: float = 1.0  # nucleus: the fewest most likely tokens holding this much probability
    temperature: float = 1.0
    greedy: bool = False
    beam: int = 1  # beam search with this many hypotheses; 1: sampling (or greedy)
    stop: tuple[str, ...] = ()  # generation ends after the first of these strings
    time_limit: float | None = None  # seconds; generation ends (whole tokens) after it
    # A conditioned model's condition: a value, or "value:weight,..." mixing several
    # (seqrnn.data.conditions); None: the "none" entry.
    condition: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.stop, str):  # one string is one stop, not a set of characters
            object.__setattr__(self, "stop", (self.stop,))
        if isinstance(self.condition, int) and not isinstance(self.condition, bool):
            object.__setattr__(self, "condition", str(self.condition))  # a rating, say
        normalise_fields(self)
        if self.top_k < 0:
            raise field_error("top_k", f"{{}} must be 0 (all) or positive, got {self.top_k}")
        require_positive(temperature=self.temperature, top_p=self.top_p)
        if self.top_p > 1:
            raise field_error("top_p", f"{{}} must be in (0, 1], got {self.top_p}")
        if not 1 <= self.beam <= MAX_BEAM:
            raise field_error("beam", f"{{}} must be between 1 and {MAX_BEAM}, got {self.beam}")
        if len(self.stop) > MAX_STOPS or not all(self.stop):
            raise field_error("stop", f"{{}} takes up to {MAX_STOPS} non-empty strings")
        if self.time_limit is not None:
            require_positive(time_limit=self.time_limit)
