"""Flags whose defaults live in the config dataclasses.

A flag left out stays None in the parsed namespace, so `chosen()` returns only
what the user typed: the dataclass supplies the rest, and `--resume` can tell
a budget the user changed from one they did not mention.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import sys
from typing import Any

from seqrnn.errors import UserError, flag
from seqrnn.paths import given_path

PATH_FIELDS = frozenset({"data", "text", "pretrained"})  # config fields that name a file


def path_arg(value: str) -> str:
    """An argparse type for a path: an empty one is a usage error before anything starts."""
    try:
        return given_path(value)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def default_of(cls: type, name: str) -> Any:
    for field in dataclasses.fields(cls):
        if field.name == name:
            return field.default
    raise KeyError(name)


def literal(text: str) -> str:
    """`text` as argparse help shows it: argparse formats help with %, so a % must be doubled."""
    return str(text).replace("%", "%%")


def add(group, cls: type, name: str, help: str, *, kind: str | None = None,
        **kwargs: Any) -> None:
    """Add --NAME for dataclass field `name`, showing its default in the help: task `kind`'s
    own (presets.defaults), said to be so, or the dataclass's."""
    from seqrnn import presets

    default = default_of(cls, name)
    if name in PATH_FIELDS:
        kwargs.setdefault("type", path_arg)
    if kwargs.get("action") == "store_true":
        kwargs["default"] = None
    elif "type" not in kwargs and default is not None and not isinstance(default, str):
        kwargs["type"] = type(default)
    source = ""
    kind_defaults = presets.defaults(kind) if kind else {}
    if name in kind_defaults and kind_defaults[name] != default:
        default, source = kind_defaults[name], f", {presets.defaults_source(kind)}"
    if isinstance(default, tuple):  # shown as argparse shows the list a nargs flag gives
        default = list(default)
    shown = ("" if default is None or default is False
             else f" (default: {literal(default)}{literal(source)})")
    group.add_argument(flag(name), dest=name, help=help + shown, **kwargs)


def defaults_sentence(kind: str) -> str:
    """The train command's description of where its defaults come from."""
    from seqrnn import presets

    name = presets.DEFAULT_PRESETS.get(kind)
    if name is None:
        return "Defaults are the lecture's configuration; any flag overrides them."
    return (f"Defaults are the {name} preset's, the README's best recipe measured for this "
            f"task; any flag overrides them. --preset {name}: {presets.get(kind, name).summary}.")


