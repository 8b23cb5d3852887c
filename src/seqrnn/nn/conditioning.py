"""A condition's learned vector entering a recurrent language model (the one-to-many reading).

Mode "input" concatenates the vector to the input at every step; "state" writes it into the
recurrent state (through a linear map and tanh) where a condition starts: where the state is
new, and in a stream of documents where the condition changes (a document of another
condition begins); "both" does both. The stream is then run in segments between those
places, each segment one call of the recurrent layers.

`conditions` are ids (B, T), one per position, or mixture weights (B, C) over the condition
vocabulary, the same at every step (a sample's condition, or several interpolated).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn


class Conditioning(nn.Module):
    def __init__(self, count: int, dim: int, mode: str, state_sizes: list[int]):
        """`state_sizes`: the width of each state tensor's rows, flattened over its layers."""
        super().__init__()
        self.embedding = nn.Embedding(count, dim)
        self.mode = mode
        self.state_sizes = state_sizes
        self.to_state = nn.Linear(dim, sum(state_sizes)) if mode != "input" else None

    @property
    def at_input(self) -> bool:
        return self.mode != "state"

    def vectors(self, conditions: Tensor | None, batch: int, steps: int) -> Tensor:
        """The condition vector at each position (B, T, D); None: the "no condition" entry."""
        weight = self.embedding.weight
        if conditions is None:
            return weight[0].expand(batch, steps, -1)
        if conditions.is_floating_point():  # mixture weights (B, C)
            return (conditions.to(weight.dtype) @ weight)[:, None].expand(-1, steps, -1)
        return self.embedding(conditions)

    def state_parts(self, vectors: Tensor) -> list[Tensor]:
        """vectors (B, D) -> each state tensor's rows (B, size), in `state_sizes` order."""
        return list(torch.tanh(self.to_state(vectors.float())).split(self.state_sizes, dim=-1))


def condition_starts(conditions: Tensor, fresh: bool) -> Tensor:
    """Where a condition starts (B, T) bool, from conditions (B, T + 1) whose column 0 is the
    position before the window: where it differs from the one before, and everywhere at
    column 0 when the state is `fresh` (a row's first window)."""
    starts = conditions[:, 1:] != conditions[:, :-1]
    if fresh:
        starts[:, 0] = True
    return starts


def blend(old, new, rows: Tensor):
    """`new` state where `rows` (B,) is true, `old` elsewhere; states (L, B, H), tuples, lists."""
    if isinstance(old, tuple | list):
        return type(old)(blend(o, n, rows) for o, n in zip(old, new, strict=True))
    return torch.where(rows.view(1, -1, 1), new.to(old.dtype), old)


def run_in_segments(run: Callable[[int, int, object], tuple[Tensor, object]], steps: int,
                    vectors: Tensor, state, starts: Tensor | None,
                    initial: Callable[[Tensor], object]):
    """Outputs (B, T, ...) and the last state of run(a, b, state) over the segments of a
    window between condition starts; at each, the starting rows' state becomes
    initial(vectors (B, D)). Without `starts` (generation) the condition starts only where
    there is no state yet."""
    if starts is None:
        return run(0, steps, initial(vectors[:, 0]) if state is None else state)
    cuts = sorted({0, *starts.any(0).nonzero().flatten().tolist(), steps})
    outputs = []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        rows = starts[:, a]
        if state is None:
            state = initial(vectors[:, a])
        elif bool(rows.any()):
            state = blend(state, initial(vectors[:, a]), rows)
        out, state = run(a, b, state)
        outputs.append(out)
    return torch.cat(outputs, dim=1), state


class WithCondition(nn.Module):
    """A conditioned language model with its condition fixed, stepped as an unconditioned one
    (generation, beam search): forward(ids, state) reads mixture `weights` (C,) at every step."""

    def __init__(self, model: nn.Module, weights: Tensor):
        super().__init__()
        self.model = model
        self.register_buffer("weights", weights, persistent=False)

    @property
    def config(self):
        return self.model.config

    def forward(self, ids: Tensor, state=None):
        return self.model(ids, state, conditions=self.weights.expand(ids.shape[0], -1))

    def log_probs(self, hidden: Tensor) -> Tensor:
        return self.model.log_probs(hidden)

    def loss(self, hidden: Tensor, targets: Tensor) -> Tensor:
        return self.model.loss(hidden, targets)
