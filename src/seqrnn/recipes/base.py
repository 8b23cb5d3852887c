"""The one start/resume recipe every training task follows.

A task supplies a `Recipe`: how to read and prepare its data, which model
to build, and the `Objective` the training loop optimises. The recipe does the rest, the
same for every task: check the run folder, join the process group, set the
process up, seed, build the model, write the run folder's JSON, train.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

import torch
from torch import nn

from seqrnn.budget import check_training
from seqrnn.configs import TrainConfig, resumed_loop
from seqrnn.data.identity import IN_MEMORY, absolute, check_unchanged, fingerprint
from seqrnn.data.vocabulary import Vocabulary
from seqrnn.errors import UserError
from seqrnn.run import LATEST_WEIGHTS, UNRECORDED, RunConfig, RunFolder
from seqrnn.trainer import Objective, Trainer, TrainResult
from seqrnn.trainer.callbacks import Callback
from seqrnn.trainer.distributed import Group, join
from seqrnn.trainer.process import configure, resolve_amp, resolve_device

DataT = TypeVar("DataT")  # the kind's frozen data config, e.g. CharLMData
RawT = TypeVar("RawT")  # what read() returns: the raw training and validation data
SetsT = TypeVar("SetsT")  # what prepare() encodes them into, for make_objective
ConfigT = TypeVar("ConfigT")  # the kind's frozen model config, e.g. CharLMConfig


@dataclass
class Started(Generic[SetsT]):
    """A finished start(): the trainer (its model, best weights), its result, the prepared data."""

    trainer: Trainer
    result: TrainResult
    prepared: Prepared[SetsT]


@dataclass
class Prepared(Generic[SetsT]):
    """Data ready to train on: what is saved beside the weights and what the Objective reads."""

    # Any: the values are vocabularies, label maps and sizes of each kind's own classes.
    files: dict[str, Any]  # run-folder file name -> the object whose to_dict() it holds
    model_fields: dict[str, Any]  # model-config fields the data decides, e.g. vocab_size
    sets: SetsT  # the encoded training and validation sets, for make_objective
    init_weights: dict[str, torch.Tensor] | None = None  # pretrained weights for build_model


class Recipe(ABC, Generic[DataT, RawT, SetsT, ConfigT]):
    """What one kind of training supplies to the recipe: each kind names its data config,
    raw data, prepared sets and model config, e.g. `Recipe[SentimentData, ..., SentimentConfig]`.
    """

    kind: str  # config.json's "kind", and the command: `seqrnn <kind> train`
    data_config: type[DataT]  # the frozen data config dataclass
    model_config: type[ConfigT]  # the frozen model config dataclass
    model_class: type[nn.Module]
    # The data config field that says where the data is (may change on resume).
    data_field: str = "data"
    other_paths: tuple[str, ...] = ()  # data config fields naming other files or folders
    # Run-folder file -> (the class whose from_dict reads it, the model-config field that is
    # its size): what loading reads beside the weights, and checks against the config.
    vocabularies: dict[str, tuple[type[Vocabulary], str]] = {}

    def absolute_paths(self, data: DataT) -> DataT:
        """`data` with each path it names made absolute: the same files from any folder."""
        names = (self.data_field, *self.other_paths)
        return replace(data, **{name: absolute(getattr(data, name)) for name in names
                                if isinstance(getattr(data, name), str)})

    def check_start(self, data: DataT, seed: int) -> None:
        """Refuse data settings that only a new run must check (a resumed run has passed)."""
        return None  # most tasks have none

    @abstractmethod
    def read(self, data: DataT, seed: int, progress: bool) -> RawT:
        """The raw training and validation data (never test data)."""

    @abstractmethod
    def prepare(self, raw: RawT, data: DataT, progress: bool,
                saved: RunFolder | None) -> Prepared[SetsT]:
        """Vocabularies counted on training data, or with `saved` the run's, checked to match."""

    @abstractmethod
    def make_objective(self, prepared: Prepared[SetsT], data: DataT, train_config: TrainConfig,
                       group: Group) -> Objective:
        """The objective the training loop optimises over the prepared sets."""

    def model_from_config(self, config: ConfigT) -> nn.Module:
        return self.model_class(config)

    def build_model(self, prepared: Prepared[SetsT], model_options: dict) -> nn.Module:
        """A fresh model (the caller seeds it) of the options and the data-decided fields."""
        return self.model_from_config(self.model_config(**prepared.model_fields, **model_options))

    def check_model_options(self, model_options: dict) -> ConfigT:
        """Refuse a bad model option before any data is read (the data decides the rest);
        the config, with placeholder sizes for what the data decides."""
        return self.model_config(**{"vocab_size": 1, **model_options})

    def batch_shape(self, data: DataT) -> tuple[int, int, str] | None:
        """The most rows and steps of one training batch, and the field that sets the steps,
        for the memory budget (seqrnn.budget); None: the model's weights alone are counted."""
        return None


