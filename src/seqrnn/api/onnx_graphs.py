"""Trained models as modules that trace into ONNX graphs of any batch and length.

Each wraps a model of `seqrnn.models` and computes what it computes, laid out as a runtime
needs it: plain tensors in and out, the recurrent state among them, no Python loop over time
(`fused_copy` swaps an explicit cell stack for torch's fused layer, which traces as one op).
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from seqrnn.nn.convert import to_torch
from seqrnn.nn.layers import RecurrentStack


def fused_copy(model: nn.Module) -> nn.Module:
    """A copy of `model` with every explicit cell stack replaced by torch's fused equivalent:
    a traced Python loop over time would fix the graph to one length."""
    model = copy.deepcopy(model)
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, RecurrentStack):
                setattr(parent, name, to_torch(child))
    return model.eval()


class CharLMStep(nn.Module):
    """The language model as a graph: tokens and a state in, logits and the state out."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, ids: Tensor, h: Tensor, c: Tensor | None = None):
        logits, state = self.model(ids, h if c is None else (h, c))
        return (logits, *state) if isinstance(state, tuple) else (logits, state)


class WordLMStep(nn.Module):
    """The word model as a graph: ids and each layer's (h, c) in, the next word's
    log-probabilities after each position (B, T, V) and each layer's state out.

    An adaptive softmax is laid out whole: every word's log-probability, the head's and
    its cluster's added, as `WordLM.log_probs` computes them.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, ids: Tensor, *state: Tensor):
        layers = [(state[2 * k], state[2 * k + 1]) for k in range(len(state) // 2)]
        hidden, layers = self.model(ids, layers)  # (B, T, O)
        batch, steps, width = hidden.shape
        log_probs = self.model.log_probs(hidden.reshape(batch * steps, width))
        return (log_probs.reshape(batch, steps, -1), *(part for h_c in layers for part in h_c))


class ClassifierGraph(nn.Module):
    """The classifier as a graph: right-padded ids and lengths in, P(positive) and logits out.

    With `fixed_len` (a model trained with --batching fixed), the graph lays the rows out as
    seqrnn reads them: each review's last `fixed_len` words at the right of a row of that
    width, padding on the left, which the model reads through as it did in training.
    """

    def __init__(self, model: nn.Module, fixed_len: int | None = None):
        super().__init__()
        self.model = model
        self.fixed_len = fixed_len

    def forward(self, ids: Tensor, lengths: Tensor):
        if self.fixed_len is not None:
            return self._scores(_left_padded(ids, lengths, self.fixed_len))
        real = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0) < lengths.unsqueeze(1)
        return self._scores(ids.masked_fill(~real, 0))  # 0 is padding

    def _scores(self, ids: Tensor):
        logits = self.model(ids)
        return torch.sigmoid(logits), logits


def _left_padded(ids: Tensor, lengths: Tensor, width: int) -> Tensor:
    """(B, width): each row's last `width` real ids, right-aligned after 0s (fixed_length's)."""
    source = lengths.unsqueeze(1) - width + torch.arange(width, device=ids.device).unsqueeze(0)
    taken = ids.gather(1, source.clamp(min=0))  # (B, width); a source below 0 is padding
    return taken.masked_fill(source < 0, 0)


class Seq2SeqEncoder(nn.Module):
    """The encoder-decoder's first graph: right-padded source ids in; the memory the decoder
    attends to, its mask (true on real tokens) and the decoder's starting state out."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, source: Tensor):
        memory, mask, state = self.model.encode(source)
        return (memory, mask, *state) if isinstance(state, tuple) else (memory, mask, state)


class Seq2SeqDecoderStep(nn.Module):
    """The second graph: the previous target ids (B, T), (with attention) the memory and its
    mask, and the state in; the logits of the next target token after each, the state after,
    and (with attention) where the decoder looked (B, T, S) out. Fed one token at a time from
    <s>, it decodes. A model without attention knows the source only by its starting state."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.attends = model.config.attention != "none"

    def forward(self, previous: Tensor, *inputs: Tensor):
        memory, mask, *state = inputs if self.attends else (None, None, *inputs)
        logits, state, weights = self.model.decode(
            previous, tuple(state) if len(state) == 2 else state[0], memory, mask)
        state = state if isinstance(state, tuple) else (state,)
        return (logits, *state) + (() if weights is None else (weights,))
