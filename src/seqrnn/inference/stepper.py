"""A character model's weights laid out for the compiled sampler (sampler.c).

Every layout change happens here, once per loaded model: torch's (G, I) matrices are transposed
to (I, G) so the kernel's inner loop runs along contiguous memory, and layer 0's input projection
of every character is tabulated, so reading a character is a row copy instead of a product.
"""

from __future__ import annotations

import ctypes

import torch
from torch import Tensor, nn

from seqrnn.inference import native
from seqrnn.models.charlm import CharLM
from seqrnn.nn.convert import to_torch
from seqrnn.nn.layers import RecurrentStack

CELLS = {"RNN_TANH": 0, "GRU": 1, "LSTM": 2}


def _fused(rnn: nn.Module) -> nn.RNNBase:
    return to_torch(rnn) if isinstance(rnn, RecurrentStack) else rnn


def supports(model: CharLM) -> bool:
    """Whether the compiled sampler can step this model: float32 on the CPU; tanh RNN, LSTM, GRU."""
    weight = model.head.weight
    return (weight.device.type == "cpu" and weight.dtype == torch.float32
            and _fused(model.rnn).mode in CELLS)


class CompiledStepper:
    """Steps and samples a batch of streams of one model in compiled code."""

    def __init__(self, model: CharLM, library: ctypes.CDLL, condition: Tensor | None = None):
        """`condition`: a conditioned model's mixture weights (C,); read at every step (input
        mode), its vector's share of layer 0's input projection is a constant, added to the
        table. (In state mode it entered the state the prime's reading hands over.)"""
        rnn = _fused(model.rnn)
        self.library = library
        self.lstm = rnn.mode == "LSTM"
        self.layers, self.hidden = rnn.num_layers, rnn.hidden_size
        self.vocab = model.config.vocab_size

        def weights(name: str) -> list[Tensor]:
            return [getattr(rnn, f"{name}_l{k}").detach() for k in range(self.layers)]

        w_ih, b_ih = weights("weight_ih"), weights("bias_ih")
        with torch.no_grad():
            inputs = (torch.eye(self.vocab) if model.embedding is None
                      else model.embedding.weight.detach())
            width = inputs.shape[1]
            x_table = inputs @ w_ih[0][:, :width].T + b_ih[0]  # (V, G)
            if model.condition is not None and model.condition.at_input:
                mixture = condition if condition is not None else torch.eye(
                    model.config.conditions)[0]  # the "none" entry
                vector = mixture.float() @ model.condition.embedding.weight.detach()  # (D,)
                x_table = x_table + w_ih[0][:, width:] @ vector
        # Kept as attributes: the kernel reads them through raw pointers.
        self._x_table = x_table.contiguous()
        self._w_ih = [w.T.contiguous() for w in w_ih]
        self._b_ih = [b.contiguous() for b in b_ih]
        self._w_hh = [w.T.contiguous() for w in weights("weight_hh")]
        self._b_hh = [b.contiguous() for b in weights("bias_hh")]
        self._w_out = model.head.weight.detach().T.contiguous()  # (H, V)
        self._b_out = model.head.bias.detach().contiguous()
        self._cell = CELLS[rnn.mode]

    def _pointers(self, tensors: list[Tensor]) -> ctypes.Array:
        return (ctypes.c_void_p * len(tensors))(*(t.data_ptr() for t in tensors))

    def run(self, logits: Tensor, h: Tensor, c: Tensor | None, noise: Tensor | None,
            steps: int, *, greedy: bool, top_k: int, temperature: float,
            top_p: float) -> Tensor:
        """Choose and feed `steps` ids per stream; logits (B, V), h, c (L, B, H) advance in place.

        noise (B, steps, V) holds the Exp(1) draws torch.multinomial would make; None when greedy.
        Returns the ids (B, steps).
        """
        batch = logits.shape[0]
        out = torch.empty(batch, steps, dtype=torch.int32)
        pointers = [self._pointers(t) for t in (self._w_ih, self._b_ih, self._w_hh, self._b_hh)]
        model = native.Model(self._cell, self.layers, self.hidden, self.vocab, batch,
                             self._x_table.data_ptr(), *(ctypes.addressof(p) for p in pointers),
                             self._w_out.data_ptr(), self._b_out.data_ptr())
        # top_k of the vocabulary or more filters nothing; clamped, it also fits in an int32.
        choice = native.Choice(int(greedy), min(top_k, self.vocab), temperature, top_p)
        cell = c if c is not None else h  # a plain RNN or GRU never touches it
        status = self.library.seqrnn_generate(
            ctypes.byref(model), ctypes.byref(choice), h.data_ptr(), cell.data_ptr(),
            logits.data_ptr(), 0 if noise is None else noise.data_ptr(), steps, out.data_ptr())
        if status != 0:
            raise MemoryError("the compiled sampler could not allocate its scratch memory")
        return out
