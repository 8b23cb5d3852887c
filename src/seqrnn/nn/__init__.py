"""Recurrent networks written out from their equations.

- `cells`: one time step of the Elman RNN (both of the lecture's formulations), LSTM and GRU,
  and the registry `CELL_TYPES` ("rnn", "lstm", "gru").
- `layers`: `RecurrentStack`, cells unrolled over time and stacked, with the calling convention of
  torch.nn.RNN / LSTM / GRU(batch_first=True); `OutputLayer`, y(t) = φ_y(W_hy h(t) + b_y).
- `convert`: exact weight conversion to and from torch's fused modules.
- `factory`: `make_recurrent`, which builds either implementation from either initialisation
  (`IMPLS`, `INITS`); every model builds its recurrent layers with it.
"""

from seqrnn.nn.cells import (
    CELL_TYPES,
    ConcatElmanCell,
    ElmanCell,
    GRUCell,
    LSTMCell,
    RecurrentCell,
    State,
    cell_class,
)
from seqrnn.nn.convert import (
    TorchWeights,
    cell_to_torch,
    copy_from_torch,
    copy_to_torch,
    from_torch,
    load_from_torch,
    to_concatenated,
    to_separate,
    to_torch,
)
from seqrnn.nn.factory import IMPLS, INITS, make_recurrent
from seqrnn.nn.layers import OUTPUT_ACTIVATIONS, OutputLayer, RecurrentStack, unroll

__all__ = [
    "CELL_TYPES",
    "IMPLS",
    "INITS",
    "OUTPUT_ACTIVATIONS",
    "ConcatElmanCell",
    "ElmanCell",
    "GRUCell",
    "LSTMCell",
    "OutputLayer",
    "RecurrentCell",
    "RecurrentStack",
    "State",
    "TorchWeights",
    "cell_class",
    "cell_to_torch",
    "copy_from_torch",
    "copy_to_torch",
    "from_torch",
    "load_from_torch",
    "make_recurrent",
    "to_concatenated",
    "to_separate",
    "to_torch",
    "unroll",
]