def chosen(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of `cls` that were given on the command line."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in vars(args).items() if k in names and v is not None}


def add_sampling_flags(parser: argparse.ArgumentParser, token: str) -> None:
    """How a language model chooses each next `token` (seqrnn.configs.Sampling)."""
    from seqrnn.configs import MAX_BEAM, MAX_STOPS, Sampling

    g = parser.add_argument_group("generation")
    add(g, Sampling, "top_k", f"draw from the k most likely {token}s (the lecture's 5; 0: all)")
    add(g, Sampling, "top_p", f"nucleus sampling: draw from the fewest most likely {token}s "
        "whose probabilities add up to P (1: off)")
    add(g, Sampling, "temperature", "below 1 is more conservative, above 1 more adventurous")
    add(g, Sampling, "greedy", f"always take the most likely {token}", action="store_true")
    add(g, Sampling, "beam", f"beam search with N hypotheses (1 to {MAX_BEAM}), the most likely "
        "text by mean log-probability per token; deterministic, so --top-k, --top-p, "
        "--temperature and --seed do not apply (1: sample)")
    g.add_argument("--stop", action="append", metavar="STRING",
                   help=f"end the generation after this string (repeatable, up to {MAX_STOPS})")
    add(g, Sampling, "time_limit", "end the generation after this many seconds", type=float,
        metavar="SECONDS")
    g.add_argument("--seed", type=int, help="random seed, for a repeatable sample")


def sampling_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of LanguageModel.stream the sampling flags chose."""
    from seqrnn.configs import Sampling

    chosen_options = chosen(args, Sampling)
    if args.stop:
        chosen_options["stop"] = tuple(args.stop)
    return chosen_options


def add_overwrite_flag(parser: argparse.ArgumentParser, what: str) -> None:
    """--overwrite, for a command that writes `what` where the user points (seqrnn.outputs)."""
    parser.add_argument("--overwrite", action="store_true",
                        help=f"replace {what} already there (otherwise refused)")


AUTO = "auto"  # --resume auto: continue --out if it holds a checkpoint, start it otherwise


def add_run_flags(parser: argparse.ArgumentParser, kind: str) -> None:
    """--out, --resume and --preset, the same for every trainer."""
    from seqrnn import presets

    parser.add_argument("--preset", choices=presets.names(kind), metavar="NAME",
                        help="start from a named configuration; the flags you give override "
                        f"it. {literal(presets.describe(kind))}")
    parser.add_argument("--out", type=path_arg, help="run folder for checkpoints, metrics and "
                        f"plots (default: runs/{kind})")
    parser.add_argument("--allow-changed-data", action="store_true",
                        help="--resume: continue on data whose content changed since the run "
                        "read it (refused by default: its splits would differ)")
    parser.add_argument("--resume", metavar="RUN_DIR", type=path_arg,
                        help="continue the run in RUN_DIR where it stopped (its configuration "
                        "wins; --epochs, --minutes and --max-steps may extend it); 'auto' "
                        "continues --out if it holds a checkpoint and starts it otherwise, so "
                        "one command line serves every restart (torchrun --max-restarts)")


def refuse_changes_on_resume(args: argparse.Namespace, loop: dict[str, Any], *classes: type,
                             data_flag: str) -> None:
    """--resume takes the run's configuration: any flag given that would change it is an error.

    Allowed are the budget and cosmetics of the loop (configs.RESUMABLE) and
    `data_flag`, where the data may have moved since.
    """
    from seqrnn.configs import RESUMABLE, refuse_on_resume

    changed = set(loop) - RESUMABLE
    for cls in classes:
        changed |= set(chosen(args, cls))
    refuse_on_resume(changed - {data_flag})


def add_train_loop_flags(parser: argparse.ArgumentParser, kind: str) -> None:
    """Flags of the shared training loop (TrainConfig), for every trainer; defaults are task
    `kind`'s."""
    from functools import partial

    from seqrnn.configs import AMP_CHOICES, TrainConfig

    loop_flag = partial(add, kind=kind)
    g = parser.add_argument_group("training loop")
    loop_flag(g, TrainConfig, "epochs", "passes over the training data")
    loop_flag(g, TrainConfig, "minutes", "wall-clock budget in minutes; stops at whichever of "
        "--epochs and --minutes comes first", type=float)
    loop_flag(g, TrainConfig, "max_steps", "stop after this many optimizer steps in all (a smoke "
        "run); the run can be resumed", type=int)
    loop_flag(g, TrainConfig, "lr", "Adam learning rate")
    loop_flag(g, TrainConfig, "lr_schedule", "learning-rate schedule: constant, cosine decay to "
        "--min-lr-fraction, or slanted (ULMFiT: a linear climb for 10%%, then a linear decay "
        "to --min-lr-fraction), over the planned steps or the --minutes budget")
    loop_flag(g, TrainConfig, "min_lr_fraction", "floor of the cosine and slanted schedules, as a "
        "fraction of --lr")
    loop_flag(g, TrainConfig, "warmup_steps", "linear learning-rate warm-up steps")
    loop_flag(g, TrainConfig, "ema_decay", "evaluate and save an exponential moving average of the "
        "weights, with this decay per step (0.995 remembers about 200 steps; step t uses at "
        "most (1+t)/(10+t), a shorter memory early on); off by default", type=float)
    loop_flag(g, TrainConfig, "clip", "clip the global gradient norm to this value")
    loop_flag(g, TrainConfig, "weight_decay", "decoupled weight decay (AdamW) on dense parameters")
    loop_flag(g, TrainConfig, "layer_lr_decay", "fine-tuning: divide each lower layer group's "
        "learning rate by this (ULMFiT: 2.6)")
    loop_flag(g, TrainConfig, "unfreeze_epochs", "fine-tuning: train the top layer group alone at "
        "first and unfreeze one more every N epochs (ULMFiT: 1; 0: all from the start)")
    loop_flag(g, TrainConfig, "eval_every", "evaluate on validation every N steps (0: each epoch)")
    loop_flag(g, TrainConfig, "patience", "stop early after N evaluations without a better "
        "validation loss", type=int)
    loop_flag(g, TrainConfig, "log_every", "write a training-loss record every N steps")
    loop_flag(g, TrainConfig, "seed", "random seed; a fixed seed gives identical runs on the CPU")
    loop_flag(g, TrainConfig, "device", "auto (CUDA if available), cpu or cuda",
        choices=["auto", "cpu", "cuda"])
    loop_flag(g, TrainConfig, "threads", "torch CPU threads per process (default: torch's choice, "
        "or 1 per process under torchrun)", type=int)
    loop_flag(g, TrainConfig, "amp", "bfloat16 autocast (mixed precision): auto turns it on where "
        "the GPU or CPU has bfloat16 units (about 2x faster there, as accurate; the run's "
        "config.json records on or off); --amp alone is on", nargs="?", const="on",
        choices=AMP_CHOICES)
    g.add_argument("--quiet", action="store_true", help="no progress bar or evaluation lines")


def train_or_resume(args: argparse.Namespace, spec) -> tuple[Any, str]:
    """Start a run into --out, or continue --resume, for the task `spec` (a tasks.base.TaskSpec).

    Returns the training result and the run folder.
    """
    from seqrnn.configs import RESUMABLE, TrainConfig
    from seqrnn.run import RunFolder
    from seqrnn.tasks import base

    if args.allow_changed_data and not args.resume:  # a fresh run reads its data as it is
        raise UserError("--allow-changed-data accepts changed data on --resume: drop it, or "
                        "resume a run with --resume RUN_DIR")
    apply_preset(args, spec.kind)
    loop = _loop_options(args)
    out = f"runs/{spec.kind}" if args.out is None else args.out
    if args.resume == AUTO:
        if not RunFolder(out).has_checkpoint():
            args.resume = None  # nothing to continue yet: start it
        else:
            saved = RunFolder(out).read_config(spec.kind)
            refuse_other_preset(args.preset, saved, out)
            refuse_differences(args, loop, spec, saved)
            location = getattr(args, spec.data_field)
            budget = {k: v for k, v in loop.items() if k in RESUMABLE}
            return base.resume(spec, out, location, finished_ok=True,
                               allow_changed_data=args.allow_changed_data, **budget), out
    if args.resume:
        if args.out is not None:
            raise UserError(f"--resume continues {args.resume} in place: drop --out {args.out}")
        refuse_changes_on_resume(args, loop, spec.model_config, spec.data_config,
                                 data_flag=spec.data_field)
        location = getattr(args, spec.data_field)
        return base.resume(spec, args.resume, location,
                           allow_changed_data=args.allow_changed_data, **loop), args.resume
    apply_implied_defaults(args, spec)
    apply_kind_defaults(args, spec.kind)
    loop = _loop_options(args)
    data = spec.data_config(**chosen(args, spec.data_config))
    started = base.start(spec, data, chosen(args, spec.model_config), TrainConfig(**loop), out,
                         preset=args.preset)
    return started.result, out


def _loop_options(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig fields the command line chose; --quiet turns the progress bar off."""
    from seqrnn.configs import TrainConfig

    loop = chosen(args, TrainConfig)
    if args.quiet:
        loop["progress"] = False
    return loop


def apply_preset(args: argparse.Namespace, kind: str) -> None:
    """Fill the flags the user left out from --preset, if one was named."""
    from seqrnn import presets

    if args.preset is None:
        return
    if args.resume not in (None, AUTO):
        raise UserError(f"--resume continues a run with its own configuration: drop --preset "
                        f"{args.preset}")
    preset = presets.get(kind, args.preset)
    for name, value in preset.values.items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)
    for name in preset.needs:
        if getattr(args, name, None) is None:
            raise UserError(f"--preset {args.preset} needs {flag(name)}")


def apply_implied_defaults(args: argparse.Namespace, spec) -> None:
    """Fill the flags still left out with the defaults the given ones imply (presets.IMPLIED):
    `--pretrained` brings the fine-tuning recipe."""
    from seqrnn import presets

    given = chosen(args, spec.data_config)
    for name, value in presets.implied_defaults(spec.kind, given).items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)


def apply_kind_defaults(args: argparse.Namespace, kind: str) -> None:
    """Fill the flags still left out with task `kind`'s own defaults (presets.defaults)."""
    from seqrnn import presets

    for name, value in presets.defaults(kind).items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)


def refuse_other_preset(preset: str | None, saved: Any, out: str) -> None:
    """--resume auto with --preset continues only a run of that preset (the preset's values
    may all be ones a resume ignores, such as the data's location or the budget)."""
    if preset is None or not saved.preset_recorded or saved.preset == preset:
        return
    started = f"--preset {saved.preset}" if saved.preset else "no preset"
    raise UserError(f"{out} holds a run started with {started}, not --preset {preset}: give "
                    f"its preset, or another {{out}} for a new run", fields=("out",))


def refuse_differences(args: argparse.Namespace, loop: dict[str, Any], spec,
                       saved: Any) -> None:
    """--resume auto runs the same command line again: refuse only flags that differ from the
    saved run's configuration (the budget may change, the data may have moved)."""
    from seqrnn.configs import RESUMABLE, refuse_on_resume

    def differs(given: dict[str, Any], stored: dict | None) -> set[str]:
        stored = stored or {}
        return {k for k, v in given.items() if k not in stored or _as_json(v) != stored[k]}

    data = chosen(args, spec.data_config)
    for name in set(spec.other_paths) & set(data):  # a run stores them absolute
        if os.path.isabs(str((saved.data or {}).get(name))):
            data[name] = os.path.abspath(os.path.expanduser(data[name]))
    changed = differs(chosen(args, spec.model_config), saved.model)
    changed |= differs(data, saved.data) - {spec.data_field}
    changed |= differs({k: v for k, v in loop.items() if k not in RESUMABLE}, saved.loop)
    refuse_on_resume(changed)


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def training_status(result, run_dir, kind: str) -> int:
    """Warn of a run that learned nothing (seqrnn.tasks.chance) and say how to continue one
    that stopped early; 130 (as for SIGINT) if Ctrl-C stopped it."""
    from seqrnn.tasks.chance import learned_nothing

    warning = learned_nothing(result.best_eval) if result.best_eval else None
    if warning:
        print(f"seqrnn: warning: {warning}", file=sys.stderr)
    run_dir = shlex.quote(str(run_dir))  # a command line to paste: a space must not split it
    if result.stopped == "max_steps":  # the run keeps its limit: a resume must raise it
        print(f"continue with: seqrnn {kind} train --resume {run_dir} --max-steps N (N above "
              f"{result.step})", file=sys.stderr)
    elif result.stopped in ("interrupted", "time"):
        print(f"continue with: seqrnn {kind} train --resume {run_dir}", file=sys.stderr)
    return 130 if result.stopped == "interrupted" else 0


def input_lines(given: list[str], path: str | None, noun: str, *,
                skip_blank: bool) -> list[str]:
    """The inputs of a predict command: its arguments, the lines of --file, or standard input.

    A classifier scores blank lines too (one answer per line); a transducer has nothing to
    read in one, so `skip_blank` drops them and strips the rest."""
    if given and path:
        raise UserError(f"give {noun} as arguments or with --file, not both")
    from seqrnn.budget import input_limit
    from seqrnn.data.files import read_bounded, read_input

    if given:
        return given
    if path:
        try:
            return _lines(read_input(path).decode("utf-8"), skip_blank)
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read --file {path}: {exc}") from exc
    if sys.stdin is None or sys.stdin.isatty():
        raise UserError(f"no {noun}: give them as arguments, with --file, or on standard input")
    return _lines(read_bounded(sys.stdin, "standard input", input_limit()), skip_blank)


def _lines(text: str, skip_blank: bool) -> list[str]:
    """The lines of `text` as a file in text mode reads them: any newline convention."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":  # the newline that ends the last line starts no other
        lines.pop()
    if skip_blank:
        return [line.strip() for line in lines if line.strip()]
    return lines
