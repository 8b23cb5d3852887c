"""Vanishing and exploding gradients, measured: the norm of ∂h(t)/∂h(k) as t - k grows.

Backpropagation through time multiplies the error at step t by

    ∂h(t)/∂h(k) = Π_{i=k+1..t} ∂h(i)/∂h(i-1)

to carry it back to step k (the lecture's chain; see `seqrnn.reference.elman`). This
module runs a model forward for `steps` steps from k = 0, multiplies the per-step
Jacobians, and records the spectral norm (the largest singular value: the most any error
vector can be stretched) of the product at every distance d = t - k = 1..steps.

Elman RNN, ∂h(i)/∂h(i-1) = diag(1 - h(i)²) W_hh. W_hh = r·Q with Q a random orthogonal
matrix, so every singular value and every eigenvalue of W_hh has modulus r: the matrix
form of the lecture's scalar |w_hh|. By default the network runs at rest (zero input,
h(0) = 0): h stays 0, where tanh' = 1, so ∂h(t)/∂h(k) = W_hh^(t-k) and its norm is
exactly r^(t-k): it vanishes for r < 1, holds for r = 1 and explodes for r > 1.
With random input (`elman_input_scale > 0`) the state leaves 0, tanh' drops below 1 and
with r > 1 the state saturates, where tanh' is near 0: saturation then makes the
gradient vanish instead of explode, a second way a tanh RNN loses its gradient.

LSTM, state (h, C): the full Jacobian ∂(h, C)(i)/∂(h, C)(i-1) is multiplied, and the
curve is the norm of the cell block ∂C(t)/∂C(k), counting every path (through the gates
and h too). Its direct part, the cell path ∂C(i)/∂C(i-1) = diag(f(i)), has no weight
matrix and no tanh': with the forget gate near 1 (large forget bias) the gradient
survives many steps (with bias 4 it stays of order 1 over 100 steps); with f near 1/2
(bias 0) it shrinks geometrically, like the Elman at r = 0.5. The four recurrent
matrices are r·Q as above (`lstm_radius`, by default the Elman's vanishing 0.5), and
the LSTM is driven by random input (`lstm_input_scale`, by default 1), its usual
working regime. At rest the loop through h would add i·o·W_hg = ¼·W_hg to f at
every step, and with f near 1 that lets the product grow slowly; under input the gate
and tanh derivatives shrink that loop and the cell path dominates.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqrnn.atomic import atomic_open, atomic_path
from seqrnn.budget import check_gradient_study
from seqrnn.configs import GradientStudyConfig
from seqrnn.outputs import check_folder_files
from seqrnn.reference.elman import elman_step
from seqrnn.reference.lstm import GATES, LSTMStep, lstm_step

TABLE_DISTANCES = (1, 10, 50, 100)
OUTPUT_FILES = ("gradients.csv", "gradients.png")


@dataclass(frozen=True)
class NormCurve:
    """norms[d - 1] is the spectral norm of the chained Jacobian at distance d = t - k."""

    model: str  # "elman": ‖∂h(t)/∂h(k)‖; "lstm": ‖∂C(t)/∂C(k)‖
    setting: str  # "radius=0.5", "forget_bias=4"
    norms: np.ndarray  # (steps,)

    def at(self, distance: int) -> float:
        return float(self.norms[distance - 1])


def scaled_orthogonal(rng: np.random.Generator, size: int, radius: float) -> np.ndarray:
    """radius · Q, Q uniformly random orthogonal: all singular values and |eigenvalues| = radius."""
    q, r = np.linalg.qr(rng.standard_normal((size, size)))
    return radius * q * np.sign(np.diag(r))  # the sign fix makes Q uniform (Haar)


def input_weights(rng: np.random.Generator, size: int, scale: float) -> np.ndarray:
    """A (size, size) matrix that turns x ~ N(0, I) into a drive of standard deviation ≈ scale."""
    return scale / np.sqrt(size) * rng.standard_normal((size, size))


def chained_norms(jacobians: Iterable[np.ndarray], block: slice = slice(None)) -> np.ndarray:
    """Spectral norm of block of J(d)···J(2)J(1), for d = 1, 2, ...

    The running product is rescaled every step and its scale kept as a logarithm, so
    products far beyond the float64 range never turn into inf·0 = NaN; a norm that is
    itself out of range comes back as inf or 0.
    """
    product, log_scale, norms = None, 0.0, []
    for jacobian in jacobians:
        product = jacobian if product is None else jacobian @ product
        largest = np.abs(product).max()
        if largest > 0:
            product = product / largest
            log_scale += np.log(largest)
        with np.errstate(over="ignore", under="ignore"):
            norms.append(np.exp(log_scale) * np.linalg.norm(product[block, block], 2))
    return np.array(norms)


def elman_jacobians(params: dict[str, np.ndarray], xs: np.ndarray) -> Iterable[np.ndarray]:
    """∂h(t)/∂h(t-1) = diag(1 - h(t)²) W_hh along the trajectory from h(0) = 0."""
    h = np.zeros(params["W_hh"].shape[0])
    for x in xs:
        h = elman_step(params, x, h)
        yield (1.0 - h * h)[:, None] * params["W_hh"]


def lstm_state_jacobian(
    params: dict[str, np.ndarray], step: LSTMStep, C_prev: np.ndarray
) -> np.ndarray:
    """∂(h(t), C(t))/∂(h(t-1), C(t-1)), (2H, 2H) in blocks [[∂h/∂h, ∂h/∂C], [∂C/∂h, ∂C/∂C]]."""
    f, i, g, o = step.f, step.i, step.g, step.o
    dC_dC = np.diag(f)  # the cell path
    dC_dh = (  # h(t-1) moves C(t) through f, i and g
        (C_prev * f * (1 - f))[:, None] * params["W_hf"]
        + (g * i * (1 - i))[:, None] * params["W_hi"]
        + (i * (1 - g * g))[:, None] * params["W_hg"]
    )
    tanh_C = np.tanh(step.C)
    through_C = (o * (1 - tanh_C * tanh_C))[:, None]  # ∂h(t)/∂C(t), as row factors
    dh_dh = (tanh_C * o * (1 - o))[:, None] * params["W_ho"] + through_C * dC_dh
    dh_dC = through_C * dC_dC
    return np.block([[dh_dh, dh_dC], [dC_dh, dC_dC]])


def lstm_jacobians(params: dict[str, np.ndarray], xs: np.ndarray) -> Iterable[np.ndarray]:
    """The state Jacobians along the trajectory from h(0) = C(0) = 0."""
    h = C = np.zeros(params["W_hf"].shape[0])
    for x in xs:
        step = lstm_step(params, x, h, C)
        yield lstm_state_jacobian(params, step, C)
        h, C = step.h, step.C


def run_study(config: GradientStudyConfig) -> list[NormCurve]:
    """One curve per Elman radius, then one per LSTM forget bias; deterministic in the seed."""
    size, steps = config.hidden_size, config.steps
    check_gradient_study(size, steps, len(config.radii) + len(config.forget_biases))
    rng = np.random.default_rng(config.seed)
    # Every Elman setting shares Q, W_xh and the inputs, so only the radius differs;
    # likewise every LSTM setting shares its weights and inputs, so only b_f differs.
    q = scaled_orthogonal(rng, size, 1.0)
    elman_base = {"W_xh": input_weights(rng, size, config.elman_input_scale), "b_h": np.zeros(size)}
    elman_xs = rng.standard_normal((steps, size))
    lstm_base = {}
    for gate in GATES:
        lstm_base[f"W_x{gate}"] = input_weights(rng, size, config.lstm_input_scale)
        lstm_base[f"W_h{gate}"] = scaled_orthogonal(rng, size, config.lstm_radius)
        lstm_base[f"b_{gate}"] = np.zeros(size)
    lstm_xs = rng.standard_normal((steps, size))

    curves = []
    for radius in config.radii:
        params = elman_base | {"W_hh": radius * q}
        norms = chained_norms(elman_jacobians(params, elman_xs))
        curves.append(NormCurve("elman", f"radius={radius:g}", norms))
    cell = slice(size, 2 * size)
    for bias in config.forget_biases:
        params = lstm_base | {"b_f": np.full(size, bias)}
        norms = chained_norms(lstm_jacobians(params, lstm_xs), block=cell)
        curves.append(NormCurve("lstm", f"forget_bias={bias:g}", norms))
    return curves


def norms_table(curves: list[NormCurve], distances: Iterable[int] = TABLE_DISTANCES) -> str:
    """A plain-text table of each curve's norm at the given distances (those within range)."""
    steps = len(curves[0].norms)
    shown = [d for d in distances if d <= steps]
    header = f"{'model':<6} {'setting':<16}" + "".join(f" {f'd={d}':>10}" for d in shown)
    rows = [
        f"{c.model:<6} {c.setting:<16}" + "".join(f" {c.at(d):>10.3e}" for d in shown)
        for c in curves
    ]
    return "\n".join([header, *rows])


