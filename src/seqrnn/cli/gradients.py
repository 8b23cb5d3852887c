"""`seqrnn gradients`: measure vanishing and exploding gradients through time."""

from __future__ import annotations

import argparse
from pathlib import Path

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
    from seqrnn.gradients import GradientStudyConfig

    defaults = GradientStudyConfig()
    parser = subparsers.add_parser(
        "gradients",
        help="show vanishing and exploding gradients in an Elman RNN and an LSTM",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    elman = parser.add_argument_group("Elman RNN")
    elman.add_argument(
        "--radii",
        type=float,
        nargs="+",
        default=list(defaults.radii),
        metavar="R",
        help="spectral radii of W_hh, one curve each (default: %(default)s)",
    )
    elman.add_argument(
        "--elman-input-scale",
        type=float,
        default=defaults.elman_input_scale,
        metavar="S",
        help="standard deviation of the random input drive W_xh x(t); 0 keeps the state "
        "at rest where tanh is linear (default: %(default)s)",
    )
    lstm = parser.add_argument_group("LSTM")
    lstm.add_argument(
        "--forget-biases",
        type=float,
        nargs="+",
        default=list(defaults.forget_biases),
        metavar="B",
        help="forget-gate biases b_f, one curve each; f = σ(b_f) is about 0.5, 0.73, 0.98 "
        "for 0, 1, 4 (default: %(default)s)",
    )
    lstm.add_argument(
        "--lstm-radius",
        type=float,
        default=defaults.lstm_radius,
        metavar="R",
        help="spectral radius of each recurrent matrix W_hf, W_hi, W_hg, W_ho "
        "(default: %(default)s)",
    )
    lstm.add_argument(
        "--lstm-input-scale",
        type=float,
        default=defaults.lstm_input_scale,
        metavar="S",
        help="standard deviation of each gate's random input drive W_x* x(t) "
        "(default: %(default)s)",
    )
    common = parser.add_argument_group("both models")
    common.add_argument(
        "--steps",
        type=int,
        default=defaults.steps,
        help="largest distance t - k to measure, in steps (default: %(default)s)",
    )
    common.add_argument(
        "--hidden-size",
        type=int,
        default=defaults.hidden_size,
        help="number of hidden units (default: %(default)s)",
    )
    common.add_argument(
        "--seed",
        type=int,
        default=defaults.seed,
        help="seed for the random weights and inputs; a fixed seed gives identical "
        "results (default: %(default)s)",
    )
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
    from seqrnn.gradients import (
        GradientStudyConfig,
        norms_table,
        run_study,
        write_csv,
        write_plot,
    )

    config = GradientStudyConfig(
        radii=tuple(args.radii),
        forget_biases=tuple(args.forget_biases),
        lstm_radius=args.lstm_radius,
        elman_input_scale=args.elman_input_scale,
        lstm_input_scale=args.lstm_input_scale,
        steps=args.steps,
        hidden_size=args.hidden_size,
        seed=args.seed,
    )
    config.validate()
    out = prepare_out_dir(args.out)
    curves = run_study(config)
    write_csv(curves, out / "gradients.csv")
    write_plot(curves, out / "gradients.png")
    print("spectral norm of ∂h(t)/∂h(k) (elman) and ∂C(t)/∂C(k) (lstm) at distance d = t - k")
    print(norms_table(curves))
    print(f"wrote {out / 'gradients.csv'} and {out / 'gradients.png'}")
    return 0
