"""Elman RNN with backpropagation through time written out by hand, in numpy (no autograd).

The model, one step at a time (no batch dimension; x(t) may be one-hot or any real vector):

    h(t) = tanh(W_xh x(t) + W_hh h(t-1) + b_h)
    y(t) = softmax(W_hy h(t) + b_y),      L = Σ_t -log y(t)[target(t)]

This is the oracle the fast paths are tested against, in the shape of Karpathy's
min-char-rnn: the forward pass stores what backward needs (xs, hs, ps per step) and the
backward pass walks `reversed(range(T))` carrying `dh_next` back. Parameters are a dict of
arrays named as in the lecture (`ELMAN_PARAMS`); gradients come back under the same names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqrnn.reference.bptt import (
    check_truncate,
    output_backward,
    output_forward,
    starts_window,
)

ELMAN_PARAMS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def init_elman(
    input_size: int,
    hidden_size: int,
    output_size: int,
    rng: np.random.Generator,
    scale: float = 0.1,
) -> dict[str, np.ndarray]:
    """Gaussian weights with standard deviation `scale`, small random biases (float64)."""
    shapes = {
        "W_xh": (hidden_size, input_size),
        "W_hh": (hidden_size, hidden_size),
        "b_h": (hidden_size,),
        "W_hy": (output_size, hidden_size),
        "b_y": (output_size,),
    }
    return {name: scale * rng.standard_normal(shape) for name, shape in shapes.items()}


def elman_step(params: dict[str, np.ndarray], x: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
    """h(t) = tanh(W_xh x(t) + W_hh h(t-1) + b_h)."""
    return np.tanh(params["W_xh"] @ x + params["W_hh"] @ h_prev + params["b_h"])


@dataclass(frozen=True)
class ElmanTape:
    """What the forward pass stored for the backward pass."""

    xs: np.ndarray  # (T, D) inputs
    targets: np.ndarray  # (T,) integer classes
    h0: np.ndarray  # (H,) state before step 0
    hs: np.ndarray  # (T, H) h(t); hs[-1] is the final state
    ps: np.ndarray  # (T, V) y(t), the softmax probabilities
    loss: float  # L = Σ_t L(t)

    def h_prev(self, t: int) -> np.ndarray:
        return self.hs[t - 1] if t > 0 else self.h0


def elman_forward(
    params: dict[str, np.ndarray],
    xs: np.ndarray,
    targets: np.ndarray,
    h0: np.ndarray | None = None,
) -> ElmanTape:
    """Run T steps from `h0` (zeros if None) and return the loss with everything backward needs."""
    hidden_size = params["W_hh"].shape[0]
    h0 = np.zeros(hidden_size) if h0 is None else np.asarray(h0, dtype=float)
    h = h0
    hs, ps, loss = [], [], 0.0
    for t in range(len(xs)):
        h = elman_step(params, xs[t], h)
        p, loss_t = output_forward(params["W_hy"], params["b_y"], h, targets[t])
        hs.append(h)
        ps.append(p)
        loss += loss_t
    return ElmanTape(np.asarray(xs), np.asarray(targets), h0, np.array(hs), np.array(ps), loss)


def elman_backward(
    params: dict[str, np.ndarray], tape: ElmanTape, truncate: int | None = None
) -> dict[str, np.ndarray]:
    """Gradients of L with respect to every parameter: full BPTT, or truncated to windows of k.

    The lecture's chain for one loss term is

        ∂L(t)/∂W_hh = ∂L(t)/∂y(t) · ∂y(t)/∂h(t) · Σ_{k<=t} ∂h(t)/∂h(k) · ∂h(k)/∂W_hh,
        ∂h(t)/∂h(k) = Π_{i=k+1..t} ∂h(i)/∂h(i-1),      ∂h(i)/∂h(i-1) = diag(1 - h(i)²) W_hh,

    where ∂h(k)/∂W_hh is the immediate derivative (h(k-1) held fixed). Summing over t and
    grouping by k gives ∂L/∂W_hh = Σ_k δ(k) · ∂h(k)/∂W_hh with δ(k) = ∂L/∂h(k), the total
    gradient reaching h(k) from every loss at k and after. δ obeys a backward recursion,

        δ(k) = ∂L(k)/∂h(k) + δ(k+1) · ∂h(k+1)/∂h(k),

    so one walk from t = T-1 down to 0 computes all of it: `dh_next` is the second term,
    the gradient arriving from the future, multiplied by one more ∂h/∂h(prev) per step. The
    products of Jacobians in ∂h(t)/∂h(k) are exactly what vanishes or explodes when t - k is
    large (see `seqrnn.analysis.gradients`).

    `truncate=k` sets `dh_next` to zero at the start of each window of k steps
    (see `seqrnn.reference.bptt`); None means full BPTT.
    """
    check_truncate(truncate)
    W_hh, W_hy = params["W_hh"], params["W_hy"]
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    dh_next = np.zeros_like(tape.h0)
    for t in reversed(range(len(tape.xs))):
        h, h_prev = tape.hs[t], tape.h_prev(t)
        dz = output_backward(tape.ps[t], tape.targets[t])  # ∂L(t)/∂z(t)
        grads["W_hy"] += np.outer(dz, h)
        grads["b_y"] += dz
        dh = W_hy.T @ dz + dh_next  # δ(t): from this step's loss and from the future
        da = (1.0 - h * h) * dh  # through tanh: ∂L/∂(pre-activation)
        grads["W_xh"] += np.outer(da, tape.xs[t])
        grads["W_hh"] += np.outer(da, h_prev)
        grads["b_h"] += da
        dh_next = W_hh.T @ da  # δ(t) · ∂h(t)/∂h(t-1), carried to step t-1
        if starts_window(t, truncate):
            dh_next = np.zeros_like(dh_next)  # h(t-1) is a constant to this window
    return grads


def elman_loss_and_grads(
    params: dict[str, np.ndarray],
    xs: np.ndarray,
    targets: np.ndarray,
    h0: np.ndarray | None = None,
    truncate: int | None = None,
) -> tuple[float, dict[str, np.ndarray]]:
    """Forward then backward: the loss L and its (possibly truncated) gradients."""
    tape = elman_forward(params, xs, targets, h0)
    return tape.loss, elman_backward(params, tape, truncate)
