"""LSTM with backpropagation through time written out by hand, in numpy (no autograd).

The lecture's equations, one step at a time (no batch dimension; σ is the logistic sigmoid):

    f(t) = σ(W_xf x(t) + W_hf h(t-1) + b_f)        forget gate: how much of C(t-1) to keep
    i(t) = σ(W_xi x(t) + W_hi h(t-1) + b_i)        input gate: how much of g(t) to write
    g(t) = tanh(W_xg x(t) + W_hg h(t-1) + b_g)     candidate values
    o(t) = σ(W_xo x(t) + W_ho h(t-1) + b_o)        output gate
    C(t) = C(t-1) ⊙ f(t) + i(t) ⊙ g(t)
    h(t) = o(t) ⊙ tanh(C(t))
    y(t) = softmax(W_hy h(t) + b_y),   L = Σ_t -log y(t)[target(t)]

Each gate has its own matrices, named as in the lecture (`LSTM_PARAMS`); torch's `nn.LSTM`
stacks the same four blocks in the order i, f, g, o.
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

GATES = ("f", "i", "g", "o")
LSTM_PARAMS = tuple(
    name for gate in GATES for name in (f"W_x{gate}", f"W_h{gate}", f"b_{gate}")
) + ("W_hy", "b_y")


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def init_lstm(
    input_size: int,
    hidden_size: int,
    output_size: int,
    rng: np.random.Generator,
    scale: float = 0.1,
) -> dict[str, np.ndarray]:
    """Gaussian weights with standard deviation `scale`, small random biases (float64)."""
    params = {}
    for gate in GATES:
        params[f"W_x{gate}"] = scale * rng.standard_normal((hidden_size, input_size))
        params[f"W_h{gate}"] = scale * rng.standard_normal((hidden_size, hidden_size))
        params[f"b_{gate}"] = scale * rng.standard_normal(hidden_size)
    params["W_hy"] = scale * rng.standard_normal((output_size, hidden_size))
    params["b_y"] = scale * rng.standard_normal(output_size)
    return params


@dataclass(frozen=True)
class LSTMStep:
    """The gates and the new state of one step: everything backward needs from it."""

    f: np.ndarray
    i: np.ndarray
    g: np.ndarray
    o: np.ndarray
    C: np.ndarray
    h: np.ndarray


def lstm_step(
    params: dict[str, np.ndarray], x: np.ndarray, h_prev: np.ndarray, C_prev: np.ndarray
) -> LSTMStep:
    """One step of the lecture's LSTM; returns the gates as well as (h(t), C(t))."""

    def pre(gate: str) -> np.ndarray:
        return params[f"W_x{gate}"] @ x + params[f"W_h{gate}"] @ h_prev + params[f"b_{gate}"]

    f, i, g, o = sigmoid(pre("f")), sigmoid(pre("i")), np.tanh(pre("g")), sigmoid(pre("o"))
    C = C_prev * f + i * g
    return LSTMStep(f=f, i=i, g=g, o=o, C=C, h=o * np.tanh(C))


