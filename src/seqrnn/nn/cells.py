"""The recurrent cells, each one time step of the lecture's equations.

Shapes: B batch, I input size, H hidden size. A cell maps one input x(t) (B, I) and the previous
state to the next state: `state = cell(x, state)`. The state is h (B, H) for the Elman RNN and the
GRU, and the pair (h, C) for the LSTM -- the convention of torch.nn.RNNCell / LSTMCell / GRUCell.

Rows of x are examples, so the lecture's W x becomes `x @ W.T` here.

The gated cells stack their per-gate matrices row-wise (W_x holds W_xi, W_xf, ... one under the
other) so that one matmul computes every gate's pre-activation, which `chunk` then splits. The gate
order is torch's, so converting weights to torch's fused modules is a copy (seqrnn.nn.convert).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

import torch
from torch import Tensor, nn

from seqrnn.errors import UserError

State = Tensor | tuple[Tensor, Tensor]

NONLINEARITIES: dict[str, Callable[[Tensor], Tensor]] = {"tanh": torch.tanh, "relu": torch.relu}


class RecurrentCell(nn.Module):
    """One time step of a recurrence; subclasses write the equations in `forward(x, state)`.

    `fused` names torch's multi-layer module that computes the same recurrence; `nonlinearities`
    lists the φ a user may choose (the gated cells' tanh is part of their equations).
    """

    fused: ClassVar[type[nn.RNNBase]]
    nonlinearities: ClassVar[tuple[str, ...]] = ("tanh",)

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh") -> None:
        super().__init__()
        self.check_nonlinearity(nonlinearity)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.nonlinearity = nonlinearity

    @classmethod
    def check_nonlinearity(cls, nonlinearity: str) -> None:
        """UserError unless φ = `nonlinearity` is one this cell offers."""
        if nonlinearity not in cls.nonlinearities:
            raise UserError(
                f"nonlinearity {nonlinearity!r} is not available for {cls.__name__}; "
                f"choose one of: {', '.join(cls.nonlinearities)}"
            )

    def reset_parameters(self) -> None:
        """Torch's default initialisation: every weight and bias uniform in ±1/sqrt(H)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def zero_state(self, batch_size: int, like: Tensor) -> State:
        """The all-zero initial state, with the dtype and device of `like`."""
        return like.new_zeros(batch_size, self.hidden_size)  # (B, H)

    def output(self, state: State) -> Tensor:
        """The part of the state the layer emits at each step: h(t)."""
        return state

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}"


class ElmanCell(RecurrentCell):
    """Elman RNN, the lecture's formulation 1 ("separate" weights):

        h(t) = φ(W_xh x(t) + W_hh h(t−1) + b_h)

    φ is tanh (the default) or relu.
    """

    fused = nn.RNN
    nonlinearities = ("tanh", "relu")

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh") -> None:
        super().__init__(input_size, hidden_size, nonlinearity)
        self.W_xh = nn.Parameter(torch.empty(hidden_size, input_size))  # (H, I)
        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))  # (H, H)
        self.b_h = nn.Parameter(torch.empty(hidden_size))  # (H,)
        self.reset_parameters()

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        """x (B, I), h = h(t−1) (B, H) -> h(t) (B, H)."""
        phi = NONLINEARITIES[self.nonlinearity]
        return phi(x @ self.W_xh.T + h @ self.W_hh.T + self.b_h)  # (B, H)


class ConcatElmanCell(RecurrentCell):
    """Elman RNN, the lecture's formulation 2 (one matrix on the concatenated input):

        h(t) = φ(W_h [x(t); h(t−1)] + b_h)

    The same function as ElmanCell when W_h = [W_xh  W_hh] (seqrnn.nn.convert.to_concatenated).
    """

    fused = nn.RNN
    nonlinearities = ("tanh", "relu")

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh") -> None:
        super().__init__(input_size, hidden_size, nonlinearity)
        self.W_h = nn.Parameter(torch.empty(hidden_size, input_size + hidden_size))  # (H, I+H)
        self.b_h = nn.Parameter(torch.empty(hidden_size))  # (H,)
        self.reset_parameters()

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        """x (B, I), h = h(t−1) (B, H) -> h(t) (B, H)."""
        phi = NONLINEARITIES[self.nonlinearity]
        xh = torch.cat([x, h], dim=-1)  # (B, I+H)
        return phi(xh @ self.W_h.T + self.b_h)  # (B, H)


