"""A character-level recurrent language model (the lecture's CharRNN).

Many-to-many, synchronized: at every position the model reads one character
and predicts the next one. No I/O here; the vocabulary lives with the data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from seqrnn.configs import CharLMConfig
from seqrnn.nn import make_recurrent
from seqrnn.nn.conditioning import Conditioning, run_in_segments

__all__ = ["CharLM", "choose_next", "feed_back", "nucleus"]


class CharLM(nn.Module):
    def __init__(self, config: CharLMConfig):
        super().__init__()
        self.config = config
        if config.input == "embedding":
            self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
            input_size = config.embedding_dim
        else:
            self.embedding = None
            input_size = config.vocab_size
        conditioned = config.conditions > 0
        if conditioned and config.condition_mode != "state":
            input_size += config.condition_dim
        self.rnn = make_recurrent(
            config.cell, input_size, config.hidden_size, num_layers=config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0, impl=config.impl,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)
        # Built last, so that an unconditioned model draws its weights as it always did.
        rows = config.num_layers * config.hidden_size
        self.condition = Conditioning(
            config.conditions, config.condition_dim, config.condition_mode,
            [rows, rows] if config.cell == "lstm" else [rows]) if conditioned else None

    def forward(self, ids: torch.Tensor, state=None, conditions: torch.Tensor | None = None,
                starts: torch.Tensor | None = None):
        """ids (B, T) int64 -> logits (B, T, V) and the state after the last step.

        A conditioned model reads `conditions` (seqrnn.nn.conditioning: ids (B, T) or mixture
        weights (B, C); None: no condition) and, in state mode, `starts` (B, T)."""
        out, state = self.states(ids, state, conditions, starts)  # (B, T, H)
        return self.head(self.dropout(out)), state  # (B, T, V)

    def states(self, ids: torch.Tensor, state=None, conditions: torch.Tensor | None = None,
               starts: torch.Tensor | None = None):
        """ids (B, T) int64 -> the last layer's outputs (B, T, H), what the model knows of the
        text up to each character (a tagger's contextual string embeddings), and the state."""
        if self.embedding is None:
            x = F.one_hot(ids, self.config.vocab_size).to(self.head.weight.dtype)  # (B, T, V)
        else:
            x = self.embedding(ids)  # (B, T, E)
        if self.condition is None:
            return self.rnn(x, state)
        vectors = self.condition.vectors(conditions, *ids.shape)  # (B, T, D)
        if self.condition.at_input:
            x = torch.cat([x, vectors.to(x.dtype)], dim=-1)
        if self.condition.mode == "input":
            return self.rnn(x, state)
        return run_in_segments(lambda a, b, s: self.rnn(x[:, a:b], s), ids.shape[1], vectors,
                               state, starts, self._initial_state)

    def _initial_state(self, vectors: torch.Tensor):
        """The state a condition starts: (L, B, H), or (h, c) of an LSTM."""
        layers, hidden = self.config.num_layers, self.config.hidden_size
        parts = [p.view(-1, layers, hidden).transpose(0, 1).contiguous()
                 for p in self.condition.state_parts(vectors)]
        return tuple(parts) if len(parts) == 2 else parts[0]

    @torch.no_grad()
    def generate(self, prime: torch.Tensor, length: int, **sampling) -> Iterator[int]:
        """Yield `length` character ids following `prime` (T0,), one at a time (feed_back),
        each drawn by choose_next with the `sampling` options (top_k, top_p, temperature,
        greedy, generator)."""
        yield from feed_back(self, lambda logits: logits, prime, length, **sampling)


@torch.no_grad()
def feed_back(
    model: nn.Module,
    next_scores: Callable[[torch.Tensor], torch.Tensor],
    prime: torch.Tensor,
    length: int,
    *,
    stop_id: int | None = None,
    **sampling,
) -> Iterator[int]:
    """Yield up to `length` ids following `prime` (T0,), each drawn by `choose_next(**sampling)`
    from `next_scores` of the model's last output (1, O): scores (1, V). Both language models
    generate so: the prime is read once, then each id is fed back with the carried state, so
    the prefix is never recomputed. Stops after yielding `stop_id`."""
    out, state = model(prime.view(1, -1))
    for produced in range(1, length + 1):
        next_id = choose_next(next_scores(out[:, -1])[0], **sampling)
        yield next_id
        if next_id == stop_id or produced == length:
            return
        out, state = model(torch.tensor([[next_id]], device=prime.device), state)


def choose_next(
    logits: torch.Tensor,
    *,
    top_k: int = 5,
    top_p: float = 1.0,
    temperature: float = 1.0,
    greedy: bool = False,
    generator: torch.Generator | None = None,
) -> int:
    """Pick the next id from logits (V,): argmax, or a draw after temperature, top-k and top-p.

    top_k=5 is the lecture's get_top_char; top_k=0 samples from the whole vocabulary. top_p < 1
    then keeps the most likely ids until the probability before the next one reaches top_p
    (nucleus sampling). seqrnn.inference's compiled sampler makes the same choice.
    """
    if greedy:
        return int(logits.argmax())
    scaled = logits.float() / temperature
    if not torch.isfinite(scaled.max()):  # so cold that the logits overflow: greedy, the limit
        return int(logits.argmax())
    logits = scaled
    if 0 < top_k < logits.numel():
        kth = torch.topk(logits, top_k).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1).cpu()
    if top_p < 1.0:
        probs = nucleus(probs, top_p)
    return int(torch.multinomial(probs, 1, generator=generator))


def nucleus(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """probs (V,) with all but the nucleus zeroed: the most likely first, while the mass before
    them is under top_p."""
    ordered, order = torch.sort(probs, descending=True, stable=True)
    before = torch.cumsum(ordered.double(), 0) - ordered.double()
    dropped = order[before.float() >= top_p]
    return probs.index_fill(0, dropped, 0.0)