def _process(train_config: TrainConfig) -> Group:
    group = join(resolve_device(train_config.device))
    cpu = group.device.type == "cpu"
    configure(train_config.threads, distributed_cpu=group.distributed and cpu)
    return group


@contextlib.contextmanager
def _holding(run: RunFolder | None, group: Group) -> Iterator[None]:
    """Rank 0 holds the run folder's lock for the whole run; every rank hears a refusal."""
    if run is None:
        yield
        return
    with contextlib.ExitStack() as stack:
        refused = None
        if group.is_main:
            try:
                stack.enter_context(run.lock())
            except UserError as exc:
                refused = exc
        if group.distributed and group.sum([float(refused is not None)])[0]:
            refused = refused or UserError(f"another process is training in {run.path}")
        if refused is not None:
            raise refused
        yield


def start(recipe: Recipe[DataT, RawT, SetsT, ConfigT], data: DataT, model_options: dict,
          train_config: TrainConfig, out: str | Path | None, *, raw: RawT | None = None,
          callbacks: list[Callback] | None = None,
          preset: str | None = None) -> Started[SetsT]:
    """Train a new model into the run folder `out` (which must not hold a run yet).

    `raw` skips `recipe.read` (data already in memory); without `out` nothing is
    written and the best weights stay in `Trainer.best_weights`. The run records
    the data's absolute path and fingerprint, and `preset`, the name it started from.
    """
    run = None if out is None else RunFolder(out)
    data = recipe.absolute_paths(data)
    if run is not None:
        run.check_new()
    check_training(recipe.check_model_options(model_options), recipe.batch_shape(data),
                   resolve_device(train_config.device))
    group = _process(train_config)
    with _holding(run, group):
        if run is not None:
            run.check_new()  # again: another process may have started a run here meanwhile
        return _start(recipe, data, model_options, train_config, run, group, raw, callbacks, preset)


def _start(recipe: Recipe[DataT, RawT, SetsT, ConfigT], data: DataT, model_options: dict,
           train_config: TrainConfig, run: RunFolder | None, group: Group, raw: RawT | None,
           callbacks: list[Callback] | None, preset: str | None) -> Started[SetsT]:
    progress = train_config.progress and group.is_main
    # The run records which precision it trained in.
    train_config = replace(train_config, amp=resolve_amp(train_config.amp, group.device))
    source = IN_MEMORY
    if raw is None:
        recipe.check_start(data, train_config.seed)
        raw = recipe.read(data, train_config.seed, progress)
        location = getattr(data, recipe.data_field)  # a file, or (a synthetic task's) not
        recorded = isinstance(location, str) and run is not None and group.is_main
        source = fingerprint(location) if recorded else None
    prepared = recipe.prepare(raw, data, progress, saved=None)
    objective = recipe.make_objective(prepared, data, train_config, group)
    config = recipe.model_config(**prepared.model_fields, **model_options)
    check_training(config, recipe.batch_shape(data), group.device,  # its weights, exactly
                   build=lambda: recipe.model_from_config(config))
    torch.manual_seed(train_config.seed)  # the initial weights depend on it
    model = recipe.build_model(prepared, model_options)
    group.barrier()  # every rank has checked --out before rank 0 fills it
    if run is not None and group.is_main:
        run.start_fresh()
        for name, obj in prepared.files.items():
            run.write_json(name, obj.to_dict())
        run.write_config(recipe.kind, asdict(model.config), asdict(data), asdict(train_config),
                         sources={recipe.data_field: source}, preset=preset)
    trainer = Trainer(model, objective, train_config, run, group, callbacks)
    return Started(trainer, trainer.fit(), prepared)


