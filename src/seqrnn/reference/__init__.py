"""Numpy references with backpropagation through time written out by hand (no autograd).

`elman` and `lstm` hold one model each; `bptt` holds the output layer, the loss and the
truncation rule they share. Tests check the torch code against these, and these against
finite differences.
"""

from seqrnn.reference.bptt import one_hot, softmax
from seqrnn.reference.elman import (
    ELMAN_PARAMS,
    ElmanTape,
    elman_backward,
    elman_forward,
    elman_loss_and_grads,
    elman_step,
    init_elman,
)
from seqrnn.reference.lstm import (
    LSTM_PARAMS,
    LSTMStep,
    LSTMTape,
    init_lstm,
    lstm_backward,
    lstm_forward,
    lstm_loss_and_grads,
    lstm_step,
)

__all__ = [
    "ELMAN_PARAMS",
    "LSTM_PARAMS",
    "ElmanTape",
    "LSTMStep",
    "LSTMTape",
    "elman_backward",
    "elman_forward",
    "elman_loss_and_grads",
    "elman_step",
    "init_elman",
    "init_lstm",
    "lstm_backward",
    "lstm_forward",
    "lstm_loss_and_grads",
    "lstm_step",
    "one_hot",
    "softmax",
]
