"""The shared start/resume recipe, driven by a toy task that supplies only its Recipe."""

import json
import typing
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from seqrnn import registry
from seqrnn.configs import TrainConfig
from seqrnn.errors import UserError
from seqrnn.recipes import base
from seqrnn.run import LATEST_WEIGHTS, RunFolder
from seqrnn.trainer import Selection


@dataclass(frozen=True)
class MajorityData:
    seed: int = 0
    length: int = 6
    vocab_size: int = 2  # the data decides the model's vocabulary; resume checks it


@dataclass(frozen=True)
class MajorityConfig:
    vocab_size: int
    hidden_size: int = 4

    def __post_init__(self):
        if self.hidden_size < 1:
            raise UserError("{hidden_size} must be positive", fields=("hidden_size",))


class MajorityModel(nn.Module):
    """Is a token sequence mostly ones? Mean of embeddings, then a logit."""

    def __init__(self, config: MajorityConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.head = nn.Linear(config.hidden_size, 1)

    def forward(self, ids):
        return self.head(self.embedding(ids).mean(dim=1)).squeeze(-1)


class Alphabet:
    def __init__(self, size):
        self.size = size

    def __eq__(self, other):
        return self.size == other.size

    def to_dict(self):
        return {"size": self.size}


class MajorityObjective:
    items = "sequences"
    selection = Selection("loss")

    def __init__(self, x, y):
        self.x, self.y = x, y

    def num_batches(self, epoch):
        return 4

    def batch(self, epoch, index):
        rows = slice(index * 16, (index + 1) * 16)
        return self.x[rows], self.y[rows]

    def start_epoch(self, epoch):
        pass

    def train_loss(self, model, batch):
        x, y = batch
        return F.binary_cross_entropy_with_logits(model(x), y), len(y)

    def evaluate(self, model):
        return {"loss": float(F.binary_cross_entropy_with_logits(model(self.x), self.y))}

    def carried_state(self):
        return {}

    def load_carried_state(self, state):
        pass


class MajorityRecipe(base.Recipe[MajorityData, np.ndarray, tuple[torch.Tensor, torch.Tensor],
                               MajorityConfig]):
    kind = "majority"
    data_config = MajorityData
    model_config = MajorityConfig
    model_class = MajorityModel
    data_field = "seed"

    def read(self, data, seed, progress):
        rng = np.random.default_rng(data.seed)
        return rng.integers(0, data.vocab_size, size=(64, data.length))

    def prepare(self, raw, data, progress, saved):
        alphabet = Alphabet(data.vocab_size)
        if saved is not None and alphabet.to_dict() != saved.read_json("alphabet.json"):
            raise UserError("another alphabet: resume with the run's {seed}", fields=("seed",))
        y = (raw.sum(axis=1) * 2 > raw.shape[1]).astype(np.float32)
        return base.Prepared(files={"alphabet.json": alphabet},
                             model_fields={"vocab_size": data.vocab_size},
                             sets=(torch.from_numpy(raw), torch.from_numpy(y)))

    def make_objective(self, prepared, data, train_config, group):
        return MajorityObjective(*prepared.sets)


LOOP = {"epochs": 6, "lr": 0.05, "progress": False, "device": "cpu", "seed": 2}


def test_a_new_task_trains_and_resumes_exactly_with_only_its_spec(tmp_path):
    recipe = MajorityRecipe()
    straight = base.start(recipe, MajorityData(), {"hidden_size": 3}, TrainConfig(**LOOP),
                          tmp_path / "straight")
    assert straight.result.stopped == "finished" and straight.result.step == 24
    assert straight.result.best_eval["loss"] < 0.69  # better than a coin
    cut = base.start(recipe, MajorityData(), {"hidden_size": 3},
                     TrainConfig(**LOOP, max_steps=10), tmp_path / "cut")
    assert cut.result.stopped == "max_steps"
    resumed = base.resume(recipe, tmp_path / "cut", max_steps=None)
    assert resumed.step == 24
    a, _ = RunFolder(tmp_path / "straight").load_weights(LATEST_WEIGHTS)
    b, _ = RunFolder(tmp_path / "cut").load_weights(LATEST_WEIGHTS)
    assert all(torch.equal(a[k], b[k]) for k in a)
    config = json.loads((tmp_path / "cut" / "config.json").read_text())
    assert config["kind"] == "majority" and config["model"] == {"vocab_size": 2, "hidden_size": 3}
    assert json.loads((tmp_path / "cut" / "alphabet.json").read_text()) == {"size": 2}


def test_the_recipe_refuses_bad_options_and_other_data_before_training(tmp_path):
    recipe = MajorityRecipe()
    with pytest.raises(UserError, match="hidden_size must be positive") as error:
        base.start(recipe, MajorityData(), {"hidden_size": 0}, TrainConfig(**LOOP), tmp_path / "r")
    assert error.value.field == "hidden_size" and not (tmp_path / "r").exists()
    base.start(recipe, MajorityData(), {}, TrainConfig(**LOOP, max_steps=1), tmp_path / "r")
    with pytest.raises(UserError, match="already holds a run"):
        base.start(recipe, MajorityData(), {}, TrainConfig(**LOOP), tmp_path / "r")
    with pytest.raises(UserError, match="--resume keeps the run's configuration; drop lr"):
        base.resume(recipe, tmp_path / "r", lr=0.1)
    (tmp_path / "r" / "alphabet.json").write_text('{"size": 3}')
    with pytest.raises(UserError, match="already stopped at step 1, its max_steps 1: give a "
                                        "larger max_steps") as error:
        base.resume(recipe, tmp_path / "r")
    assert error.value.field == "max_steps"
    with pytest.raises(UserError, match="another alphabet"):
        base.resume(recipe, tmp_path / "r", max_steps=2)


def recipe_types(cls: type) -> tuple:
    """The (data, raw, sets, model config) types `cls` gives base.Recipe's parameters,
    substituted through intermediate generic recipes such as StreamRecipe."""
    for parent in getattr(cls, "__orig_bases__", ()):
        origin = typing.get_origin(parent)
        if origin is base.Recipe:
            return typing.get_args(parent)
        if isinstance(origin, type) and issubclass(origin, base.Recipe):
            named = dict(zip(origin.__parameters__, typing.get_args(parent), strict=True))
            return tuple(named.get(t, t) for t in recipe_types(origin))
    return recipe_types(cls.__base__)


@pytest.mark.parametrize("kind", [k.name for k in registry.kinds()])
def test_every_recipe_names_the_types_that_flow_through_it(kind):
    recipe = registry.get(kind).training_recipe()
    data, raw, sets, model_config = recipe_types(type(recipe))
    assert (data, model_config) == (recipe.data_config, recipe.model_config)
    assert not any(isinstance(t, typing.TypeVar) or t is typing.Any for t in (raw, sets))


def test_the_toy_recipe_names_its_types_too():
    assert recipe_types(MajorityRecipe) == (MajorityData, np.ndarray,
                                          tuple[torch.Tensor, torch.Tensor], MajorityConfig)
