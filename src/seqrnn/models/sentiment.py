"""A many-to-one recurrent classifier (the lecture's SentimentRNN).

The network reads a review word by word and turns one summary of it (its last
real state, or its states pooled over the real words) into one logit. No I/O.

Batches may be padded on either side (id 0); the real words of a row are one
contiguous span, found from the padding mask. Every batch starts from a zero
state: reviews are independent, so no state is carried between them (the
lecture carried it, leaking one batch of reviews into the next).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqrnn.configs import SentimentConfig
from seqrnn.nn import make_recurrent

PAD_ID = 0
__all__ = ["SentimentRNN", "real_span", "reverse_within_span"]


def real_span(tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mask of real tokens (B, T), first real position (B,) and number of real tokens (B,)."""
    mask = tokens != PAD_ID  # (B, T)
    lengths = mask.sum(dim=1).clamp(min=1)  # an all-padding row reads position 0
    first = mask.to(torch.int8).argmax(dim=1)  # first True; 0 when there is none
    return mask, first, lengths


def reverse_within_span(x: torch.Tensor, first: torch.Tensor, lengths: torch.Tensor):
    """Reverse each row's real span in place of position, leaving padding where it is.

    x (B, T, ...). Position t of a span [s, s + L) goes to 2s + L - 1 - t; applying
    the function twice gives x back. This lets a backward-direction layer run on
    the fast unpacked path and still read each review from its real last word.
    """
    positions = torch.arange(x.shape[1], device=x.device).unsqueeze(0)  # (1, T)
    s, n = first.unsqueeze(1), lengths.unsqueeze(1)  # (B, 1)
    inside = (positions >= s) & (positions < s + n)
    index = torch.where(inside, 2 * s + n - 1 - positions, positions)  # (B, T)
    return x.gather(1, index.view(*index.shape, *([1] * (x.dim() - 2))).expand_as(x))


def run_layer(layer: nn.Module, x: torch.Tensor, lengths: torch.Tensor, packed: bool):
    """A layer's outputs (B, T, H) over x (B, T, I), each row's span starting at 0.

    Packed (fused layers only), the layer steps through each row's real tokens
    only (cuDNN skips the padding); the outputs at padded positions are then
    zeros, which no head reads.
    """
    if not packed:
        return layer(x)[0]
    sequence = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    out, _ = layer(sequence)
    return pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]


def check_one_review(tokens: torch.Tensor) -> None:
    if tokens.dim() != 2 or tokens.shape[0] != 1 or tokens.shape[1] == 0:
        raise ValueError(f"expected one review (1, T) with T >= 1, got {tuple(tokens.shape)}")


def running_pool(states: torch.Tensor, head: str) -> torch.Tensor:
    """states (T, D) of one review read left to right -> the head's summary after each prefix
    (T, D): the state itself ("last"), the running maximum ("max") or the running mean."""
    if head == "last":
        return states
    if head == "max":
        return torch.cummax(states, dim=0).values
    steps = torch.arange(1, states.shape[0] + 1, device=states.device, dtype=states.dtype)
    return states.cumsum(dim=0) / steps.unsqueeze(-1)


def each_prefix_logits(model: nn.Module, tokens: torch.Tensor, batch_size: int) -> torch.Tensor:
    """tokens (1, T) -> logits (T,) of `model`, each prefix scored as a review of its own.

    The prefixes are right-padded batches of `batch_size`, so a long review never
    builds one T x T batch.
    """
    check_one_review(tokens)
    total = tokens.shape[1]
    logits = []
    for start in range(1, total + 1, batch_size):
        lengths = torch.arange(start, min(start + batch_size, total + 1), device=tokens.device)
        longest = int(lengths[-1])
        beyond = torch.arange(longest, device=tokens.device) >= lengths.unsqueeze(1)
        logits.append(model(tokens[:, :longest].masked_fill(beyond, PAD_ID)))  # (n,)
    return torch.cat(logits)


