"""Every configuration a user chooses, as frozen dataclasses, in one torch-free module.

Each model reads its config and never changes it; the config is saved as JSON
beside the weights. Keeping these free of torch lets the command line build
its parser, defaults and help text without importing torch.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import types
import typing
from dataclasses import asdict, dataclass, replace
from functools import cache
from typing import Any

from seqrnn.errors import UserError, field_error
from seqrnn.paths import given_path

CELL_TYPES = ("rnn", "lstm", "gru")  # seqrnn.nn.CELL_TYPES maps each to its cell class
LR_SCHEDULES = ("constant", "cosine", "slanted")
CHARLM_INPUTS = ("onehot", "embedding")
IMPLS = ("fused", "explicit")
INITS = ("cells", "torch")  # seqrnn.nn.make_recurrent: the cells' initialisation, or torch's
HEADS = ("last", "max", "mean")
BATCHINGS = ("bucket", "fixed")
AMP_CHOICES = ("auto", "on", "off")  # bfloat16 autocast; auto: where the device has bf16 units


def normalise_fields(config: Any) -> None:
    """Give each field of the dataclass `config` its declared type: numpy's scalars (a grid
    search over np.arange) become Python's int, float and bool, a sequence a tuple; a value of
    another type (True for a count, "8" for a size, 5 for a path) is a UserError naming the
    field."""
    for name, hint in _field_types(type(config)).items():
        value = getattr(config, name)
        optional = type(None) in typing.get_args(hint)
        fitted = _WRONG if value is None and not optional else _as_type(value, _plain(hint))
        if fitted is _WRONG:
            raise UserError(f"{_named(name)} must be {_type_words(_plain(hint))}, got {value!r}",
                            fields=(name,))
        if fitted is not value:
            object.__setattr__(config, name, fitted)


_WRONG = object()  # what _as_type returns for a value that is not of the declared type


@cache
def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _plain(hint: Any) -> Any:
    """`hint` without its None: int | None -> int."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


def _is_bool(value: Any) -> bool:
    """Python's bool or numpy's (numpy's is no numbers.Integral, yet counts as one in math)."""
    return isinstance(value, bool) or (type(value).__module__ == "numpy"
                                       and type(value).__name__ in ("bool", "bool_"))


def _as_type(value: Any, hint: Any) -> Any:
    """`value` as the type `hint` declares (bool, int, float, str or a tuple of one of them), or
    _WRONG; fields of other types as given."""
    if value is None:
        return value
    if hint is str:
        return value if isinstance(value, str) else _WRONG
    if hint is bool:
        return bool(value) if _is_bool(value) else _WRONG
    if hint in (int, float) and _is_bool(value):
        return _WRONG
    if hint is int:
        return int(value) if isinstance(value, numbers.Integral) else _WRONG
    if hint is float:
        if not isinstance(value, numbers.Real):
            return _WRONG
        try:
            return float(value)
        except OverflowError:  # an int beyond any float: the finiteness checks name it
            return math.inf
    if typing.get_origin(hint) is tuple:
        if isinstance(value, str | dict):  # iterable, but no list
            return _WRONG
        try:
            items = tuple(_as_type(item, typing.get_args(hint)[0]) for item in value)
        except TypeError:  # not a sequence
            return _WRONG
        return _WRONG if any(item is _WRONG for item in items) else items
    return value


_TYPE_WORDS = {int: ("a whole number", "whole numbers"), float: ("a number", "numbers"),
               bool: ("true or false", "true or false values"), str: ("a string", "strings")}


def _type_words(hint: Any) -> str:
    """How a message names type `hint`: "a whole number", "a list of strings"."""
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        return f"a list of {_TYPE_WORDS[item][1] if item in _TYPE_WORDS else item}"
    return _TYPE_WORDS[hint][0] if hint in _TYPE_WORDS else str(hint)


SEED_LIMIT = 2**32  # seeds are 0 .. 2**32 - 1, what every generator seqrnn uses accepts


FLOAT32_MAX = 3.4028234663852886e38  # the models compute in float32: a larger number overflows


def require_finite(**values: float) -> None:
    """UserError about the first field that is NaN, infinite, or too large for float32."""
    for name, value in values.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"{_named(name)} must be a finite number, got {value}",
                            fields=(name,))
        if isinstance(value, float) and abs(value) > FLOAT32_MAX:
            raise UserError(f"{_named(name)} must be at most {FLOAT32_MAX:.1e} in size (the "
                            f"models compute in float32), got {value}", fields=(name,))


def require_positive(**values: float) -> None:
    """UserError about the first field whose value is not a positive (finite) number."""
    require_finite(**values)
    for name, value in values.items():
        if value <= 0:
            raise UserError(f"{_named(name)} must be positive, got {value}", fields=(name,))


