"""`seqrnn plot RUN_DIR`: training curves from a run's metrics.jsonl, as PNG, SVG or PDF."""

from __future__ import annotations

import argparse

from seqrnn.cli import options


def register(subparsers) -> None:
    p = options.command(subparsers, "plot", _plot)
    p.add_argument("run_dir", type=options.path_arg, metavar="RUN_DIR",
                   help="a run folder with metrics.jsonl")
    p.add_argument("--out", type=options.path_arg, metavar="FILE",
                   help="where to write the picture, in the format its suffix names: .png, "
                   ".svg or .pdf (default: RUN_DIR/loss.png, redrawn)")
    options.add_overwrite_flag(p, "the --out file")


def _plot(args: argparse.Namespace) -> int:
    """draw a run's training curves as PNG, SVG or PDF

    Plot training and validation loss (and every other validation metric) against the step, from
    RUN_DIR/metrics.jsonl, for a run of any kind.
    """
    from seqrnn.plot import plot_run

    print(plot_run(args.run_dir, args.out, overwrite=args.overwrite))
    return 0
