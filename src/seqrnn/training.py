"""Training any kind of task from Python: `seqrnn.train`, which the command line calls too.

It owns the policy of a training command: a preset under the settings given, the defaults
those settings imply and the kind's own, flat settings split into the data, model and loop
configs, and `resume` ("auto": continue `out` if it holds a checkpoint, else start it; a
path: continue that run), with the refusals of settings a resumed run would not honour.
Torch-free until called, so the command line can import it cheaply.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqrnn import presets, registry
from seqrnn.configs import RESUMABLE, TrainConfig, refuse_on_resume
from seqrnn.errors import UserError

if TYPE_CHECKING:  # torch: imported where training runs, not with the command line
    from seqrnn.recipes.base import Recipe
    from seqrnn.run import RunConfig, RunFolder
    from seqrnn.trainer import TrainResult

AUTO = "auto"  # resume="auto": continue `out` if it holds a checkpoint, start it otherwise


@dataclass
class Trained:
    """A finished `train`: the run's result and folder, and its model loaded on first use."""

    kind: str
    run_dir: str | Path
    result: TrainResult

    @functools.cached_property
    def model(self) -> Any:
        """The run's best model as its kind's class loads it (seqrnn.load), on the CPU."""
        from seqrnn.api.loading import load

        return load(self.run_dir)


@dataclass(frozen=True)
class Settings:
    """Flat settings split by the config they belong to; None means "not given"."""

    data: dict[str, Any]
    model: dict[str, Any]
    loop: dict[str, Any]

    @classmethod
    def split(cls, recipe: Recipe, settings: dict[str, Any]) -> Settings:
        """`settings` of task `recipe` by config; a name no config has is refused."""
        given = {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()
                 if v is not None}
        parts = [_names(recipe.data_config), _names(recipe.model_config, settable=True),
                 _names(TrainConfig)]
        unknown = sorted(set(given) - set().union(*parts))
        if unknown:
            raise UserError(f"{recipe.kind} has no setting {unknown[0]!r}: give fields of "
                            f"{recipe.data_config.__name__}, {recipe.model_config.__name__} or "
                            "TrainConfig")
        return cls(*({k: v for k, v in given.items() if k in names} for names in parts))

    def all(self) -> dict[str, Any]:
        return {**self.data, **self.model, **self.loop}


def train(kind: str, out: str | Path | None = None, *, preset: str | None = None,
          resume: str | Path | None = None, allow_changed_data: bool = False,
          **settings: Any) -> Trained:
    """Train a model of task `kind` into the run folder `out` (default runs/KIND).

    `settings` are fields of the kind's data and model configs and of TrainConfig, flat;
    a preset fills those left out (`preset`), then the defaults they imply (a pretrained
    encoder: the fine-tuning recipe), then the kind's own defaults. `resume` is None (a new
    run), "auto" (continue `out` if it holds a checkpoint, else start it; a setting that
    differs from the run's is refused) or a run folder to continue, with its configuration:
    only the budget (epochs, minutes, max_steps) and where it runs may change, and the data's
    location. Data whose content changed since the run read it is refused on resume, unless
    `allow_changed_data`. Returns a Trained: `.result` and `.model` (loaded on first use).
    """
    entry = registry.get(kind)
    recipe = entry.training_recipe()
    given = Settings.split(recipe, settings)
    if allow_changed_data and not resume:  # a fresh run reads its data as it is
        raise UserError("{allow_changed_data} accepts changed data on {resume}: drop it, or "
                        "resume a run with {resume} RUN_DIR",
                        fields=("allow_changed_data", "resume"))
    if preset is not None:
        given = _with_preset(recipe, given, preset, resume)
    folder = f"runs/{kind}" if out is None else out
    location = given.data.get(recipe.data_field)
    if resume == AUTO:
        run = _checkpointed(folder)
        if run is not None:
            saved = run.read_config(kind)
            refuse_other_preset(preset, saved, folder)
            refuse_differences(recipe, given, saved)
            budget = {k: v for k, v in given.loop.items() if k in RESUMABLE}
            return Trained(kind, folder, _resume(recipe, folder, location, finished_ok=True,
                                                 allow_changed_data=allow_changed_data,
                                                 **budget))
        resume = None  # nothing to continue yet: start it
    if resume:
        if out is not None:
            raise UserError(f"{{resume}} continues {resume} in place: drop {{out}} {out}",
                            fields=("resume", "out"))
        refuse_on_resume(set(given.all()) - RESUMABLE - {recipe.data_field})
        return Trained(kind, resume, _resume(recipe, resume, location,
                                             allow_changed_data=allow_changed_data,
                                             **given.loop))
    given = _with_defaults(kind, given)
    from seqrnn.recipes import base

    started = base.start(recipe, recipe.data_config(**given.data), given.model,
                         TrainConfig(**given.loop), folder, preset=preset)
    return Trained(kind, folder, started.result)


