"""What every kind's `seqrnn KIND ...` commands share: the command group, the train command
and its report, and the flags that load a trained run. Each kind's module keeps only its own
flags and bodies, so a flag or message common to all is written once."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from typing import Any

from seqrnn import registry
from seqrnn.cli import options


def kind_group(subparsers, kind: str, help: str, description: str,
               commands: Iterable[Callable[[Any], None]]) -> None:
    """Add `seqrnn KIND` with the subcommands each of `commands` registers."""
    parser = subparsers.add_parser(kind, help=help, description=description)
    group = parser.add_subparsers(dest=f"{kind}_command", metavar="COMMAND", required=True)
    for register in commands:
        register(group)


Then = Callable[[argparse.Namespace, str], None]


def train_command(commands, kind: str, lead: str, add_flags: Callable[[Any], None],
                  best: Callable[[dict], str], *, then: Then | None = None,
                  help: str = "train a model into a run folder", after: str = "") -> None:
    """Add `seqrnn KIND train`: the run flags, the kind's own (`add_flags`), the loop's; it
    trains and reports as train_and_report does with `best` and `then`."""
    p = commands.add_parser("train", help=help, description=f"{lead} "
                            + options.defaults_sentence(kind) + after)
    options.add_run_flags(p, kind)
    add_flags(p)
    options.add_train_loop_flags(p, kind)
    p.set_defaults(run=lambda args: train_and_report(args, kind, best, then), kind=kind)


def add_sample_length_flag(p: argparse.ArgumentParser, unit: str, default: int) -> None:
    """--sample-length, which print_sample reads."""
    p.add_argument("--sample-length", type=int, default=default,
                   help=f"print a sample of this many {unit} from the best model at the end "
                   f"(0: none; default: {default})")


def print_sample(args: argparse.Namespace, run_dir: str) -> None:
    """A language model's `then`: --sample-length tokens (if any) from the run's best model."""
    if args.sample_length > 0:
        lm = registry.get(args.kind).model_class().load(run_dir)
        # A conditioned model that never read "none" writes for its first condition.
        needs_one = lm.conditions is not None and not lm.conditions.none_trained
        print(lm.sample(lm.default_prime(), args.sample_length, seed=args.seed,
                        condition=lm.conditions.values[0] if needs_one else None))


def train_and_report(args: argparse.Namespace, kind: str, best: Callable[[dict], str],
                     then: Then | None = None) -> int:
    """Train (or resume) as the flags say, print how it ended (`best` spells the best
    validation figures) and return the exit status; `then(args, run_dir)` follows a run
    that ended well. Rank 0 of a torchrun job reports for all its processes."""
    result, run_dir = options.train_or_resume(args, kind)
    if not result.is_main:
        return 130 if result.stopped == "interrupted" else 0
    print(f"stopped ({result.stopped}) at step {result.step}, epoch {result.epoch}; best "
          f"validation {best(result.best_eval or {})}; run folder {run_dir}", file=sys.stderr)
    status = options.training_status(result, run_dir, kind)
    if then is not None and status == 0:
        then(args, run_dir)
    return status


def model_command(commands, name: str, run: Callable[[argparse.Namespace], int],
                  ensemble: str | None = None, **kwargs: Any) -> argparse.ArgumentParser:
    """Add subcommand `name` of a trained run: its --model RUN_DIR comes first, repeatable
    where `ensemble` says how the runs combine (kwargs: add_parser's help and description)."""
    p = options.command(commands, name, run, **kwargs)
    if ensemble is None:
        p.add_argument("--model", type=options.path_arg, required=True, metavar="RUN_DIR",
                       help="a trained run folder")
    else:
        p.add_argument("--model", type=options.path_arg, required=True, action="append",
                       metavar="RUN_DIR", help=f"a trained run folder; repeat it {ensemble}")
    return p


def load_model(args: argparse.Namespace, kind: str) -> Any:
    """The run (or ensemble of runs) of --model as `kind`'s loaded class, with --weights and
    --device."""
    return registry.get(kind).model_class().load(args.model, weights=args.weights,
                                                 device=args.device)


def add_weights_flag(p: argparse.ArgumentParser,
                     help: str = "which checkpoint of the run (default: best)") -> None:
    p.add_argument("--weights", choices=["best", "latest"], default="best", help=help)


def add_device_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"],
                   help="where to run (default: cpu)")


def add_checkpoint_flags(p: argparse.ArgumentParser) -> None:
    """--weights and --device: which checkpoint of the run, and where it runs."""
    add_weights_flag(p)
    add_device_flag(p)
