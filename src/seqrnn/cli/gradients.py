"""`seqrnn gradients`: measure vanishing and exploding gradients through time."""

from __future__ import annotations

import argparse
from pathlib import Path

from seqrnn.cli import options
from seqrnn.configs import GradientStudyConfig
from seqrnn.errors import UserError

DESCRIPTION = """\
Measure how the error signal of backpropagation through time grows or shrinks as it
is carried back: the spectral norm (largest singular value) of the chained Jacobian
∂h(t)/∂h(k) = Π ∂h(i)/∂h(i-1), for distances t - k = 1 .. --steps.

Elman RNN: W_hh = r · (random orthogonal matrix), so every singular value is r, the
matrix form of the lecture's |w_hh|. With the default zero input the state rests at 0,
where tanh' = 1, so the norm is exactly r^(t-k): it vanishes for r < 1, stays for r = 1,
explodes for r > 1. With --elman-input-scale > 0 tanh saturates and even r > 1 vanishes.

LSTM: the norm of ∂C(t)/∂C(k), all paths counted. The cell path ∂C(i)/∂C(i-1) = diag(f)
keeps the gradient alive when the forget gate f = σ(b_f + ...) is near 1 (large
--forget-biases) and lets it vanish when f is near 1/2 (bias 0). The LSTM is driven by
random input (--lstm-input-scale) and its recurrent matrices have spectral radius
--lstm-radius (default: the Elman's vanishing 0.5).

Writes gradients.csv (model, setting, distance, norm) and gradients.png into --out and
prints the norms at distances 1, 10, 50 and 100."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gradients",
        help="show vanishing and exploding gradients in an Elman RNN and an LSTM",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g = parser.add_argument_group("Elman RNN")
    options.add(g, GradientStudyConfig, "radii", "spectral radii of W_hh, one curve each",
                type=float, nargs="+", metavar="R")
    options.add(g, GradientStudyConfig, "elman_input_scale", "standard deviation of the random "
                "input drive W_xh x(t); 0 keeps the state at rest where tanh is linear",
                metavar="S")
    g = parser.add_argument_group("LSTM")
    options.add(g, GradientStudyConfig, "forget_biases", "forget-gate biases b_f, one curve "
                "each; f = σ(b_f) is about 0.5, 0.73, 0.98 for 0, 1, 4",
                type=float, nargs="+", metavar="B")
    options.add(g, GradientStudyConfig, "lstm_radius", "spectral radius of each recurrent "
                "matrix W_hf, W_hi, W_hg, W_ho", metavar="R")
    options.add(g, GradientStudyConfig, "lstm_input_scale", "standard deviation of each gate's "
                "random input drive W_x* x(t)", metavar="S")
    g = parser.add_argument_group("both models")
    options.add(g, GradientStudyConfig, "steps", "largest distance t - k to measure, in steps")
    options.add(g, GradientStudyConfig, "hidden_size", "number of hidden units")
    options.add(g, GradientStudyConfig, "seed", "seed for the random weights and inputs; a "
                "fixed seed gives identical results")
    output = parser.add_argument_group("output")
    output.add_argument(
        "--out",
        type=Path,
        default=Path("runs/gradients"),
        metavar="DIR",
        help="directory for gradients.csv and gradients.png, created if missing "
        "(default: %(default)s)",
    )
    parser.set_defaults(run=run)


def prepare_out_dir(path: Path) -> Path:
    """Create the output directory, or say why it cannot be one."""
    if path.exists() and not path.is_dir():
        raise UserError(f"--out {path} is a file, not a directory; give a directory path")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create --out directory {path}: {exc.strerror}") from exc
    return path


def run(args: argparse.Namespace) -> int:
    from seqrnn.analysis.gradients import norms_table, run_study, write_csv, write_plot

    given = options.chosen(args, GradientStudyConfig)
    # nargs gives lists; the frozen config holds tuples
    config = GradientStudyConfig(**{k: tuple(v) if isinstance(v, list) else v
                                    for k, v in given.items()})
    curves = run_study(config)  # first: a refused study leaves no folder behind
    out = prepare_out_dir(args.out)
    write_csv(curves, out / "gradients.csv")
    write_plot(curves, out / "gradients.png")
    print("spectral norm of ∂h(t)/∂h(k) (elman) and ∂C(t)/∂C(k) (lstm) at distance d = t - k")
    print(norms_table(curves))
    print(f"wrote {out / 'gradients.csv'} and {out / 'gradients.png'}")
    return 0