def _names(cls: type, settable: bool = False) -> set[str]:
    """The fields of config `cls`; `settable`: only those with a default (the data decides
    the others, e.g. a vocabulary's size, a forecaster's horizon)."""
    return {f.name for f in dataclasses.fields(cls)
            if not settable or f.default is not dataclasses.MISSING
            or f.default_factory is not dataclasses.MISSING}


def _fill(given: Settings, recipe: Recipe, values: dict[str, Any]) -> Settings:
    """`given` with the fields of `values` it leaves out filled from them."""
    return Settings.split(recipe, {**values, **given.all()})


def _with_preset(recipe: Recipe, given: Settings, name: str,
                 resume: str | Path | None) -> Settings:
    """The settings left out taken from preset `name`; a preset needs a new run (or "auto")."""
    if resume not in (None, AUTO):
        raise UserError(f"{{resume}} continues a run with its own configuration: drop "
                        f"{{preset}} {name}", fields=("preset", "resume"))
    preset = presets.get(recipe.kind, name)
    given = _fill(given, recipe, preset.values)
    for needed in preset.needs:
        if needed not in given.all():
            raise UserError(f"{{preset}} {name} needs {{{needed}}}", fields=("preset", needed))
    return given


def _with_defaults(kind: str, given: Settings) -> Settings:
    """A new run's settings: those given, then the defaults they imply (presets.implied_defaults:
    a pretrained encoder brings the fine-tuning recipe), then the kind's own."""
    recipe = registry.get(kind).training_recipe()
    given = _fill(given, recipe, presets.implied_defaults(kind, given.data))
    return _fill(given, recipe, presets.defaults(kind))


def _checkpointed(out: str | Path) -> RunFolder | None:
    from seqrnn.run import RunFolder

    run = RunFolder(out)
    return run if run.has_checkpoint() else None


def _resume(recipe: Recipe, run_dir: str | Path, location: str | None,
            **options: Any) -> TrainResult:
    from seqrnn.recipes import base

    return base.resume(recipe, run_dir, location, **options)


def refuse_other_preset(preset: str | None, saved: RunConfig, out: str | Path) -> None:
    """resume="auto" with a preset continues only a run of that preset (the preset's values
    may all be ones a resume ignores, such as the data's location or the budget)."""
    if preset is None or not saved.preset_recorded or saved.preset == preset:
        return
    started = f"{{preset}} {saved.preset}" if saved.preset else "no preset"
    raise UserError(f"{out} holds a run started with {started}, not {{preset}} {preset}: give "
                    f"its preset, or another {{out}} for a new run", fields=("out", "preset"))


def refuse_differences(recipe: Recipe, given: Settings, saved: RunConfig) -> None:
    """resume="auto" runs the same command again: refuse only settings that differ from the
    saved run's configuration (the budget may change, the data may have moved)."""
    def differs(values: dict[str, Any], stored: dict | None) -> set[str]:
        stored = stored or {}
        return {k for k, v in values.items() if k not in stored or _as_json(v) != stored[k]}

    data = dict(given.data)
    for name in set(recipe.other_paths) & set(data):  # a run stores them absolute
        if os.path.isabs(str((saved.data or {}).get(name))):
            data[name] = os.path.abspath(os.path.expanduser(data[name]))
    changed = differs(given.model, saved.model)
    changed |= differs(data, saved.data) - {recipe.data_field}
    loop = {k: v for k, v in given.loop.items() if k not in RESUMABLE}
    if loop.get("amp") == "auto":  # a run records what auto chose on its device
        from seqrnn.trainer.process import resolve_amp, resolve_device

        device = loop.get("device", (saved.loop or {}).get("device", "auto"))
        loop["amp"] = resolve_amp("auto", resolve_device(device))
    changed |= differs(loop, saved.loop)
    refuse_on_resume(changed)


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value))
