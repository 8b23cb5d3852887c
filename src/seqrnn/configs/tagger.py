"""The sequence tagger's architecture: a BiLSTM over words, characters and feature columns, with
a CRF or a softmax on top (Huang et al., 2015; Lample et al., 2016)."""

from __future__ import annotations

from dataclasses import dataclass

from seqrnn.configs.checks import (
    CELL_TYPES,
    normalise_fields,
    require_choice,
    require_dropout,
    require_positive,
)
from seqrnn.errors import UserError, field_error

DECODERS = ("crf", "softmax")

# Fields the data decides, named in words (no flag sets them), as checks names vocab_size.
_DATA_FIELDS = {"char_vocab_size": "character vocab size", "num_tags": "number of tags",
                "feature_vocab_sizes": "feature vocab sizes"}


@dataclass(frozen=True)
class TaggerConfig:
    """A BiLSTM tagger (seqrnn.models.tagger); saved as JSON beside the weights.

    Each word is read as its embedding, its characters' final BiLSTM states (`char_hidden` per
    direction; 0: no character encoder), one embedding per extra feature column (a POS tag, say)
    and, with `char_lm_dim` above 0, a vector of that width from frozen character language
    models. The tag constraint (no I- tag without its B-) is not configuration: the model holds
    it as buffers, saved with the weights.
    """

    vocab_size: int  # words, id 0 padding
    char_vocab_size: int  # characters, id 0 padding
    num_tags: int
    feature_vocab_sizes: tuple[int, ...]  # one per feature column, id 0 padding; may be empty
    word_dim: int = 100
    char_dim: int = 25
    char_hidden: int = 25
    feature_dim: int = 16
    cell: str = "lstm"
    hidden_size: int = 200  # per direction
    num_layers: int = 1
    dropout: float = 0.5
    decoder: str = "crf"
    char_lm_dim: int = 0

    def __post_init__(self) -> None:
        normalise_fields(self)
        require_positive(vocab_size=self.vocab_size)
        for name in ("char_vocab_size", "num_tags"):
            if getattr(self, name) < 1:
                raise UserError(f"{_DATA_FIELDS[name]} must be positive, got "
                                f"{getattr(self, name)}", fields=(name,))
        if any(size < 1 for size in self.feature_vocab_sizes):
            raise UserError(f"{_DATA_FIELDS['feature_vocab_sizes']} must be positive, got "
                            f"{list(self.feature_vocab_sizes)}", fields=("feature_vocab_sizes",))
        require_positive(word_dim=self.word_dim, char_dim=self.char_dim,
                         feature_dim=self.feature_dim, hidden_size=self.hidden_size,
                         num_layers=self.num_layers)
        for name in ("char_hidden", "char_lm_dim"):
            if getattr(self, name) < 0:
                raise field_error(name, f"{{}} must be zero (none) or positive, got "
                                  f"{getattr(self, name)}")
        require_dropout(self.dropout)
        require_choice("cell", self.cell, CELL_TYPES)
        require_choice("decoder", self.decoder, DECODERS)
