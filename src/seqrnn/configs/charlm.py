"""The character language model's data and architecture."""

from __future__ import annotations

from dataclasses import dataclass

from seqrnn.configs.checks import (
    CELL_TYPES,
    CHARLM_INPUTS,
    IMPLS,
    normalise_fields,
    require_choice,
    require_condition_data,
    require_condition_model,
    require_dropout,
    require_eval_tokens,
    require_fractions,
    require_path,
    require_positive,
)
from seqrnn.errors import UserError, field_error


@dataclass(frozen=True)
class CharLMData:
    """Which text, how it is split, and the truncated-BPTT layout. Defaults are the lecture's."""

    text: str = "hamlet"
    encoding: str = "utf-8"
    val_fraction: float = 0.1
    test_fraction: float = 0.0
    batch_size: int = 64
    num_steps: int = 100
    eval_rows: int = 32
    # Validation tokens each evaluation during training scores: a fixed, seeded sample (None:
    # all of a validation stream up to data.stream.AUTO_EVAL_TOKENS, a sample of that many
    # beyond; 0: always all of it).
    eval_tokens: int | None = None
    reverse: bool = False  # read every split back to front: a backward model, for tagging
    # Condition the model on each document's value of this (seqrnn.data.conditions): IMDb's
    # rating or label, or a table's column; the text is then that source's documents.
    condition: str | None = None
    condition_dropout: float = 0.0  # documents that read the "none" condition instead

    def __post_init__(self) -> None:
        normalise_fields(self)
        require_path(text=self.text)
        require_fractions(self.val_fraction, self.test_fraction)
        require_positive(batch_size=self.batch_size, num_steps=self.num_steps,
                         eval_rows=self.eval_rows)
        require_eval_tokens(self.eval_tokens)
        require_condition_data(self.condition, self.condition_dropout)
        if self.condition is not None and self.test_fraction > 0:
            raise UserError("{test_fraction} cuts the end of one text; a conditioned model reads "
                            "documents, whose only held-out part is {val_fraction}: drop "
                            "{test_fraction}", fields=("test_fraction", "val_fraction"))
        if self.val_fraction == 0:
            raise field_error("val_fraction",
                              "{} must be above 0: training selects on validation loss")


@dataclass(frozen=True)
class CharLMConfig:
    """Architecture; saved as JSON beside the weights. Defaults are the lecture's."""

    vocab_size: int
    cell: str = "lstm"
    hidden_size: int = 128
    num_layers: int = 1
    dropout: float = 0.5  # the lecture's keep probability 0.5
    input: str = "onehot"
    embedding_dim: int = 64
    impl: str = "fused"
    conditions: int = 0  # condition vocabulary entries, "none" included (0: unconditioned)
    condition_dim: int = 16
    condition_mode: str = "input"  # checks.CONDITION_MODES

    def __post_init__(self) -> None:
        normalise_fields(self)
        require_positive(vocab_size=self.vocab_size, hidden_size=self.hidden_size,
                         num_layers=self.num_layers, embedding_dim=self.embedding_dim)
        require_dropout(self.dropout)
        require_choice("cell", self.cell, CELL_TYPES)
        require_choice("input", self.input, CHARLM_INPUTS)
        require_choice("impl", self.impl, IMPLS)
        require_condition_model(self.conditions, self.condition_dim, self.condition_mode)
