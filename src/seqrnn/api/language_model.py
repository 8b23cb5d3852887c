"""What the character and the word language models share: a model and its vocabulary read
from a run folder, the device they run on, and raw input answered by a sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from seqrnn.api.loading import load_trained
from seqrnn.data.conditions import ConditionVocab
from seqrnn.data.identity import check_unchanged
from seqrnn.errors import UserError
from seqrnn.kinds import CONDITIONS_FILE, VOCAB_FILE
from seqrnn.nn.conditioning import WithCondition
from seqrnn.recipes.stream import StreamRecipe, stream_loss
from seqrnn.run import RunConfig, RunFolder


class TrainedLanguageModel:
    """A trained language model; a subclass names its `recipe` and defines `sample`."""

    recipe: ClassVar[StreamRecipe]
    scored: ClassVar[str]  # what evaluate counts: "characters", "words"

    def __init__(self, model: nn.Module, vocab: Any, config: RunConfig | None = None,
                 conditions: ConditionVocab | None = None, run_dir: Path | None = None):
        """`conditions`: the condition vocabulary of a conditioned model (--condition)."""
        if (conditions is None) != (model.config.conditions == 0) or (
                conditions is not None and len(conditions) != model.config.conditions):
            found = 0 if conditions is None else len(conditions)
            raise UserError(f"the model has {model.config.conditions} condition entries but its "
                            f"condition vocabulary {found}: restore its {CONDITIONS_FILE}, or "
                            "retrain")
        self.model = model.eval()
        self.vocab = vocab
        self.config = config  # its run's config.json (None: built in memory)
        self.conditions = conditions
        self.run_dir = run_dir  # the run folder it was loaded from (None: built in memory)

    @property
    def loss_sum(self) -> Any:
        """The summed loss of logits against targets, as its training objective scores it."""
        return self.recipe.objective_class.loss_sum

    @classmethod
    def load(cls, run_dir: str | Path, *, weights: str = "best", device: str = "cpu"):
        """The model of a run folder: its "best" (default) or "latest" weights."""
        loaded = load_trained(run_dir, cls.recipe, weights=weights, device=device)
        conditions = None
        if loaded.model.config.conditions:
            conditions = ConditionVocab.from_dict(RunFolder(run_dir).read_json(CONDITIONS_FILE))
        return cls(loaded.model, loaded.vocabularies[VOCAB_FILE], loaded.config, conditions,
                   Path(run_dir))

    def evaluate_validation(self, *, progress: bool = False,
                            allow_changed_data: bool = False) -> dict:
        """The loss of the run's whole validation split, cut into rows and windows as training
        evaluates it (which, on a large corpus, scores a fixed sample: `eval_tokens`), read a
        window at a time from the prepared corpus; a conditioned model reads each document's
        true condition. Data changed since the run read it is refused, unless
        `allow_changed_data`."""
        recipe = self.recipe
        run, data, raw = self.training_data("give a text to evaluate",
                                            allow_changed_data=allow_changed_data,
                                            progress=progress)
        sets = recipe.prepare(raw, data, False, saved=run).sets
        objective = recipe.objective_class
        total, count = stream_loss(
            self.model, self.loss_sum, sets.val, data.num_steps, data.eval_rows,
            progress=progress, conditions=None if sets.conditions is None else sets.conditions[1])
        return {**objective.metrics(total, count), self.scored: count, "split": "validation"}

    def training_data(self, instead: str, *, allow_changed_data: bool = False,
                      progress: bool = False) -> tuple[RunFolder, Any, Any]:
        """The run folder, its data settings and its data read again as training read them
        (its seed, its split). Data changed since the run read it is refused, unless
        `allow_changed_data`; a model with no run to read from is refused with `instead`,
        what to do instead."""
        if self.run_dir is None or self.config is None or self.config.data is None \
                or self.config.loop is None:
            raise UserError("this model has no record of its training data (it was built in "
                            f"memory, or saved without its data): {instead}")
        recipe, run = self.recipe, RunFolder(self.run_dir)
        data = run.build_config(recipe.data_config, self.config.data, "data")
        check_unchanged((self.config.sources or {}).get(recipe.data_field), None,
                        getattr(data, recipe.data_field), run=run.path,
                        field=recipe.data_field, allow_changed=allow_changed_data)
        return run, data, recipe.read(data, self.config.loop.get("seed", 0), progress)

    def condition_weights(self, condition: str | int | None) -> torch.Tensor | None:
        """The mixture weights (C,) a condition spec gives (seqrnn.data.conditions); None for
        an unconditioned model, which refuses a condition."""
        if self.conditions is None:
            if condition is not None:
                raise UserError("this model was trained without --condition, so it reads no "
                                "condition: drop {condition}", fields=("condition",))
            return None
        return torch.from_numpy(self.conditions.weights(condition)).to(self.device)

    def conditioned(self, condition: str | int | None) -> nn.Module:
        """The model to step for `condition`: itself when unconditioned, else it with the
        condition fixed (seqrnn.nn.conditioning.WithCondition)."""
        weights = self.condition_weights(condition)
        return self.model if weights is None else WithCondition(self.model, weights).eval()

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def default_prime(self) -> str:
        """What a sample starts from when no prime is given: a new document."""
        return ""

    def predict(self, prime: str, **options) -> str:
        """Its answer to raw input (seqrnn.api.protocol.LoadedModel): `sample`'s."""
        return self.sample(prime, **options)
