"""The encoder-decoder's pairs and architecture."""

from __future__ import annotations

from dataclasses import dataclass

from seqrnn.configs.checks import (
    CELL_TYPES,
    normalise_fields,
    require_choice,
    require_dropout,
    require_fractions,
    require_path,
    require_positive,
)
from seqrnn.errors import field_error

ATTENTIONS = ("none", "additive", "dot")
TOKENS = ("chars", "space")  # a side of a pair: one token per character, or space-separated


@dataclass(frozen=True)
class Seq2SeqData:
    """Which pairs, how each side is cut into tokens, how they are split and batched.

    "cmudict" is the CMU Pronouncing Dictionary: spellings (characters) to pronunciations
    (space-separated phonemes), alternatives grouped under their word, stress marks removed
    unless `stress`. Any other value is a TSV, CSV or JSON-lines file of pairs.
    """

    data: str = "cmudict"
    source_column: str | None = None  # default: source, or the first column
    target_column: str | None = None  # default: target, or the second column
    format: str | None = None
    encoding: str = "utf-8"
    source_tokens: str = "chars"
    target_tokens: str = "space"
    stress: bool = False  # cmudict: keep the phonemes' stress digits (AH0, AH1)
    val_fraction: float = 0.05
    test_fraction: float = 0.1  # held out by source: no test word is ever trained on
    batch_size: int = 64
    max_length: int = 50  # tokens per side; longer pairs are refused when read

    def __post_init__(self) -> None:
        normalise_fields(self)
        require_path(data=self.data)
        require_fractions(self.val_fraction, self.test_fraction)
        if self.val_fraction == 0:
            raise field_error("val_fraction",
                              "{} must be above 0: training selects on validation error")
        require_choice("source_tokens", self.source_tokens, TOKENS)
        require_choice("target_tokens", self.target_tokens, TOKENS)
        require_positive(batch_size=self.batch_size, max_length=self.max_length)


@dataclass(frozen=True)
class Seq2SeqConfig:
    """An encoder-decoder (seqrnn.models.seq2seq); saved as JSON beside the weights."""

    source_vocab_size: int
    target_vocab_size: int
    cell: str = "lstm"
    embedding_dim: int = 64
    hidden_size: int = 256
    num_layers: int = 1
    bidirectional: bool = True  # the encoder's; the decoder reads left to right
    attention: str = "additive"
    dropout: float = 0.2

    def __post_init__(self) -> None:
        normalise_fields(self)
        require_positive(source_vocab_size=self.source_vocab_size,
                         target_vocab_size=self.target_vocab_size,
                         embedding_dim=self.embedding_dim, hidden_size=self.hidden_size,
                         num_layers=self.num_layers)
        require_dropout(self.dropout)
        require_choice("cell", self.cell, CELL_TYPES)
        require_choice("attention", self.attention, ATTENTIONS)