@dataclass(frozen=True)
class LSTMTape:
    """What the forward pass stored for the backward pass."""

    xs: np.ndarray  # (T, D) inputs
    targets: np.ndarray  # (T,) integer classes
    h0: np.ndarray  # (H,) states before step 0
    C0: np.ndarray  # (H,)
    steps: list[LSTMStep]  # gates and states of every step
    ps: np.ndarray  # (T, V) y(t), the softmax probabilities
    loss: float  # L = Σ_t L(t)

    def prev(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(h(t-1), C(t-1))."""
        if t == 0:
            return self.h0, self.C0
        return self.steps[t - 1].h, self.steps[t - 1].C


def lstm_forward(
    params: dict[str, np.ndarray],
    xs: np.ndarray,
    targets: np.ndarray,
    h0: np.ndarray | None = None,
    C0: np.ndarray | None = None,
) -> LSTMTape:
    """Run T steps from (h0, C0) (zeros if None) and return the loss with what backward needs."""
    hidden_size = params["W_hf"].shape[0]
    h0 = np.zeros(hidden_size) if h0 is None else np.asarray(h0, dtype=float)
    C0 = np.zeros(hidden_size) if C0 is None else np.asarray(C0, dtype=float)
    h, C = h0, C0
    steps, ps, loss = [], [], 0.0
    for t in range(len(xs)):
        step = lstm_step(params, xs[t], h, C)
        h, C = step.h, step.C
        p, loss_t = output_forward(params["W_hy"], params["b_y"], h, targets[t])
        steps.append(step)
        ps.append(p)
        loss += loss_t
    return LSTMTape(np.asarray(xs), np.asarray(targets), h0, C0, steps, np.array(ps), loss)


def lstm_backward(
    params: dict[str, np.ndarray], tape: LSTMTape, truncate: int | None = None
) -> dict[str, np.ndarray]:
    """Gradients of L with respect to every parameter: full BPTT, or truncated to windows of k.

    Same chain as the Elman RNN (`seqrnn.reference.elman.elman_backward`), but the state is
    the pair (h, C), so two gradients are carried back: `dh_next` = ∂L/∂h(t-1) and
    `dC_next` = ∂L/∂C(t-1) from the steps after t-1. At each step, with δh = ∂L/∂h(t):

        δC    = δh ⊙ o ⊙ (1 - tanh²C(t)) + dC_next         (through h(t) = o ⊙ tanh C, plus future)
        δo    = δh ⊙ tanh C(t)
        δf    = δC ⊙ C(t-1),   δi = δC ⊙ g,   δg = δC ⊙ i
        dC_next ← δC ⊙ f                                   (C(t) = C(t-1) ⊙ f + i ⊙ g)
        dh_next ← Σ_gates W_h*ᵀ (δ* ⊙ activation'(·))      (every gate reads h(t-1))

    The cell path ∂C(t)/∂C(t-1) = diag(f) has no weight matrix and no squashing
    derivative: with f near 1 the gradient passes many steps almost unchanged, which is
    how the LSTM answers the vanishing gradient (see `seqrnn.analysis.gradients`).

    `truncate=k` resets both `dh_next` and `dC_next` at the start of each window of k steps
    (see `seqrnn.reference.bptt`); None means full BPTT.
    """
    check_truncate(truncate)
    W_hy = params["W_hy"]
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    dh_next, dC_next = np.zeros_like(tape.h0), np.zeros_like(tape.C0)
    for t in reversed(range(len(tape.xs))):
        s = tape.steps[t]
        h_prev, C_prev = tape.prev(t)
        dz = output_backward(tape.ps[t], tape.targets[t])  # ∂L(t)/∂z(t)
        grads["W_hy"] += np.outer(dz, s.h)
        grads["b_y"] += dz
        dh = W_hy.T @ dz + dh_next  # ∂L/∂h(t): this step's loss plus the future
        tanh_C = np.tanh(s.C)
        dC = dh * s.o * (1.0 - tanh_C * tanh_C) + dC_next  # ∂L/∂C(t)
        # Gradients at the gates' pre-activations: sigmoid' = s(1-s), tanh' = 1 - g².
        d_pre = {
            "f": dC * C_prev * s.f * (1.0 - s.f),
            "i": dC * s.g * s.i * (1.0 - s.i),
            "g": dC * s.i * (1.0 - s.g * s.g),
            "o": dh * tanh_C * s.o * (1.0 - s.o),
        }
        dh_next = np.zeros_like(dh)
        for gate, da in d_pre.items():
            grads[f"W_x{gate}"] += np.outer(da, tape.xs[t])
            grads[f"W_h{gate}"] += np.outer(da, h_prev)
            grads[f"b_{gate}"] += da
            dh_next += params[f"W_h{gate}"].T @ da
        dC_next = dC * s.f  # the cell path: ∂C(t)/∂C(t-1) = diag(f)
        if starts_window(t, truncate):
            # (h(t-1), C(t-1)) are constants to this window.
            dh_next, dC_next = np.zeros_like(dh_next), np.zeros_like(dC_next)
    return grads


def lstm_loss_and_grads(
    params: dict[str, np.ndarray],
    xs: np.ndarray,
    targets: np.ndarray,
    h0: np.ndarray | None = None,
    C0: np.ndarray | None = None,
    truncate: int | None = None,
) -> tuple[float, dict[str, np.ndarray]]:
    """Forward then backward: the loss L and its (possibly truncated) gradients."""
    tape = lstm_forward(params, xs, targets, h0, C0)
    return tape.loss, lstm_backward(params, tape, truncate)
