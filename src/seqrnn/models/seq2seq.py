"""An encoder-decoder with attention: the lecture's delayed many-to-many. No I/O.

The encoder reads the whole source (a spelling, say), in both directions by default. The
decoder then writes the target (its pronunciation) one token at a time, starting from the
encoder's final state (through a `bridge`), and at every step looks back at the source:

    h_t = RNN(embed(y_{t-1}), h_{t-1})                      the decoder's own state
    a_t = softmax_s score(h_t, m_s)                          where it looks (masked padding)
    c_t = sum_s a_t,s m_s                                     what it sees there
    o_t = tanh(W_o [h_t; c_t]);  p(y_t) = softmax(V o_t)      Luong et al. (2015)

`attention` chooses score: "additive", v^T tanh(W_h h_t + W_m m_s) (Bahdanau et al., 2015);
"dot", h_t . (W_m m_s) (Luong's "general"); "none", no looking back (o_t = h_t): the decoder
knows the source only through its starting state, so the difference attention makes is one
flag. Since the attention comes after the recurrence (no input feeding), teacher forcing runs
the decoder over the whole target in one call of torch's fused layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqrnn.configs import Seq2SeqConfig
from seqrnn.data.symbols import PAD_ID
from seqrnn.errors import UserError
from seqrnn.nn import make_recurrent
from seqrnn.nn.layers import check_layers

State = Tensor | tuple[Tensor, Tensor]


class Attention(nn.Module):
    """Scores (B, T, S) of decoder states (B, T, H) against the memory (B, S, M)."""

    def __init__(self, kind: str, hidden_size: int, memory_size: int):
        super().__init__()
        self.kind = kind
        self.memory = nn.Linear(memory_size, hidden_size, bias=False)
        if kind == "additive":
            self.query = nn.Linear(hidden_size, hidden_size)
            self.v = nn.Linear(hidden_size, 1, bias=False)

    def forward(self, queries: Tensor, memory: Tensor, mask: Tensor) -> Tensor:
        """Attention weights (B, T, S), zero on padded source positions (mask (B, S) real)."""
        keys = self.memory(memory)  # (B, S, H)
        if self.kind == "additive":
            hidden = torch.tanh(self.query(queries).unsqueeze(2) + keys.unsqueeze(1))
            scores = self.v(hidden).squeeze(-1)  # (B, T, S)
        else:
            scores = queries @ keys.transpose(1, 2)  # (B, T, S)
        scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        return torch.softmax(scores, dim=-1)


class Seq2Seq(nn.Module):
    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.config = config
        c = config
        check_layers(c.num_layers)  # the encoder is torch's: refuse a deep stack before it
        directions = 2 if c.bidirectional else 1
        self.source_embedding = nn.Embedding(c.source_vocab_size, c.embedding_dim,
                                             padding_idx=PAD_ID)
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[c.cell]
        inner = c.dropout if c.num_layers > 1 else 0.0
        self.encoder = rnn(c.embedding_dim, c.hidden_size, c.num_layers, batch_first=True,
                           dropout=inner, bidirectional=c.bidirectional)
        self.bridge = nn.Linear(directions * c.hidden_size, c.hidden_size)
        if c.cell == "lstm":
            self.cell_bridge = nn.Linear(directions * c.hidden_size, c.hidden_size)
        self.target_embedding = nn.Embedding(c.target_vocab_size, c.embedding_dim,
                                             padding_idx=PAD_ID)
        self.decoder = make_recurrent(c.cell, c.embedding_dim, c.hidden_size,
                                      num_layers=c.num_layers, dropout=inner)
        memory_size = directions * c.hidden_size
        if c.attention != "none":
            self.attention = Attention(c.attention, c.hidden_size, memory_size)
            self.combine = nn.Linear(c.hidden_size + memory_size, c.hidden_size)
        self.dropout = nn.Dropout(c.dropout)
        self.out = nn.Linear(c.hidden_size, c.target_vocab_size)

    # -- encoder ---------------------------------------------------------------------------

    def encode(self, source: Tensor) -> tuple[Tensor, Tensor, State]:
        """source (B, S), right-padded -> memory (B, S, M), its mask (B, S), decoder start."""
        mask = source != PAD_ID
        lengths = mask.sum(dim=1).clamp(min=1)
        x = self.dropout(self.source_embedding(source))
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, final = self.encoder(packed)
        memory = pad_packed_sequence(out, batch_first=True, total_length=source.shape[1])[0]
        return memory, mask, self._bridged(final)

    def _bridged(self, final: State) -> State:
        """The encoder's final state per layer, both directions joined, as the decoder's start:
        h through tanh(bridge), an LSTM's cell through a linear map of its own (unbounded, as
        cells are)."""
        def join(part: Tensor, bridge: nn.Linear) -> Tensor:  # (L * dirs, B, H) -> (L, B, H)
            part = part.view(self.config.num_layers, -1, *part.shape[1:])  # (L, dirs, B, H)
            return bridge(torch.cat(list(part.unbind(1)), dim=-1))

        if isinstance(final, tuple):
            h, c = final
            return torch.tanh(join(h, self.bridge)), join(c, self.cell_bridge)
        return torch.tanh(join(final, self.bridge))

    # -- decoder ---------------------------------------------------------------------------

    def decode(self, previous: Tensor, state: State, memory: Tensor,
               mask: Tensor) -> tuple[Tensor, State, Tensor | None]:
        """previous (B, T) target ids -> logits (B, T, V), the state after, weights (B, T, S)."""
        states, state = self.decoder(self.dropout(self.target_embedding(previous)), state)
        weights = None
        if self.config.attention != "none":
            weights = self.attention(states, memory, mask)  # (B, T, S)
            context = weights @ memory  # (B, T, M)
            states = torch.tanh(self.combine(torch.cat([states, context], dim=-1)))
        return self.out(self.dropout(states)), state, weights

    def forward(self, source: Tensor, previous: Tensor) -> Tensor:
        """Teacher forcing: source (B, S), previous targets (B, T) -> logits (B, T, V)."""
        memory, mask, state = self.encode(source)
        return self.decode(previous, state, memory, mask)[0]


class Ensemble(nn.Module):
    """Several trained Seq2Seq models decoding as one: the mean of their next-token
    probabilities, log-probabilities standing in for `decode`'s logits.

    The members' memories and decoder states are joined along the feature axis, so the
    decoders (greedy, beam search) repeat and select rows of every member at once, unchanged.
    Members may differ in size and attention; they must read and write the same symbols and
    share the cell and depth (one state layout).
    """

    def __init__(self, members: Sequence[Seq2Seq]):
        super().__init__()
        shared = ("cell", "num_layers", "source_vocab_size", "target_vocab_size")
        first = members[0].config
        for member in members[1:]:
            for name in shared:
                if getattr(member.config, name) != getattr(first, name):
                    raise UserError(f"models of an ensemble must share {name}: got "
                                    f"{getattr(first, name)} and "
                                    f"{getattr(member.config, name)}")
        self.members = nn.ModuleList(members)
        self.state_sizes = [m.config.hidden_size for m in members]
        self.memory_sizes = [m.config.hidden_size * (2 if m.config.bidirectional else 1)
                             for m in members]

    def encode(self, source: Tensor) -> tuple[Tensor, Tensor, State]:
        encoded = [member.encode(source) for member in self.members]
        memory = torch.cat([memory for memory, _, _ in encoded], dim=-1)
        return memory, encoded[0][1], _joined([state for _, _, state in encoded])

    def decode(self, previous: Tensor, state: State, memory: Tensor,
               mask: Tensor) -> tuple[Tensor, State, None]:
        memories = memory.split(self.memory_sizes, dim=-1)
        log_probs, states = [], []
        for member, own_memory, own_state in zip(self.members, memories,
                                                 _split(state, self.state_sizes), strict=True):
            logits, own_state, _ = member.decode(previous, own_state, own_memory.contiguous(),
                                                 mask)
            log_probs.append(torch.log_softmax(logits.float(), dim=-1))
            states.append(own_state)
        mean = torch.logsumexp(torch.stack(log_probs), dim=0) - math.log(len(self.members))
        return mean, _joined(states), None


def _joined(states: Sequence[State]) -> State:
    if isinstance(states[0], tuple):
        return tuple(torch.cat(parts, dim=-1) for parts in zip(*states, strict=True))
    return torch.cat(list(states), dim=-1)


def _split(state: State, sizes: list[int]) -> list[State]:
    if isinstance(state, tuple):
        parts = [[p.contiguous() for p in part.split(sizes, dim=-1)] for part in state]
        return [tuple(member) for member in zip(*parts, strict=True)]
    return [p.contiguous() for p in state.split(sizes, dim=-1)]
