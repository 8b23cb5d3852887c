"""An exponential moving average of a model's weights (Polyak averaging).

Near the end of training the weights wander around a good region with every
noisy step; their running average sits nearer its middle and often generalises
better than any single step. The trainer evaluates and saves the average; the
optimizer keeps stepping the raw weights.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


class WeightAverage:
    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.updates = 0
        self.names = [name for name, value in model.state_dict().items()
                      if value.is_floating_point()]
        self.average = [value.detach().clone() for value in self._values(model)]

    def _values(self, model: nn.Module) -> list[torch.Tensor]:
        state = model.state_dict()
        return [state[name] for name in self.names]

    def update(self, model: nn.Module) -> None:
        """Move the average towards the model's weights after an optimizer step."""
        self.updates += 1
        # A shorter memory for the first steps, so the random initial weights fade fast.
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        torch._foreach_lerp_(self.average, self._values(model), 1 - decay)

    @contextmanager
    def swapped_in(self, model: nn.Module) -> Iterator[None]:
        """The model holds the averaged weights inside the block, its own ones again after."""
        values = self._values(model)
        own = [value.clone() for value in values]
        torch._foreach_copy_(values, self.average)
        try:
            yield
        finally:
            torch._foreach_copy_(values, own)

    def state_dict(self) -> dict:
        return {"updates": self.updates,
                "weights": {name: value.detach().cpu() for name, value in
                            zip(self.names, self.average, strict=True)}}

    def load_state_dict(self, state: dict) -> None:
        self.updates = state["updates"]
        for value, name in zip(self.average, self.names, strict=True):
            value.copy_(state["weights"][name])
