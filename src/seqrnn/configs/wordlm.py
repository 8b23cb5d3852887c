"""The word language model's data and architecture."""

from __future__ import annotations

from dataclasses import dataclass

from seqrnn.configs.checks import (
    normalise_fields,
    require_condition_data,
    require_condition_model,
    require_dropout,
    require_eval_tokens,
    require_path,
    require_positive,
)
from seqrnn.errors import field_error


@dataclass(frozen=True)
class WordLMData:
    """Which documents, how they are split and counted, and the truncated-BPTT layout.

    On IMDb the classifier's validation movies (drawn with the run's --seed and this
    val_fraction, as `seqrnn sentiment train` draws them) are held out of training.
    """

    data: str = "imdb"
    text_column: str | None = None
    encoding: str = "utf-8"
    val_fraction: float = 0.1
    min_freq: int = 2
    max_vocab: int | None = 30000
    batch_size: int = 64
    num_steps: int = 70  # ULMFiT's bptt
    eval_rows: int = 32
    # Validation tokens each evaluation during training scores: a fixed, seeded sample (None:
    # all of a validation stream up to data.stream.AUTO_EVAL_TOKENS, a sample of that many
    # beyond; 0: always all of it).
    eval_tokens: int | None = None
    # Condition the model on each document's value of this (seqrnn.data.conditions): IMDb's
    # rating or label, or a table's column.
    condition: str | None = None
    condition_dropout: float = 0.0  # documents that read the "none" condition instead

    def __post_init__(self) -> None:
        normalise_fields(self)
        require_path(data=self.data)
        require_condition_data(self.condition, self.condition_dropout)
        require_positive(batch_size=self.batch_size, num_steps=self.num_steps,
                         eval_rows=self.eval_rows, min_freq=self.min_freq)
        require_eval_tokens(self.eval_tokens)
        if self.max_vocab is not None:
            require_positive(max_vocab=self.max_vocab)
        if not 0 < self.val_fraction < 1:
            raise field_error("val_fraction", "{} must be above 0 and below 1, got "
                              f"{self.val_fraction}")


DEFAULT_CUTOFFS = (2000, 10000)  # the adaptive softmax's clusters on IMDb's 30,000 words


@dataclass(frozen=True)
class WordLMConfig:
    """Architecture of the word-level AWD-LSTM (seqrnn.models.wordlm); saved as JSON.

    Defaults are the README's language model for the IMDb classifier (the `imdb` preset):
    ULMFiT's AWD-LSTM (Howard & Ruder, 2018) cut to 2 x 512 on 256-wide embeddings, which a CPU
    trains well in minutes where fastai's 3 x 1152 on 400 reaches 49 steps in 8 minutes (and a
    classifier fine-tuned from that stays at chance: issue 31), with AWD-LSTM's five dropouts
    (Merity et al., 2018) scaled by ULMFiT's drop_mult 0.5. Its softmax is adaptive (Grave et
    al., 2017) where the vocabulary has more than 2,000 words.
    """

    vocab_size: int
    embedding_dim: int = 256
    hidden_size: int = 512
    num_layers: int = 2
    embedding_dropout: float = 0.01  # whole words, out of the embedding matrix
    input_dropout: float = 0.125  # locked, on the embeddings
    hidden_dropout: float = 0.075  # locked, between layers
    output_dropout: float = 0.05  # locked, before the decoder
    weight_dropout: float = 0.1  # DropConnect on each layer's hidden-to-hidden weights
    tie_weights: bool = True  # the decoder scores with the embedding matrix
    # Adaptive softmax: where each tail cluster starts; () a full softmax; None: those of
    # DEFAULT_CUTOFFS below the vocabulary's size (saved resolved).
    cutoffs: tuple[int, ...] | None = None
    conditions: int = 0  # condition vocabulary entries, "none" included (0: unconditioned)
    condition_dim: int = 16
    condition_mode: str = "input"  # checks.CONDITION_MODES

    def __post_init__(self) -> None:
        normalise_fields(self)
        require_condition_model(self.conditions, self.condition_dim, self.condition_mode)
        require_positive(vocab_size=self.vocab_size, embedding_dim=self.embedding_dim,
                         hidden_size=self.hidden_size, num_layers=self.num_layers)
        for name in ("embedding_dropout", "input_dropout", "hidden_dropout", "output_dropout",
                     "weight_dropout"):
            require_dropout(getattr(self, name), name)
        if self.cutoffs is None:
            cutoffs = tuple(c for c in DEFAULT_CUTOFFS if c < self.vocab_size)
            object.__setattr__(self, "cutoffs", cutoffs)
        bounds = (0, *self.cutoffs)
        if any(lo >= hi for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)):
            raise field_error("cutoffs", f"{{}} must increase from above 0, got "
                              f"{list(self.cutoffs)}")
        if self.cutoffs and self.cutoffs[-1] >= self.vocab_size:
            raise field_error("cutoffs", f"{{}} must stay below the vocabulary's {self.vocab_size}"
                              f" words, got {list(self.cutoffs)}: lower them, or keep more words")
