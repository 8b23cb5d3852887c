"""Cells unrolled over time and stacked into layers; the output layer y(t) = φ_y(W_hy h(t) + b_y).

`RecurrentStack` has the calling convention of torch.nn.RNN / LSTM / GRU with batch_first=True,
so the models can swap one for the other (seqrnn.nn.factory.make_recurrent):

    outputs, state = layer(x, state)     x (B, T, I) -> outputs (B, T, H)

Pass the state positionally: torch names the argument `hx`.

The loop calls the cell once per time step, input projection included, so each cell's forward
reads as its equations. Hoisting W_x x(t) for all t into one matmul would save time but split every
equation over two functions; this path is for teaching and as the tests' oracle, and the fused
torch module is the fast one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import Tensor, nn

from seqrnn.errors import UserError
from seqrnn.nn.cells import RecurrentCell, State, cell_class


def unroll(cell: RecurrentCell, x: Tensor, state: State) -> tuple[Tensor, State]:
    """Run `cell` over each step of x (B, T, I) from `state`; return all h(t) and the last state."""
    outputs = []
    for x_t in x.unbind(dim=1):  # x_t (B, I)
        state = cell(x_t, state)
        outputs.append(cell.output(state))  # h(t) (B, H)
    return torch.stack(outputs, dim=1), state  # (B, T, H)


def _per_layer(state: State) -> list[State]:
    """Split a stacked state, h (L, B, H) or (h, c), into one state per layer."""
    if isinstance(state, Tensor):
        return list(state.unbind(0))
    return [tuple(parts) for parts in zip(*(part.unbind(0) for part in state), strict=True)]


def _stacked(states: list[State]) -> State:
    """The inverse of `_per_layer`: per-layer states stacked along a new first axis."""
    if isinstance(states[0], Tensor):
        return torch.stack(states)
    return tuple(torch.stack(parts) for parts in zip(*states, strict=True))


def _describe(state: object) -> str:
    """A state's shapes for error messages: `(2, 3, 4)`, or `((2, 3, 4), (2, 3, 4))` for (h, c)."""
    if isinstance(state, Tensor):
        return str(tuple(state.shape))
    if isinstance(state, tuple | list):
        return "(" + ", ".join(_describe(part) for part in state) + ")"
    return type(state).__name__


def _same_layout(state: object, template: State) -> bool:
    """Whether `state` has the template's structure (tensor or tuple) and shapes."""
    if isinstance(template, Tensor):
        return isinstance(state, Tensor) and state.shape == template.shape
    return (
        isinstance(state, tuple | list)
        and len(state) == len(template)
        and all(_same_layout(part, want) for part, want in zip(state, template, strict=True))
    )


# Stacks deeper than this take minutes just to build, and train no better than 4 layers.
MAX_LAYERS = 100


def check_layers(num_layers: int, dropout: float = 0.0) -> None:
    """UserError for a stack seqrnn does not build: no layers, more than MAX_LAYERS (checked
    before a layer is made, also for a run folder's config.json), or dropout outside [0, 1)."""
    if num_layers < 1:
        raise UserError(f"num_layers must be at least 1, got {num_layers}")
    if num_layers > MAX_LAYERS:
        raise UserError(f"{{num_layers}} {num_layers} is more than the {MAX_LAYERS} layers "
                        "seqrnn builds: choose a smaller {num_layers}", fields=("num_layers",))
    if not 0.0 <= dropout < 1.0:
        raise UserError(f"dropout must be in [0, 1), got {dropout}")


class RecurrentStack(nn.Module):
    """`num_layers` explicit cells, each unrolled over time, layer k's outputs feeding layer k+1.

    forward(x, state=None) -> (outputs, state), batch first:
        x        (B, T, I)
        outputs  (B, T, H)   the last layer's h(t) at every step
        state    h (num_layers, B, H) for "rnn" and "gru", the pair (h, c) of them for "lstm";
                 zeros when None; the returned state is the one after the last step.

    Dropout acts on each layer's outputs before they feed the next layer, never after the last
    layer, and only in training mode -- as in torch. The attributes mirror torch's modules
    (input_size, hidden_size, num_layers, dropout, batch_first).
    """

    batch_first = True

    def __init__(
        self,
        cell_type: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        nonlinearity: str = "tanh",
    ) -> None:
        super().__init__()
        check_layers(num_layers, dropout)
        cell = cell_class(cell_type)
        self.cell_type = cell_type
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.nonlinearity = nonlinearity
        self.cells = nn.ModuleList(
            cell(input_size if k == 0 else hidden_size, hidden_size, nonlinearity)
            for k in range(num_layers)
        )
        self.between_layers = nn.Dropout(dropout)

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        if x.dim() != 3 or x.shape[1] == 0 or x.shape[2] != self.input_size:
            raise ValueError(
                f"input must be (batch, time, {self.input_size}) with time >= 1, "
                f"got {tuple(x.shape)}"
            )
        zeros = _stacked([cell.zero_state(x.shape[0], like=x) for cell in self.cells])
        if state is None:
            state = zeros
        elif not _same_layout(state, zeros):
            raise ValueError(
                f"{self.cell_type} state must have shape {_describe(zeros)}, "
                f"(num_layers, batch, hidden_size) per tensor; got {_describe(state)}"
            )
        outputs = x
        final_states = []
        for k, (cell, layer_state) in enumerate(zip(self.cells, _per_layer(state), strict=True)):
            outputs, final_state = unroll(cell, outputs, layer_state)  # (B, T, H)
            final_states.append(final_state)
            if k < self.num_layers - 1:
                outputs = self.between_layers(outputs)  # dropout between layers, not after the last
        return outputs, _stacked(final_states)

    def extra_repr(self) -> str:
        return f"cell_type={self.cell_type!r}, num_layers={self.num_layers}, dropout={self.dropout}"


def _identity(a: Tensor) -> Tensor:
    return a


OUTPUT_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "identity": _identity,
    "softmax": functools.partial(torch.softmax, dim=-1),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
}


class OutputLayer(nn.Module):
    """The lecture's output layer: y(t) = φ_y(W_hy h(t) + b_y), on h (..., H) -> y (..., O).

    φ_y is the identity by default: a model trained with cross-entropy wants logits, because the
    loss applies its own (numerically safer) log-softmax. "softmax", "sigmoid" and "tanh" are there
    for outputs read directly as probabilities or bounded values.
    """

    def __init__(self, hidden_size: int, output_size: int, activation: str = "identity") -> None:
        super().__init__()
        if activation not in OUTPUT_ACTIVATIONS:
            raise UserError(
                f"unknown output activation {activation!r}; "
                f"choose one of: {', '.join(OUTPUT_ACTIVATIONS)}"
            )
        self.hidden_size = hidden_size
        self.output_size = output_size
        self.activation = activation
        bound = hidden_size**-0.5  # as nn.Linear: uniform in ±1/sqrt(fan_in)
        W_hy = torch.empty(output_size, hidden_size).uniform_(-bound, bound)  # (O, H)
        self.W_hy = nn.Parameter(W_hy)
        self.b_y = nn.Parameter(torch.empty(output_size).uniform_(-bound, bound))  # (O,)

    def forward(self, h: Tensor) -> Tensor:
        phi_y = OUTPUT_ACTIVATIONS[self.activation]
        return phi_y(h @ self.W_hy.T + self.b_y)  # (..., O)

    def extra_repr(self) -> str:
        return f"{self.hidden_size}, {self.output_size}, activation={self.activation!r}"
