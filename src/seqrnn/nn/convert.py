"""Weights between the explicit cells and torch's fused nn.RNN / nn.LSTM / nn.GRU.

Torch keeps two biases per layer, b_ih and b_hh, and adds them; the lecture has one. So:

    explicit -> torch   b_ih = b,  b_hh = 0
    torch -> explicit   b = b_ih + b_hh

Both directions compute the same function, and explicit -> torch -> explicit returns the very same
numbers. The GRU is the exception: its n-gate's hidden bias sits inside r ⊙ (W_hn h + b_hn), so
it is not added to b_n but kept as its own parameter b_hn, which goes to (and comes from) the last
third of torch's b_hh. Gate orders need no shuffling: the cells use torch's (LSTM i, f, g, o; GRU
r, z, n).

One layer's torch weights are `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`.
"""

from __future__ import annotations

from functools import singledispatch
from typing import NamedTuple

import torch
from torch import Tensor, nn

from seqrnn.nn.cells import (
    CELL_TYPES,
    ConcatElmanCell,
    ElmanCell,
    GRUCell,
    LSTMCell,
    RecurrentCell,
)
from seqrnn.nn.layers import RecurrentStack


class TorchWeights(NamedTuple):
    """One layer's parameters in torch's layout."""

    weight_ih: Tensor  # (G·H, I), G = 1, 4, 3 gates for rnn, lstm, gru
    weight_hh: Tensor  # (G·H, H)
    bias_ih: Tensor  # (G·H,)
    bias_hh: Tensor  # (G·H,)


@singledispatch
def cell_to_torch(cell: RecurrentCell) -> TorchWeights:
    """A cell's parameters in torch's layout; the weights are the cell's own tensors, not copies."""
    raise TypeError(f"no torch layout for {type(cell).__name__}")


@cell_to_torch.register
def _elman_to_torch(cell: ElmanCell) -> TorchWeights:
    return TorchWeights(cell.W_xh, cell.W_hh, cell.b_h, torch.zeros_like(cell.b_h))


@cell_to_torch.register
def _lstm_to_torch(cell: LSTMCell) -> TorchWeights:
    return TorchWeights(cell.W_x, cell.W_h, cell.b, torch.zeros_like(cell.b))


@cell_to_torch.register
def _gru_to_torch(cell: GRUCell) -> TorchWeights:
    zeros_rz = torch.zeros_like(cell.b[: 2 * cell.hidden_size])  # (2H,): r and z need no b_hh
    return TorchWeights(cell.W_x, cell.W_h, cell.b, torch.cat([zeros_rz, cell.b_hn]))


@singledispatch
def load_from_torch(cell: RecurrentCell, weights: TorchWeights) -> None:
    """Set a cell's parameters, in place, from one layer's torch weights."""
    raise TypeError(f"no torch layout for {type(cell).__name__}")


@load_from_torch.register(ElmanCell)
@load_from_torch.register(LSTMCell)
def _one_bias_from_torch(cell: ElmanCell | LSTMCell, weights: TorchWeights) -> None:
    # cell_to_torch names the cell's own input weights, hidden weights and bias, in that order.
    W_x, W_h, b, _ = cell_to_torch(cell)
    with torch.no_grad():
        W_x.copy_(weights.weight_ih)
        W_h.copy_(weights.weight_hh)
        b.copy_(weights.bias_ih + weights.bias_hh)


@load_from_torch.register
def _gru_from_torch(cell: GRUCell, weights: TorchWeights) -> None:
    H = cell.hidden_size
    with torch.no_grad():
        cell.W_x.copy_(weights.weight_ih)
        cell.W_h.copy_(weights.weight_hh)
        cell.b.copy_(weights.bias_ih)
        cell.b[: 2 * H] += weights.bias_hh[: 2 * H]  # r and z: the two biases simply add
        cell.b_hn.copy_(weights.bias_hh[2 * H :])  # n: stays inside r ⊙ (W_hn h + b_hn)


def fused_module(
    cell: type[RecurrentCell],
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    dropout: float = 0.0,
    nonlinearity: str = "tanh",
    dtype: torch.dtype | None = None,
    device: torch.device | None = None,
) -> nn.RNNBase:
    """Torch's fused module (batch_first=True) for `cell`'s recurrence, torch-initialised."""
    cell.check_nonlinearity(nonlinearity)
    options = {"nonlinearity": nonlinearity} if cell.fused is nn.RNN else {}  # only nn.RNN has a φ
    return cell.fused(
        input_size,
        hidden_size,
        num_layers,
        dropout=dropout,
        batch_first=True,
        dtype=dtype,
        device=device,
        **options,
    )