def require_seed(seed: int) -> int:
    """`seed` as a Python int (numpy's integers too); UserError if it is no seed."""
    number = _as_type(seed, int)
    if number is _WRONG:
        raise field_error("seed", f"{{}} must be a whole number, got {seed!r}")
    if not 0 <= number < SEED_LIMIT:
        raise field_error("seed", f"{{}} must be between 0 and {SEED_LIMIT - 1}, got {number}")
    return number


def require_path(**values: str | None) -> None:
    """UserError about the first field that is an empty path (seqrnn.paths.given_path)."""
    for name, value in values.items():
        if value is not None:
            given_path(value, name)


def require_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UserError(f"unknown {_named(name)} {value!r}: use one of {', '.join(allowed)}",
                        fields=(name,))


def require_dropout(dropout: float, name: str = "dropout") -> None:
    if not 0 <= dropout < 1:
        raise UserError(f"{_named(name)} must be in [0, 1), got {dropout}", fields=(name,))


def require_fractions(val_fraction: float, test_fraction: float) -> None:
    """Validation and test fractions of a split: each in [0, 1), leaving training data."""
    for name, fraction in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= fraction < 1.0:
            raise field_error(name, f"{{}} must be at least 0 and below 1, got {fraction}")
    if val_fraction + test_fraction >= 1.0:
        raise UserError(f"{{val_fraction}} {val_fraction} and {{test_fraction}} {test_fraction} "
                        "leave no training text; make their sum below 1",
                        fields=("val_fraction", "test_fraction"))


# Fields the data decides, not a flag: named in words, which no front end respells.
_IN_WORDS = {"vocab_size": "vocab size"}


def _named(name: str) -> str:
    """How a message names field `name`: its words, or a placeholder for a front end to spell."""
    return _IN_WORDS.get(name, "{" + name + "}")


@dataclass(frozen=True)
class TrainConfig:
    """How to train; the model's own shape lives in the model's config."""

    epochs: int = 100
    minutes: float | None = None
    max_steps: int | None = None
    lr: float = 1e-3
    lr_schedule: str = "constant"
    min_lr_fraction: float = 0.1
    warmup_steps: int = 0
    clip: float = 5.0
    ema_decay: float | None = None  # evaluate and keep an average of the weights; None: off
    eval_every: int = 0
    patience: int | None = None
    log_every: int = 10
    seed: int = 1
    device: str = "auto"
    threads: int | None = None  # None: torch's choice, or 1 per process under torchrun
    amp: str = "auto"  # bfloat16 autocast: auto, on or off (seqrnn.trainer.process.resolve_amp)
    progress: bool = True
    weight_decay: float = 0.0  # decoupled (AdamW-style) weight decay on dense parameters
    # Fine-tuning (ULMFiT) on models with layer groups: each lower group's lr is divided by
    # layer_lr_decay, and with unfreeze_epochs k only the top group trains at first, one
    # more group joins every k epochs.
    layer_lr_decay: float = 1.0
    unfreeze_epochs: int = 0

    def __post_init__(self) -> None:
        if _is_bool(self.amp):  # runs saved before auto, and Python's amp=True
            object.__setattr__(self, "amp", "on" if self.amp else "off")
        normalise_fields(self)
        require_choice("amp", self.amp, AMP_CHOICES)
        require_positive(epochs=self.epochs, lr=self.lr, clip=self.clip,
                         log_every=self.log_every, layer_lr_decay=self.layer_lr_decay)
        require_finite(weight_decay=self.weight_decay)
        require_seed(self.seed)
        if self.weight_decay < 0 or self.unfreeze_epochs < 0:
            raise UserError("{weight_decay} and {unfreeze_epochs} must be zero or positive",
                            fields=("weight_decay", "unfreeze_epochs"))
        optional = {"minutes": self.minutes, "max_steps": self.max_steps,
                    "patience": self.patience, "threads": self.threads}
        require_positive(**{k: v for k, v in optional.items() if v is not None})
        if self.eval_every < 0 or self.warmup_steps < 0:
            raise UserError("{eval_every} and {warmup_steps} must be zero or positive",
                            fields=("eval_every", "warmup_steps"))
        require_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        if not 0 <= self.min_lr_fraction <= 1:
            raise field_error("min_lr_fraction", "{} must be between 0 and 1")
        require_choice("device", self.device, ("auto", "cpu", "cuda"))
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            raise field_error("ema_decay", "{} must be between 0 and 1 (e.g. 0.995), "
                              f"got {self.ema_decay}")


# What --resume may change: the budget and where and how visibly it runs, not the training.
RESUMABLE = frozenset({"epochs", "minutes", "max_steps", "progress", "device", "threads"})


def refuse_on_resume(changed: set[str]) -> None:
    """UserError naming the fields of `changed`: a resumed run keeps its configuration."""
    if changed:
        fields = tuple(sorted(changed))
        listed = ", ".join(_named(name) for name in fields)
        raise UserError(f"--resume keeps the run's configuration; drop {listed}", fields=fields)


