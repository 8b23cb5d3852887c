"""The vocabulary of one side of a sequence-to-sequence pair: characters, or phonemes.

Ids, as the embeddings see them: 0 padding, 1 the start of a target (what the decoder reads
before its first token), 2 the end (what it writes after its last), then the symbols in sorted
order, so a data set always gives the same ids. There is no unknown symbol: a source with a
symbol the model never saw cannot be read faithfully, and is refused with the symbol named.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from seqrnn.data.ids import index_tokens, unseen
from seqrnn.errors import UserError

PAD_ID, BOS_ID, EOS_ID = 0, 1, 2
FIRST_SYMBOL_ID = 3


@dataclass(frozen=True)
class SymbolVocab:
    """Symbols and their ids: id FIRST_SYMBOL_ID + i stands for `symbols[i]`."""

    symbols: tuple[str, ...]
    _ids: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        symbols, ids = index_tokens(self.symbols, FIRST_SYMBOL_ID, "symbol")
        if not symbols:
            raise ValueError("a symbol vocabulary needs at least one symbol")
        object.__setattr__(self, "symbols", symbols)
        object.__setattr__(self, "_ids", ids)

    @classmethod
    def build(cls, sequences: Iterable[Sequence[str]]) -> SymbolVocab:
        return cls(tuple(sorted({symbol for sequence in sequences for symbol in sequence})))

    def __len__(self) -> int:
        return FIRST_SYMBOL_ID + len(self.symbols)

    def unknown(self, sequence: Sequence[str]) -> list[str]:
        """The symbols of `sequence` outside the vocabulary, sorted, each once."""
        return unseen(sequence, self._ids)

    def encode(self, sequence: Sequence[str], *, what: str = "the source") -> list[int]:
        unknown = self.unknown(sequence)
        if unknown:
            raise UserError(f"{what} {''.join(sequence)!r} has symbols the model never saw: "
                            f"{unknown}; remove or replace them")
        return [self._ids[symbol] for symbol in sequence]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Symbols of `ids`, up to the first end id; padding and start ids are skipped."""
        out = []
        for i in ids:
            if i == EOS_ID:
                break
            if i >= FIRST_SYMBOL_ID:
                out.append(self.symbols[i - FIRST_SYMBOL_ID])
        return out

    def to_dict(self) -> dict:
        return {"kind": "symbols", "pad_id": PAD_ID, "bos_id": BOS_ID, "eos_id": EOS_ID,
                "symbols": list(self.symbols)}

    @classmethod
    def from_dict(cls, data: dict) -> SymbolVocab:
        symbols = data.get("symbols") if isinstance(data, dict) else None
        if not isinstance(symbols, list) or not all(isinstance(s, str) and s for s in symbols):
            raise UserError("the saved symbol vocabulary is damaged (it needs a list of "
                            "non-empty strings under \"symbols\"): restore it or retrain")
        try:
            if symbols != sorted(symbols):  # as build makes it: reordered, every id would shift
                raise ValueError("the symbols are not in sorted order")
            return cls(tuple(symbols))
        except ValueError as exc:
            raise UserError(f"the saved symbol vocabulary is damaged ({exc}): restore it or "
                            "retrain") from None
