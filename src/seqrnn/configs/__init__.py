"""Every configuration a user chooses, as frozen dataclasses, torch-free.

Each model reads its config and never changes it; the config is saved as JSON beside the
weights. Keeping these free of torch lets the command line build its parser, defaults and help
text without importing torch. One module per task (charlm, sentiment, wordlm, seq2seq), the
training loop's (loop), generation's, the server's limits, the gradient study's, and the
checks they share (checks); every name is importable from here.
"""

from seqrnn.configs.charlm import (
    CharLMConfig,
    CharLMData,
)
from seqrnn.configs.checks import (
    AMP_CHOICES,
    BATCHINGS,
    CELL_TYPES,
    CHARLM_INPUTS,
    FLOAT32_MAX,
    HEADS,
    IMPLS,
    INITS,
    LR_SCHEDULES,
    SEED_LIMIT,
    normalise_fields,
    require_choice,
    require_dropout,
    require_finite,
    require_fractions,
    require_path,
    require_positive,
    require_seed,
)
from seqrnn.configs.generation import (
    MAX_BEAM,
    MAX_STOPS,
    Sampling,
)
from seqrnn.configs.gradients import (
    GradientStudyConfig,
)
from seqrnn.configs.loop import (
    RESUMABLE,
    TrainConfig,
    refuse_on_resume,
    resumed_loop,
)
from seqrnn.configs.sentiment import (
    SentimentConfig,
    SentimentData,
)
from seqrnn.configs.seq2seq import (
    ATTENTIONS,
    TOKENS,
    Seq2SeqConfig,
    Seq2SeqData,
)
from seqrnn.configs.serving import (
    MAX_SEQ2SEQ_SOURCES,
    ServeLimits,
)
from seqrnn.configs.wordlm import (
    DEFAULT_CUTOFFS,
    WordLMConfig,
    WordLMData,
)

__all__ = [
    "CELL_TYPES",
    "LR_SCHEDULES",
    "CHARLM_INPUTS",
    "IMPLS",
    "INITS",
    "HEADS",
    "BATCHINGS",
    "AMP_CHOICES",
    "normalise_fields",
    "SEED_LIMIT",
    "FLOAT32_MAX",
    "require_finite",
    "require_positive",
    "require_seed",
    "require_path",
    "require_choice",
    "require_dropout",
    "require_fractions",
    "TrainConfig",
    "RESUMABLE",
    "refuse_on_resume",
    "resumed_loop",
    "CharLMData",
    "CharLMConfig",
    "SentimentData",
    "SentimentConfig",
    "GradientStudyConfig",
    "MAX_BEAM",
    "MAX_STOPS",
    "Sampling",
    "MAX_SEQ2SEQ_SOURCES",
    "ServeLimits",
    "WordLMData",
    "DEFAULT_CUTOFFS",
    "WordLMConfig",
    "ATTENTIONS",
    "TOKENS",
    "Seq2SeqData",
    "Seq2SeqConfig",
]
