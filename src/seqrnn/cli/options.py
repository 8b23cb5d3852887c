"""Flags whose defaults live in the config dataclasses.

A flag left out stays None in the parsed namespace, so `chosen()` returns only
what the user typed: the dataclass supplies the rest, and `--resume` can tell
a budget the user changed from one they did not mention.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import shlex
import sys
from typing import Any

from seqrnn.errors import UserError, flag
from seqrnn.paths import given_path

# config fields that name a file or folder
PATH_FIELDS = frozenset({"data", "text", "pretrained", "char_lm", "char_lm_backward"})


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


def add_recurrent_flags(group, cls: type, per_layer: str) -> None:
    """--cell, --hidden-size (`per_layer` says what it counts) and --num-layers of the model
    config `cls`, a stack of recurrent layers."""
    add(group, cls, "cell", "recurrent cell", choices=["lstm", "gru", "rnn"])
    add(group, cls, "hidden_size", per_layer)
    add(group, cls, "num_layers", "stacked recurrent layers")


def add_impl_flag(group, cls: type) -> None:
    add(group, cls, "impl", "torch's fused layers (fast) or seqrnn's explicit cells (for "
        "teaching)", choices=["fused", "explicit"])


def defaults_sentence(kind: str) -> str:
    """The train command's description of where its defaults come from."""
    from seqrnn import presets, registry

    name = registry.get(kind).default_preset
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
    add(g, Sampling, "condition", "a conditioned model's condition: a value it was trained "
        "with (a rating such as 10, a label) or a mixture of their vectors such as 1:0.5,10:0.5 "
        "(default: its 'none' entry)")
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
        "the GPU or CPU has bfloat16 units (1.2x to 1.9x faster there on the README's CPU, "
        "as accurate; the run's config.json records on or off); --amp alone is on",
        nargs="?", const="on", choices=AMP_CHOICES)
    g.add_argument("--quiet", action="store_true", help="no progress bar or evaluation lines")


def train_or_resume(args: argparse.Namespace, kind: str) -> tuple[Any, str]:
    """Start a run into --out, or continue --resume, of task `kind` (seqrnn.train does it).

    Returns the training result and the run folder.
    """
    from seqrnn import registry
    from seqrnn.configs import TrainConfig
    from seqrnn.training import train

    recipe = registry.get(kind).training_recipe()
    settings = {**chosen(args, recipe.data_config), **chosen(args, recipe.model_config),
                **chosen(args, TrainConfig)}
    if args.quiet:
        settings["progress"] = False
    trained = train(kind, args.out, preset=args.preset, resume=args.resume,
                    allow_changed_data=args.allow_changed_data, **settings)
    return trained.result, trained.run_dir


def training_status(result, run_dir, kind: str) -> int:
    """Warn of a run that learned nothing (seqrnn.recipes.chance) and say how to continue one
    that stopped early; 130 (as for SIGINT) if Ctrl-C stopped it."""
    from seqrnn.recipes.chance import learned_nothing

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


def add_inputs(parser: argparse.ArgumentParser, noun: str, metavar: str, help: str) -> None:
    """A predict command's inputs, which `input_lines` reads: NOUN arguments, or --file."""
    parser.add_argument(noun, nargs="*", metavar=metavar, help=help)
    parser.add_argument("--file", type=path_arg,
                        help=f"a UTF-8 file with one {metavar.lower()} per line")


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


def command(parent, name: str, run, **kwargs: Any) -> argparse.ArgumentParser:
    """Add subcommand `name` that calls `run(args)`. Its help line is the first paragraph of
    `run`'s docstring and its description the rest, as click reads a command's docstring, so
    that what a handler does is written once (kwargs: add_parser's, which take precedence)."""
    parser = parent.add_parser(name, **{**docstring_help(run), **kwargs})
    parser.set_defaults(run=run)
    return parser


def docstring_help(run) -> dict[str, str]:
    """help and description for add_parser from `run`'s docstring (its paragraphs joined
    into lines; argparse refills them); nothing where it has none."""
    doc = inspect.getdoc(run)
    if not doc:
        return {}
    first, _, rest = doc.partition("\n\n")
    return {"help": " ".join(first.split()),
            **({"description": " ".join(rest.split())} if rest.strip() else {})}