def write_study(curves: list[NormCurve], out_dir: str | Path, *,
                overwrite: bool = False) -> list[Path]:
    """gradients.csv and gradients.png in `out_dir`; either already there is replaced only with
    `overwrite`. Returns their paths."""
    out_dir = check_folder_files(out_dir, OUTPUT_FILES, overwrite=overwrite)
    table, picture = (out_dir / name for name in OUTPUT_FILES)
    write_csv(curves, table)
    write_plot(curves, picture)
    return [table, picture]


def write_csv(curves: list[NormCurve], path: Path) -> None:
    """Long format, one row per (curve, distance): model, setting, distance, norm."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["model", "setting", "distance", "norm"])
        for curve in curves:
            for distance, norm in enumerate(curve.norms, start=1):
                writer.writerow([curve.model, curve.setting, distance, repr(float(norm))])


PLOTTABLE = (1e-100, 1e100)  # norms drawn: a log axis spanning more decades overflows


def write_plot(curves: list[NormCurve], path: Path) -> None:
    """All curves on one log-scale axis: solid lines Elman ‖∂h/∂h‖, dashed lines LSTM ‖∂C/∂C‖."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

    fig = Figure(figsize=(8, 5))
    ax = fig.add_subplot()
    for curve in curves:
        distances = np.arange(1, len(curve.norms) + 1)
        if curve.model == "elman":
            label, style = f"Elman {curve.setting}: ‖∂h(t)/∂h(k)‖", "-"
        else:
            label, style = f"LSTM {curve.setting}: ‖∂C(t)/∂C(k)‖", "--"
        # an extreme radius drives norms to 1e300 and inf: the picture leaves them out (the
        # CSV keeps them), since a log axis over hundreds of decades overflows in its ticks
        shown = np.where((curve.norms >= PLOTTABLE[0]) & (curve.norms <= PLOTTABLE[1]),
                         curve.norms, np.nan)
        ax.plot(distances, shown, style, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("distance t − k (steps)")
    ax.set_ylabel("spectral norm of the chained Jacobian")
    ax.set_title("Vanishing and exploding gradients through time")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    # Fixed margins: tight_layout would measure every label and double the run time.
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.1, top=0.93)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