class LSTMCell(RecurrentCell):
    """Long short-term memory, exactly the lecture's equations:

        i = σ(W_xi x(t) + W_hi h(t−1) + b_i)      input gate: how much of g to write
        f = σ(W_xf x(t) + W_hf h(t−1) + b_f)      forget gate: how much of C(t−1) to keep
        g = tanh(W_xg x(t) + W_hg h(t−1) + b_g)   candidate values
        o = σ(W_xo x(t) + W_ho h(t−1) + b_o)      output gate: how much of the memory to show
        C(t) = C(t−1) ⊙ f + i ⊙ g
        h(t) = o ⊙ tanh(C(t))

    Gate order along the rows of W_x (4H, I), W_h (4H, H) and b (4H,): i, f, g, o (torch's).

    b_f starts at `forget_bias`, 1 by default as in char-rnn: σ(1) ≈ 0.73, so a fresh cell keeps
    most of its memory and gradients flow back through C from the first updates. Conversion to
    torch stays exact; the starting value is just part of the weights.
    """

    fused = nn.LSTM

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        nonlinearity: str = "tanh",
        forget_bias: float = 1.0,
    ) -> None:
        super().__init__(input_size, hidden_size, nonlinearity)
        self.forget_bias = forget_bias
        self.W_x = nn.Parameter(torch.empty(4 * hidden_size, input_size))  # (4H, I)
        self.W_h = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))  # (4H, H)
        self.b = nn.Parameter(torch.empty(4 * hidden_size))  # (4H,)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        H = self.hidden_size
        with torch.no_grad():
            self.b[H : 2 * H].fill_(self.forget_bias)  # b_f: the second block in i, f, g, o

    def zero_state(self, batch_size: int, like: Tensor) -> tuple[Tensor, Tensor]:
        zeros = like.new_zeros(batch_size, self.hidden_size)  # (B, H)
        return zeros, zeros.clone()

    def output(self, state: tuple[Tensor, Tensor]) -> Tensor:
        return state[0]

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        """x (B, I), state (h(t−1), C(t−1)) each (B, H) -> (h(t), C(t)) each (B, H)."""
        h, c = state
        a = x @ self.W_x.T + h @ self.W_h.T + self.b  # (B, 4H): all four pre-activations
        a_i, a_f, a_g, a_o = a.chunk(4, dim=-1)  # (B, H) each, gate order i, f, g, o
        i = torch.sigmoid(a_i)  # input gate
        f = torch.sigmoid(a_f)  # forget gate
        g = torch.tanh(a_g)  # candidate values
        o = torch.sigmoid(a_o)  # output gate
        c = c * f + i * g  # C(t) = C(t−1) ⊙ f + i ⊙ g     (B, H)
        h = o * torch.tanh(c)  # h(t) = o ⊙ tanh(C(t))      (B, H)
        return h, c

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, forget_bias={self.forget_bias}"


class GRUCell(RecurrentCell):
    """Gated recurrent unit, torch.nn.GRU's equations:

        r = σ(W_xr x(t) + W_hr h(t−1) + b_r)                 reset gate
        z = σ(W_xz x(t) + W_hz h(t−1) + b_z)                 update gate
        n = tanh(W_xn x(t) + b_n + r ⊙ (W_hn h(t−1) + b_hn))  candidate
        h(t) = (1 − z) ⊙ n + z ⊙ h(t−1)

    Gate order along the rows of W_x (3H, I), W_h (3H, H) and b (3H,): r, z, n (torch's).
    b_hn sits inside the product with r, so it cannot be folded into b_n: it is its own parameter.
    """

    fused = nn.GRU

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh") -> None:
        super().__init__(input_size, hidden_size, nonlinearity)
        self.W_x = nn.Parameter(torch.empty(3 * hidden_size, input_size))  # (3H, I)
        self.W_h = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))  # (3H, H)
        self.b = nn.Parameter(torch.empty(3 * hidden_size))  # (3H,): b_r, b_z, b_n
        self.b_hn = nn.Parameter(torch.empty(hidden_size))  # (H,)
        self.reset_parameters()

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        """x (B, I), h = h(t−1) (B, H) -> h(t) (B, H)."""
        x_r, x_z, x_n = (x @ self.W_x.T + self.b).chunk(3, dim=-1)  # (B, H) each, order r, z, n
        h_r, h_z, h_n = (h @ self.W_h.T).chunk(3, dim=-1)  # (B, H) each
        r = torch.sigmoid(x_r + h_r)  # reset gate
        z = torch.sigmoid(x_z + h_z)  # update gate
        n = torch.tanh(x_n + r * (h_n + self.b_hn))  # candidate
        return (1 - z) * n + z * h  # (B, H)


# The cell types a user can name; everything else looks a cell up here, once.
CELL_TYPES: dict[str, type[RecurrentCell]] = {"rnn": ElmanCell, "lstm": LSTMCell, "gru": GRUCell}


def cell_class(cell_type: str) -> type[RecurrentCell]:
    """The cell class registered under `cell_type` ("rnn", "lstm" or "gru")."""
    try:
        return CELL_TYPES[cell_type]
    except KeyError:
        raise UserError(
            f"unknown cell type {cell_type!r}; choose one of: {', '.join(CELL_TYPES)}"
        ) from None
