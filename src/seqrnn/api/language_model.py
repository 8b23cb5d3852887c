"""What the character and the word language models share: a model and its vocabulary read
from a run folder, the device they run on, and raw input answered by a sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from seqrnn.api.loading import load_trained
from seqrnn.data.identity import check_unchanged
from seqrnn.errors import UserError
from seqrnn.kinds import VOCAB_FILE
from seqrnn.recipes.stream import StreamRecipe, stream_loss
from seqrnn.run import RunConfig, RunFolder


class TrainedLanguageModel:
    """A trained language model; a subclass names its `recipe` and defines `sample`."""

    recipe: ClassVar[StreamRecipe]
    scored: ClassVar[str]  # what evaluate counts: "characters", "words"

    def __init__(self, model: nn.Module, vocab: Any, config: RunConfig | None = None,
                 run_dir: Path | None = None):
        self.model = model.eval()
        self.vocab = vocab
        self.config = config  # its run's config.json (None: built in memory)
        self.run_dir = run_dir  # the run folder it was loaded from (None: built in memory)

    @classmethod
    def load(cls, run_dir: str | Path, *, weights: str = "best", device: str = "cpu"):
        """The model of a run folder: its "best" (default) or "latest" weights."""
        loaded = load_trained(run_dir, cls.recipe, weights=weights, device=device)
        return cls(loaded.model, loaded.vocabularies[VOCAB_FILE], loaded.config, Path(run_dir))

    def evaluate_validation(self, *, progress: bool = False,
                            allow_changed_data: bool = False) -> dict:
        """The loss of the run's whole validation split, cut into rows and windows as training
        evaluates it (which, on a large corpus, scores a fixed sample: `eval_tokens`), read a
        window at a time from the prepared corpus. Data changed since the run read it is
        refused, unless `allow_changed_data`."""
        recipe = self.recipe
        if self.run_dir is None or self.config is None or self.config.data is None \
                or self.config.loop is None:
            raise UserError("this model has no training run to take a validation split from "
                            "(it was built in memory, or saved without its data): give a "
                            "text to evaluate")
        run = RunFolder(self.run_dir)
        data = run.build_config(recipe.data_config, self.config.data, "data")
        location = getattr(data, recipe.data_field)
        check_unchanged((self.config.sources or {}).get(recipe.data_field), None, location,
                        run=run.path, field=recipe.data_field, allow_changed=allow_changed_data)
        raw = recipe.read(data, self.config.loop.get("seed", 0), progress)
        val_ids = recipe.prepare(raw, data, False, saved=run).sets.val
        objective = recipe.objective_class
        total, count = stream_loss(self.model, objective.loss_sum, val_ids, data.num_steps,
                                   data.eval_rows, progress=progress)
        return {**objective.metrics(total, count), self.scored: count, "split": "validation"}

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def default_prime(self) -> str:
        """What a sample starts from when no prime is given: a new document."""
        return ""

    def predict(self, prime: str, **options) -> str:
        """Its answer to raw input (seqrnn.api.protocol.LoadedModel): `sample`'s."""
        return self.sample(prime, **options)
