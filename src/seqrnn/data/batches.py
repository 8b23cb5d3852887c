"""Batches of encoded reviews, for training (shuffled per epoch) and for scoring (in order)."""

from __future__ import annotations

import numpy as np
import torch

from seqrnn.configs import SentimentData
from seqrnn.data.sequences import EncodedTexts, LengthBatches, fixed_length, pad_rows


class ReviewBatches:
    """The batches of one encoded set: shuffled per epoch for training, in order for scoring.

    "bucket": reviews of similar length together, each batch padded on the
    right to its longest review (cut to seq_len, keeping the end).
    "fixed": the lecture's (N, seq_len) matrix, left-padded, in batches.
    """

    def __init__(self, encoded: EncodedTexts, data: SentimentData, *, shuffle: bool, seed: int):
        self.encoded = encoded
        self.data = data
        self.shuffle = shuffle
        self.seed = seed
        self._epoch, self._indices = -1, []
        if data.batching == "fixed":
            self._matrix = fixed_length(encoded, data.seq_len)  # (N, seq_len)
        else:
            self._buckets = LengthBatches(encoded, data.batch_size, shuffle=shuffle, seed=seed,
                                          max_len=data.seq_len)

    def indices(self, epoch: int) -> list[np.ndarray]:
        if epoch != self._epoch:
            self._epoch, self._indices = epoch, self._draw(epoch)
        return self._indices

    def _draw(self, epoch: int) -> list[np.ndarray]:
        if self.data.batching == "bucket":
            return self._buckets.batch_indices(epoch)
        n = len(self.encoded)
        order = np.random.default_rng([self.seed, epoch]).permutation(n) if self.shuffle \
            else np.arange(n)
        return [order[i : i + self.data.batch_size] for i in range(0, n, self.data.batch_size)]

    def tokens(self, rows: np.ndarray) -> torch.Tensor:
        """(B, T) int64 ids of the reviews `rows`."""
        if self.data.batching == "fixed":
            return self._matrix[torch.from_numpy(rows)]
        return pad_rows(self.encoded, rows, max_len=self.data.seq_len)[0]

    def __iter__(self):
        for rows in self.indices(0):
            yield rows, self.tokens(rows)
