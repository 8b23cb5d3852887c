"""The sentiment classifier's data and architecture."""

from __future__ import annotations

from dataclasses import dataclass

from seqrnn.configs.checks import (
    BATCHINGS,
    CELL_TYPES,
    HEADS,
    IMPLS,
    INITS,
    normalise_fields,
    require_choice,
    require_dropout,
    require_fractions,
    require_path,
    require_positive,
)
from seqrnn.configs.wordlm import WordLMConfig
from seqrnn.errors import UserError, field_error


@dataclass(frozen=True)
class SentimentData:
    """Where the reviews come from, how they become batches. Defaults are the lecture's."""

    data: str = "imdb"
    text_column: str | None = None
    label_column: str | None = None
    format: str | None = None
    encoding: str = "utf-8"
    val_fraction: float = 0.1
    test_fraction: float = 0.2  # tables only; IMDb keeps its official test set
    on_empty: str = "skip"
    min_freq: int = 1
    max_vocab: int | None = None
    batching: str = "bucket"
    seq_len: int = 200
    batch_size: int = 100
    pretrained: str | None = None  # a word language model's run folder: its encoder and vocab

    def __post_init__(self) -> None:
        normalise_fields(self)
        require_path(data=self.data, pretrained=self.pretrained)
        require_choice("batching", self.batching, BATCHINGS)
        require_positive(seq_len=self.seq_len, batch_size=self.batch_size)
        if not 0 < self.val_fraction < 1:
            raise field_error("val_fraction", "{} must be above 0 and below 1, "
                              f"got {self.val_fraction}")
        require_fractions(self.val_fraction, self.test_fraction)  # a table's test rows
        if self.text_column is not None and self.text_column == self.label_column:
            raise UserError(f"{{text_column}} and {{label_column}} are both {self.text_column!r}"
                            ": the model would read its own labels; name two columns",
                            fields=("text_column", "label_column"))


@dataclass(frozen=True)
class SentimentConfig:
    """Architecture; saved as JSON beside the weights. Defaults are the lecture's."""

    vocab_size: int
    embedding_dim: int = 256
    cell: str = "lstm"
    hidden_size: int = 128
    num_layers: int = 1
    dropout: float = 0.5  # the lecture's keep probability 0.5
    word_dropout: float = 0.0  # drop whole words' embeddings while training
    bidirectional: bool = False
    head: str = "last"
    uniform_init: bool = False  # the lecture's embedding init: uniform in [-1, 1]
    sparse_embedding: bool = True  # sparse gradients: the optimizer touches only used rows
    impl: str = "fused"  # torch's fused layers, or seqrnn's explicit cells (for teaching)
    init: str = "torch"  # torch's default initialisation, which the README's figures used
    # A pretrained word language model's encoder shape (seqrnn.models.finetuned): it then
    # replaces the embedding and recurrent fields above; the head pools it last/max/mean.
    lm: WordLMConfig | None = None
    head_hidden: int = 50  # units of the head's hidden layer on a pretrained encoder

    def __post_init__(self) -> None:
        normalise_fields(self)
        require_positive(vocab_size=self.vocab_size, embedding_dim=self.embedding_dim,
                         hidden_size=self.hidden_size, num_layers=self.num_layers)
        require_dropout(self.dropout)
        require_dropout(self.word_dropout, "word_dropout")
        require_choice("cell", self.cell, CELL_TYPES)
        require_choice("head", self.head, HEADS)
        require_choice("impl", self.impl, IMPLS)
        require_choice("init", self.init, INITS)
        require_positive(head_hidden=self.head_hidden)
        if isinstance(self.lm, dict):  # config.json reads back a dict
            object.__setattr__(self, "lm", WordLMConfig(**self.lm))