def resume(recipe: Recipe, run_dir: str | Path, data_location: str | None = None, *,
           finished_ok: bool = False, allow_changed_data: bool = False,
           **loop_overrides) -> TrainResult:
    """Continue the run in `run_dir` where it stopped; the saved configuration wins.

    `loop_overrides` may change the budget and cosmetics (configs.RESUMABLE);
    `data_location` may point at the same data elsewhere. Data whose content differs from
    the run's fingerprint is refused, unless `allow_changed_data`. Under torchrun the
    number of processes may differ from the run's. A run already at its `max_steps` is
    refused, unless `finished_ok` (a restart that finds the work done): it then returns at once.
    """
    run = RunFolder(run_dir)
    saved = run.read_config(recipe.kind)
    run.check_resumable()
    if saved.data is None or saved.loop is None:
        raise UserError(f"{run.path} holds a saved model, not a training run: there is nothing "
                        "to resume; train a new one with --out")
    data = run.build_config(recipe.data_config, saved.data, "data")
    source = None  # data that is not a file (a synthetic task's) has no fingerprint
    if isinstance(getattr(data, recipe.data_field), str):
        source = check_unchanged((saved.sources or {}).get(recipe.data_field), data_location,
                                 getattr(data, recipe.data_field), run=run.path,
                                 field=recipe.data_field, allow_changed=allow_changed_data)
    if data_location is not None:
        data = replace(data, **{recipe.data_field: data_location})
    data = recipe.absolute_paths(data)
    train_config = resumed_loop(run.build_config(TrainConfig, saved.loop, "loop"), **loop_overrides)
    step = run.latest_step()
    if train_config.max_steps is not None and step >= train_config.max_steps and not finished_ok:
        raise UserError(f"{run.path} already stopped at step {step}, its {{max_steps}} "
                        f"{train_config.max_steps}: give a larger {{max_steps}} to continue it",
                        fields=("max_steps",))
    group = _process(train_config)
    with _holding(run, group):
        if group.is_main:
            run.remove_leftovers()
        return _resume(recipe, run, saved, data, train_config, group, source)


def _resume(recipe: Recipe[DataT, RawT, SetsT, ConfigT], run: RunFolder, saved: RunConfig,
            data: DataT, train_config: TrainConfig, group: Group,
            source: dict | None) -> TrainResult:
    raw = recipe.read(data, train_config.seed, train_config.progress and group.is_main)
    prepared = recipe.prepare(raw, data, False, saved=run)
    model_config = run.build_config(recipe.model_config, saved.model)
    run.check_fits(lambda: recipe.model_from_config(model_config), LATEST_WEIGHTS)
    model = recipe.model_from_config(model_config)
    objective = recipe.make_objective(prepared, data, train_config, group)
    group.barrier()  # every rank has read config.json before rank 0 rewrites it
    if group.is_main:
        run.write_config(recipe.kind, saved.model, asdict(data), asdict(train_config),
                         sources={**(saved.sources or {}), recipe.data_field: source},
                         preset=saved.preset if saved.preset_recorded else UNRECORDED)
    return Trainer(model, objective, train_config, run, group).fit(resume=True)