def resumed_loop(saved: TrainConfig, **overrides) -> TrainConfig:
    """The saved TrainConfig with the budget or cosmetics changed; anything else is refused."""
    refuse_on_resume(set(overrides) - RESUMABLE)
    return replace(saved, **overrides)


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

    def __post_init__(self) -> None:
        normalise_fields(self)
        require_path(text=self.text)
        require_fractions(self.val_fraction, self.test_fraction)
        require_positive(batch_size=self.batch_size, num_steps=self.num_steps,
                         eval_rows=self.eval_rows)
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

    def __post_init__(self) -> None:
        normalise_fields(self)
        require_positive(vocab_size=self.vocab_size, hidden_size=self.hidden_size,
                         num_layers=self.num_layers, embedding_dim=self.embedding_dim)
        require_dropout(self.dropout)
        require_choice("cell", self.cell, CELL_TYPES)
        require_choice("input", self.input, CHARLM_INPUTS)
        require_choice("impl", self.impl, IMPLS)


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


@dataclass(frozen=True)
class GradientStudyConfig:
    """What `seqrnn gradients` measures (seqrnn.analysis.gradients explains the study).

    Its messages name each setting in words, as the command has always printed them; the
    fields still say which setting is wrong.
    """

    radii: tuple[float, ...] = (0.5, 1.0, 1.5)  # Elman: spectral radius of W_hh
    forget_biases: tuple[float, ...] = (0.0, 1.0, 4.0)  # LSTM: b_f; f = σ(b_f) at rest
    lstm_radius: float = 0.5  # LSTM: spectral radius of each W_h*
    elman_input_scale: float = 0.0  # std of W_xh x(t); 0 keeps the Elman at rest
    lstm_input_scale: float = 1.0  # std of each gate's W_x* x(t)
    steps: int = 100  # largest distance t - k
    hidden_size: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        normalise_fields(self)
        if self.steps < 1:
            raise UserError(f"steps must be at least 1, got {self.steps}", fields=("steps",))
        if self.hidden_size < 1:
            raise UserError(f"hidden size must be at least 1, got {self.hidden_size}",
                            fields=("hidden_size",))
        if not self.radii and not self.forget_biases:
            raise UserError("nothing to measure: give at least one radius or forget bias",
                            fields=("radii", "forget_biases"))
        require_seed(self.seed)
        for name in ("radii", "forget_biases"):
            for value in getattr(self, name):
                require_finite(**{name: value})
        require_finite(lstm_radius=self.lstm_radius, elman_input_scale=self.elman_input_scale,
                       lstm_input_scale=self.lstm_input_scale)
        for radius in self.radii:
            if radius <= 0:
                raise UserError(f"radius {radius} must be positive (0 zeroes every gradient)",
                                fields=("radii",))
        for name, words in (("radii", "radius"), ("forget_biases", "forget bias")):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise UserError(f"each {words} may be given once, got {list(values)}",
                                fields=(name,))
        checks = (
            ("lstm_radius", "LSTM radius"),
            ("elman_input_scale", "Elman input scale"),
            ("lstm_input_scale", "LSTM input scale"),
        )
        for name, words in checks:
            value = getattr(self, name)
            if value < 0:
                raise UserError(f"{words} must be 0 or more, got {value}", fields=(name,))


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

    def __post_init__(self) -> None:
        if isinstance(self.stop, str):  # one string is one stop, not a set of characters
            object.__setattr__(self, "stop", (self.stop,))
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


MAX_SEQ2SEQ_SOURCES = 64  # per request to POST /api/seq2seq

# JSON may spell one character as a 12-byte surrogate-pair escape; bodies above this many bytes
# per allowed character (plus room for the other fields) are refused before they are parsed.
_BYTES_PER_CHAR = 12
_BODY_SLACK = 4096


@dataclass(frozen=True)
class ServeLimits:
    """What one request to `seqrnn serve` may ask for, and all of them at once; its flags set
    them."""

    max_review_chars: int = 5000
    max_generate_length: int = 2000
    max_prime_chars: int = 500
    max_inspect_chars: int = 2000
    max_source_chars: int = 100  # per source of POST /api/seq2seq
    # Hypotheses generated or transduced at once, all requests together: a sample counts 1,
    # a beam its width, a transduction its sources times its beam. Beyond it: 503.
    max_generation_work: int = MAX_BEAM

    def __post_init__(self) -> None:
        normalise_fields(self)
        for name, value in asdict(self).items():
            if value < 1:
                raise field_error(name, f"{{}} must be at least 1, got {value}")

    @property
    def max_body_bytes(self) -> int:
        longest = max(self.max_review_chars, self.max_prime_chars, self.max_inspect_chars,
                      MAX_SEQ2SEQ_SOURCES * self.max_source_chars)
        return _BYTES_PER_CHAR * longest + _BODY_SLACK


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

    def __post_init__(self) -> None:
        normalise_fields(self)
        require_path(data=self.data)
        require_positive(batch_size=self.batch_size, num_steps=self.num_steps,
                         eval_rows=self.eval_rows, min_freq=self.min_freq)
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

    def __post_init__(self) -> None:
        normalise_fields(self)
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
