"""Rows batched with others of similar length, the batches shuffled each epoch: the
encoder-decoder's pairs and the tagger's sentences."""

from __future__ import annotations

import numpy as np


class LengthChunks:
    """The rows sorted by length and cut every `batch_size` (so a batch pads little); each
    epoch takes the chunks in an order drawn from (seed, epoch), so a resumed run draws the
    same. With `ranks` processes (torchrun), chunks too small to give every rank a row (at
    most the last, short one) are left out."""

    def __init__(self, lengths: np.ndarray, batch_size: int, seed: int, ranks: int = 1):
        order = np.argsort(lengths, kind="stable")
        self.chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        self.seed, self.ranks = seed, ranks

    def order(self, epoch: int) -> np.ndarray:
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self.chunks))
        return order[[len(self.chunks[i]) >= self.ranks for i in order]]

    def count(self, epoch: int) -> int:
        return len(self.order(epoch))

    def rows(self, epoch: int, index: int) -> np.ndarray:
        """The rows of the epoch's `index`-th batch."""
        return self.chunks[self.order(epoch)[index]]
