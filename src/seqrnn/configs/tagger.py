"""The sequence tagger's data and architecture: a BiLSTM over words, characters and feature
columns, with a CRF or a softmax on top (Huang et al., 2015; Lample et al., 2016)."""

from __future__ import annotations

from dataclasses import dataclass

from seqrnn.configs import checks
from seqrnn.configs.charlm import CharLMConfig
from seqrnn.errors import UserError, field_error

DECODERS = ("crf", "softmax")
TAG_SCHEMES = ("iob1", "iob2", "bioes")  # seqrnn.data.tag_schemes.SCHEMES, torch- and data-free
TAG_FORMATS = ("conll", "jsonl")


@dataclass(frozen=True)
class TaggerData:
    """Which tagged sentences, how their tags are read and trained, how they are batched.

    `data` is a corpus read from its NLTK archive with its official splits ("conll2000",
    "conll2002-es", "conll2002-nl"; the part of speech is their feature column), or a file of
    training sentences in CoNLL columns or JSON lines, with `validation` and `test` files beside
    it (without `validation`, `val_fraction` of the training sentences, seeded, is held out).
    Tags are read in `input_scheme` (a corpus's: IOB2) and trained in `scheme`. `char_lm` and
    `char_lm_backward` are character language model runs (the second trained with --reverse)
    whose states become part of each word (Akbik et al. 2018); a new run copies them.
    """

    data: str = "conll2000"
    validation: str | None = None  # a file's validation sentences
    test: str | None = None  # a file's test sentences: read by evaluate, never by training
    format: str | None = None  # conll or jsonl (default: jsonl for .jsonl/.json, else conll)
    word_column: int = 0  # CoNLL columns, counted from 0 (a negative one from the end)
    tag_column: int = -1
    feature_columns: tuple[int, ...] = ()  # e.g. the part of speech; JSON lines: feature_keys
    feature_keys: tuple[str, ...] = ()
    input_scheme: str = "iob2"
    scheme: str = "bioes"
    val_fraction: float = 0.1
    lowercase: bool = True  # the word embeddings read lowercased words, digits as 0
    batch_size: int = 32
    max_word_length: int = 30  # characters of a word its encoder reads (the rest are cut)
    char_lm: str | None = None  # a charlm run folder
    char_lm_backward: str | None = None  # a charlm run folder trained with --reverse

    def __post_init__(self) -> None:
        checks.normalise_fields(self)
        checks.require_path(data=self.data, char_lm=self.char_lm,
                            char_lm_backward=self.char_lm_backward)
        if not 0.0 < self.val_fraction < 1.0:
            raise field_error("val_fraction", f"{{}} must be above 0 and below 1, got "
                              f"{self.val_fraction}")
        checks.require_choice("input_scheme", self.input_scheme, TAG_SCHEMES)
        checks.require_choice("scheme", self.scheme, TAG_SCHEMES)
        if self.format is not None:
            checks.require_choice("format", self.format, TAG_FORMATS)
        checks.require_positive(batch_size=self.batch_size, max_word_length=self.max_word_length)

# Fields the data decides, named in words (no flag sets them), as checks names vocab_size.
_DATA_FIELDS = {"char_vocab_size": "character vocab size", "num_tags": "number of tags",
                "feature_vocab_sizes": "feature vocab sizes"}


@dataclass(frozen=True)
class TaggerConfig:
    """A BiLSTM tagger (seqrnn.models.tagger); saved as JSON beside the weights.

    Each word is read as its embedding, its characters' final BiLSTM states (`char_hidden` per
    direction; 0: no character encoder), one embedding per extra feature column (a POS tag, say)
    and the states of character language models over the sentence (`forward_lm`, `backward_lm`:
    either or both, their shared characters `lm_chars` in id order), frozen unless
    `char_lm_fine_tune`. The tag constraint (no I- tag without its B-) is not configuration:
    the model holds it as buffers, saved with the weights.
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
    forward_lm: CharLMConfig | None = None
    backward_lm: CharLMConfig | None = None
    lm_chars: str = ""
    char_lm_fine_tune: bool = False

    def __post_init__(self) -> None:
        checks.normalise_fields(self)
        checks.require_positive(vocab_size=self.vocab_size)
        for name in ("char_vocab_size", "num_tags"):
            if getattr(self, name) < 1:
                raise UserError(f"{_DATA_FIELDS[name]} must be positive, got "
                                f"{getattr(self, name)}", fields=(name,))
        if any(size < 1 for size in self.feature_vocab_sizes):
            raise UserError(f"{_DATA_FIELDS['feature_vocab_sizes']} must be positive, got "
                            f"{list(self.feature_vocab_sizes)}", fields=("feature_vocab_sizes",))
        checks.require_positive(word_dim=self.word_dim, char_dim=self.char_dim,
                         feature_dim=self.feature_dim, hidden_size=self.hidden_size,
                         num_layers=self.num_layers)
        if self.char_hidden < 0:
            raise field_error("char_hidden", f"{{}} must be zero (none) or positive, got "
                              f"{self.char_hidden}")
        self._check_char_lms()
        checks.require_dropout(self.dropout)
        checks.require_choice("cell", self.cell, checks.CELL_TYPES)
        checks.require_choice("decoder", self.decoder, DECODERS)

    def _check_char_lms(self) -> None:
        for name in ("forward_lm", "backward_lm"):
            lm = getattr(self, name)
            if isinstance(lm, dict):  # config.json reads back a dict
                object.__setattr__(self, name, lm := CharLMConfig(**lm))
            if lm is not None and lm.vocab_size != len(self.lm_chars):
                raise field_error(name, f"{{}} reads {lm.vocab_size} characters but "
                                  f"lm_chars lists {len(self.lm_chars)}")
        if self.lm_chars and self.forward_lm is None and self.backward_lm is None:
            raise field_error("lm_chars", "{} is for character language models: give one")

    @property
    def char_lm_dim(self) -> int:
        """Width of the character language models' part of each word."""
        return sum(lm.hidden_size for lm in (self.forward_lm, self.backward_lm) if lm)
