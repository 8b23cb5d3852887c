"""What every vocabulary offers (WordVocab, CharVocab, SymbolVocab): its size, tokens to ids
and back, and its JSON as a run folder stores it.

Each class keeps its own JSON shape (old run folders still load); a run folder writes
`to_dict()` and loading reads it with `from_dict`, which refuses a damaged file with a
UserError. Encoding takes and decoding gives each vocabulary's natural unit: words, a text
of characters, or symbols.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Vocabulary(Protocol):
    def __len__(self) -> int: ...

    def encode(self, tokens: Any) -> Any: ...

    def decode(self, ids: Iterable[int]) -> Any: ...

    def to_dict(self) -> dict: ...

    @classmethod
    def from_dict(cls, data: dict) -> Vocabulary: ...
