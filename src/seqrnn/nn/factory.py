"""The one factory every kind's model builds its recurrent layers with.

Two choices, independent of each other:

    impl  "fused"     torch's nn.RNN / LSTM / GRU, the fast one
          "explicit"  the cells written out from their equations (RecurrentStack), for teaching
    init  "cells"     the explicit cells' initialisation: uniform in ±1/sqrt(H), LSTM forget bias 1
          "torch"     torch's default for its fused modules: uniform in ±1/sqrt(H), both biases

Whichever implementation owns the chosen initialisation draws the weights; the other gets them
by exact conversion (seqrnn.nn.convert), so for the same seed both start as the same function.
"""

from __future__ import annotations

import torch
from torch import nn

from seqrnn.errors import UserError
from seqrnn.nn.cells import cell_class
from seqrnn.nn.convert import from_torch, fused_module, to_torch
from seqrnn.nn.layers import RecurrentStack, check_layers

IMPLS = ("fused", "explicit")
INITS = ("cells", "torch")


def _require(kind: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UserError(f"unknown {kind} {value!r}; choose one of: {', '.join(allowed)}")


def make_recurrent(
    cell_type: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    dropout: float = 0.0,
    nonlinearity: str = "tanh",
    impl: str = "fused",
    init: str = "cells",
) -> nn.Module:
    """A recurrent layer stack: torch's fused module ("fused") or the explicit cells ("explicit").

    Both take x (B, T, I) and an optional state and return (outputs (B, T, H), state), with the
    state h (num_layers, B, H) or, for "lstm", (h, c); pass the state positionally.

    init="cells" (the language model's): a fresh explicit stack, converted for "fused" (in torch:
    b_ih's forget block is 1 and b_hh is 0). init="torch" (the classifier's): a fresh fused module,
    converted for "explicit" (b = b_ih + b_hh). One difference stays in training: torch updates
    b_ih and b_hh, each with the gradient of their sum, so the sum moves about twice as far per
    optimiser step as the explicit single bias.
    """
    _require("implementation", impl, IMPLS)
    _require("initialisation", init, INITS)
    layout = (input_size, hidden_size, num_layers, dropout, nonlinearity)
    if init == "cells":
        stack = RecurrentStack(cell_type, *layout)
        return to_torch(stack) if impl == "fused" else stack
    check_layers(num_layers, dropout)
    module = fused_module(cell_class(cell_type), *layout)
    if impl == "fused":
        return module
    # The stack's own draws are overwritten at once; undo them so that what the caller draws
    # next (more layers, a head) is what it would draw after the fused module.
    with torch.random.fork_rng(devices=[]):
        return from_torch(module)