def _torch_layer(module: nn.RNNBase, k: int) -> TorchWeights:
    """Layer k's parameters of a torch module (the module's own tensors)."""
    return TorchWeights(*(getattr(module, f"{name}_l{k}") for name in TorchWeights._fields))


def _cell_type_of(module: nn.Module) -> str:
    """The registered cell type whose explicit stack can stand in for a torch module."""
    twins = [name for name, cell in CELL_TYPES.items() if type(module) is cell.fused]
    if not twins:
        raise ValueError(f"expected torch.nn.RNN, LSTM or GRU, got {type(module).__name__}")
    # The explicit stack has no bidirectional layers, projections or bias-free layers.
    if module.bidirectional or module.proj_size or not module.bias or not module.batch_first:
        raise ValueError(
            "only unidirectional torch modules with biases, no projection and batch_first=True "
            f"convert, got {module}"
        )
    return twins[0]


def _check_same_architecture(stack: RecurrentStack, module: nn.RNNBase) -> None:
    theirs = (
        _cell_type_of(module),
        getattr(module, "nonlinearity", "tanh"),
        module.input_size,
        module.hidden_size,
        module.num_layers,
    )
    ours = (
        stack.cell_type,
        stack.nonlinearity,
        stack.input_size,
        stack.hidden_size,
        stack.num_layers,
    )
    if theirs != ours:
        raise ValueError(
            "architectures differ (cell type, nonlinearity, input size, hidden size, layers): "
            f"explicit {ours}, torch {theirs}"
        )


def copy_to_torch(stack: RecurrentStack, module: nn.RNNBase) -> None:
    """Overwrite a torch module's weights, in place, with the explicit stack's."""
    _check_same_architecture(stack, module)
    with torch.no_grad():
        for k, cell in enumerate(stack.cells):
            for theirs, ours in zip(_torch_layer(module, k), cell_to_torch(cell), strict=True):
                theirs.copy_(ours)


def copy_from_torch(module: nn.RNNBase, stack: RecurrentStack) -> None:
    """Overwrite the explicit stack's weights, in place, with a torch module's."""
    _check_same_architecture(stack, module)
    for k, cell in enumerate(stack.cells):
        load_from_torch(cell, _torch_layer(module, k))


def to_torch(stack: RecurrentStack) -> nn.RNNBase:
    """A torch nn.RNN / LSTM / GRU (batch_first=True) computing the same function as `stack`.

    It has the stack's sizes, dropout, dtype, device and train/eval mode.
    """
    first_cell = stack.cells[0]
    weight = next(first_cell.parameters())
    module = fused_module(
        type(first_cell),
        stack.input_size,
        stack.hidden_size,
        stack.num_layers,
        stack.dropout,
        stack.nonlinearity,
        dtype=weight.dtype,
        device=weight.device,
    )
    copy_to_torch(stack, module)
    return module.train(stack.training)


def from_torch(module: nn.RNNBase) -> RecurrentStack:
    """An explicit stack computing the same function as a torch nn.RNN / LSTM / GRU.

    The module must be batch_first, unidirectional, with biases and no projection.
    """
    stack = RecurrentStack(
        _cell_type_of(module),
        module.input_size,
        module.hidden_size,
        module.num_layers,
        dropout=module.dropout,
        nonlinearity=getattr(module, "nonlinearity", "tanh"),
    )
    weight = module.weight_ih_l0
    stack.to(dtype=weight.dtype, device=weight.device)
    copy_from_torch(module, stack)
    return stack.train(module.training)


def to_concatenated(cell: ElmanCell) -> ConcatElmanCell:
    """The lecture's formulation 2 of the same Elman cell: W_h = [W_xh  W_hh]."""
    concatenated = ConcatElmanCell(cell.input_size, cell.hidden_size, cell.nonlinearity)
    concatenated.to(dtype=cell.W_xh.dtype, device=cell.W_xh.device)
    with torch.no_grad():
        concatenated.W_h.copy_(torch.cat([cell.W_xh, cell.W_hh], dim=1))  # (H, I+H)
        concatenated.b_h.copy_(cell.b_h)
    return concatenated


def to_separate(cell: ConcatElmanCell) -> ElmanCell:
    """The lecture's formulation 1 of the same Elman cell: split W_h into W_xh and W_hh."""
    separate = ElmanCell(cell.input_size, cell.hidden_size, cell.nonlinearity)
    separate.to(dtype=cell.W_h.dtype, device=cell.W_h.device)
    with torch.no_grad():
        separate.W_xh.copy_(cell.W_h[:, : cell.input_size])  # (H, I)
        separate.W_hh.copy_(cell.W_h[:, cell.input_size :])  # (H, H)
        separate.b_h.copy_(cell.b_h)
    return separate

