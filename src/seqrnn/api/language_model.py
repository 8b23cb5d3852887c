"""What the character and the word language models share: a model and its vocabulary read
from a run folder, the device they run on, and raw input answered by a sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from seqrnn.api.loading import load_trained
from seqrnn.kinds import VOCAB_FILE
from seqrnn.recipes.base import Recipe
from seqrnn.run import RunConfig


class TrainedLanguageModel:
    """A trained language model; a subclass names its `recipe` and defines `sample`."""

    recipe: ClassVar[Recipe]

    def __init__(self, model: nn.Module, vocab: Any, config: RunConfig | None = None):
        self.model = model.eval()
        self.vocab = vocab
        self.config = config  # its run's config.json (None: built in memory)

    @classmethod
    def load(cls, run_dir: str | Path, *, weights: str = "best", device: str = "cpu"):
        """The model of a run folder: its "best" (default) or "latest" weights."""
        loaded = load_trained(run_dir, cls.recipe, weights=weights, device=device)
        return cls(loaded.model, loaded.vocabularies[VOCAB_FILE], loaded.config)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def default_prime(self) -> str:
        """What a sample starts from when no prime is given: a new document."""
        return ""

    def predict(self, prime: str, **options) -> str:
        """Its answer to raw input (seqrnn.api.protocol.LoadedModel): `sample`'s."""
        return self.sample(prime, **options)