class SentimentRNN(nn.Module):
    """Reads reviews (B, T) and returns one logit each; see the module docstring.

    `pack` chooses packed sequences for right-padded batches: None packs on CUDA
    only (on the CPU they leave oneDNN's fast path, so padded batches are faster
    there). Only the fused implementation reads packed sequences.
    """

    def __init__(self, config: SentimentConfig, pack: bool | None = None):
        super().__init__()
        if pack and config.impl != "fused":
            raise ValueError(f"packed sequences need the fused implementation, not {config.impl!r}")
        self.config = config
        self.pack = pack if config.impl == "fused" else False
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim,
                                      padding_idx=PAD_ID, sparse=config.sparse_embedding)
        if config.uniform_init:
            nn.init.uniform_(self.embedding.weight, -1.0, 1.0)
            with torch.no_grad():
                self.embedding.weight[PAD_ID].zero_()
        directions = 2 if config.bidirectional else 1
        # One single-layer module per layer and direction: the backward direction
        # reads reversed spans, which torch's own bidirectional mode cannot do
        # without packing (slow on the CPU).
        self.layers = nn.ModuleList(
            nn.ModuleList(
                make_recurrent(config.cell,
                               config.embedding_dim if k == 0 else config.hidden_size * directions,
                               config.hidden_size, impl=config.impl, init=config.init)
                for _ in range(directions)
            )
            for k in range(config.num_layers)
        )
        self.dropout = nn.Dropout(config.dropout)
        self.word_dropout = config.word_dropout
        self.head = nn.Linear(config.hidden_size * directions, 1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, T) int64, padded with 0 on either side -> logits (B,)."""
        return self.head(self.dropout(self.summary(tokens))).squeeze(-1)

    def prefix_logits(self, tokens: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
        """tokens (1, T) int64, one unpadded review -> logits (T,) after reading each prefix.

        A unidirectional model's summary after each prefix is a running value (its state,
        the running maximum or mean of its states), so one pass scores every prefix. A
        bidirectional model reads each prefix whole: each is scored as a review of its own,
        right-padded, `batch_size` prefixes at a time (time quadratic in T).
        """
        if not self.config.bidirectional:
            check_one_review(tokens)
            pooled = running_pool(self.states(tokens)[0], self.config.head)  # (T, D)
            return self.head(self.dropout(pooled)).view(-1)  # (T,)
        return each_prefix_logits(self, tokens, batch_size)

    @property
    def reads_prefixes_in_one_pass(self) -> bool:
        return not self.config.bidirectional

    def states(self, tokens: torch.Tensor) -> torch.Tensor:
        """The top layer's states (B, T, H * directions), each batch from a zero state."""
        _, first, lengths = real_span(tokens)
        wanted = tokens.is_cuda if self.pack is None else self.pack
        packed = wanted and not bool(first.any())  # right padding: every span starts at 0
        x = self.drop_words(self.embedding(tokens))  # (B, T, E)
        for k, directions in enumerate(self.layers):
            if k > 0:
                x = self.dropout(x)
            outputs = [run_layer(directions[0], x, lengths, packed)]  # (B, T, H)
            if len(directions) == 2:
                backward = run_layer(directions[1], reverse_within_span(x, first, lengths),
                                     lengths, packed)
                outputs.append(reverse_within_span(backward, first, lengths))
            x = torch.cat(outputs, dim=-1)
        return x

    def drop_words(self, x: torch.Tensor) -> torch.Tensor:
        """While training, zero whole word vectors of x (B, T, E) with probability word_dropout.

        Unlike dropout on single features, a dropped word is gone from the review,
        so the classifier cannot lean on a few telling words (Iyyer et al., 2015).
        """
        if not self.training or self.word_dropout == 0:
            return x
        keep = x.new_ones(x.shape[:2]).unsqueeze(-1)  # (B, T, 1)
        return x * nn.functional.dropout(keep, self.word_dropout, training=True)

    def summary(self, tokens: torch.Tensor) -> torch.Tensor:
        """One vector per review (B, H * directions), chosen by the head."""
        mask, first, lengths = real_span(tokens)
        states = self.states(tokens)  # (B, T, D)
        if self.config.head == "last":
            last = (first + lengths - 1).view(-1, 1, 1).expand(-1, 1, states.shape[-1])
            forward_last = states.gather(1, last).squeeze(1)  # (B, D)
            if not self.config.bidirectional:
                return forward_last
            # The backward direction has read the whole review when it reaches the first word.
            h = self.config.hidden_size
            start = first.view(-1, 1, 1).expand(-1, 1, states.shape[-1])
            backward_first = states.gather(1, start).squeeze(1)
            return torch.cat([forward_last[:, :h], backward_first[:, h:]], dim=-1)
        mask = mask.unsqueeze(-1)  # (B, T, 1)
        if self.config.head == "max":
            return states.masked_fill(~mask, float("-inf")).amax(dim=1).nan_to_num(0.0)
        return (states * mask).sum(dim=1) / lengths.unsqueeze(-1)
