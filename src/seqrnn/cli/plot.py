"""`seqrnn plot RUN_DIR`: training curves as PNG from a run's metrics.jsonl."""

from __future__ import annotations

import argparse
from pathlib import Path

from seqrnn.cli import options
from seqrnn.errors import UserError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "plot", help="draw a run's training curves as PNG",
        description="Plot training and validation loss (and every other validation metric) "
        "against the step, from RUN_DIR/metrics.jsonl, for a run of any kind.",
    )
    p.add_argument("run_dir", type=options.path_arg, metavar="RUN_DIR",
                   help="a run folder with metrics.jsonl")
    p.add_argument("--out", type=options.path_arg, metavar="PNG",
                   help="where to write the picture (default: RUN_DIR/loss.png)")
    p.set_defaults(run=_plot)


def _plot(args: argparse.Namespace) -> int:
    from seqrnn.plot import plot_metrics, read_metrics
    from seqrnn.run import METRICS_FILE, RunFolder

    run = RunFolder(args.run_dir)
    run_dir = run.path
    if not run_dir.is_dir():
        raise UserError(f"run folder {run_dir} not found: give the --out folder of a training run")
    metrics = run.metrics_path
    out = Path(args.out) if args.out else run.curve_path
    if out.is_dir():
        raise UserError(f"--out {out} is a folder: give the path of a .png file")
    try:
        if not metrics.is_file() or not read_metrics(metrics):
            raise UserError(f"{run_dir} has no {METRICS_FILE} records yet: train first, or give "
                            "another run folder")
        plot_metrics(metrics, out, title=run_dir.name)
    except (ValueError, KeyError, TypeError) as exc:  # JSON and Unicode errors are ValueErrors
        raise UserError(f"{metrics} is not a seqrnn metrics file ({exc!r}): give the run folder "
                        "a seqrnn trainer wrote") from None
    print(out)
    return 0
