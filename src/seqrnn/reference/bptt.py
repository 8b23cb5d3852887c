"""What the Elman and LSTM references share: the output layer, the loss, and the truncation rule.

Both references (`seqrnn.reference.elman`, `seqrnn.reference.lstm`) predict a class at every
step and sum the losses, as in the lecture:

    y(t) = softmax(W_hy h(t) + b_y)          L(t) = -log y(t)[target(t)]          L = Σ_t L(t)

Softmax and cross-entropy are differentiated together: with z(t) = W_hy h(t) + b_y,
∂L(t)/∂z(t) = y(t) - onehot(target(t)), the familiar "probabilities minus one at the target".

Truncated backpropagation through time
--------------------------------------
With a window of k steps the sequence is cut into windows [0, k), [k, 2k), ... (the
TensorFlow / pytorch word_language_model way). The forward pass is untouched: the state
flows through every step and the loss is the same L. Backward, the state entering a
window is treated as a constant, as `state.detach()` does in torch, so the gradient that
flows back through h (and the LSTM's C) stops at the first step of each window:

    step t     0  1  2 | 3  4  5 | 6  7          T = 8, k = 3
    forward    ──────────────────────────►      h, C carried across every step
    backward   ◄─────── ✂ ◄────── ✂ ◄─────      dh_next, dC_next reset to 0 at t = 3, 6

Every loss term still reaches the weights: L(t) sends gradient back through the steps
of its own window only. The result is the sum over windows of each window's gradient,
all taken at the same weights (a trainer would update the weights between windows;
this reference computes one pass so it can be compared with autograd). With k >= T
nothing is cut and truncated BPTT is full BPTT.
"""

from __future__ import annotations

import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    """Probabilities from logits; the max is subtracted so that exp cannot overflow."""
    e = np.exp(z - z.max())
    return e / e.sum()


def one_hot(indices: np.ndarray, size: int) -> np.ndarray:
    """Rows of the identity: `one_hot([2, 0], 3)` is [[0, 0, 1], [1, 0, 0]]."""
    return np.eye(size)[np.asarray(indices)]


def output_forward(
    W_hy: np.ndarray, b_y: np.ndarray, h: np.ndarray, target: int
) -> tuple[np.ndarray, float]:
    """One step of the output layer: y(t) = softmax(W_hy h(t) + b_y), L(t) = -log y(t)[target]."""
    p = softmax(W_hy @ h + b_y)
    return p, -float(np.log(p[target]))


def output_backward(p: np.ndarray, target: int) -> np.ndarray:
    """∂L(t)/∂z(t) for z(t) = W_hy h(t) + b_y: softmax probabilities minus the one-hot target."""
    dz = p.copy()
    dz[target] -= 1.0
    return dz


def check_truncate(truncate: int | None) -> None:
    """`truncate` is a window length in steps (>= 1), or None for full BPTT."""
    if truncate is not None and truncate < 1:
        raise ValueError(f"truncate must be a window length >= 1 or None, got {truncate}")


def starts_window(t: int, truncate: int | None) -> bool:
    """True where step t begins a truncation window (t = k, 2k, ...): the carried gradient stops."""
    return truncate is not None and t % truncate == 0
