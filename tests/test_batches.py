"""Batches of encoded reviews (data/batches.py)."""

import numpy as np
import pytest

from seqrnn.configs import SentimentData
from seqrnn.data.batches import ReviewBatches
from seqrnn.data.sequences import EncodedTexts

REVIEWS = [[5, 6, 7], [8], [9, 10, 11, 12, 13], [14, 15], [16, 17, 18, 19], [20]]


def encoded() -> EncodedTexts:
    offsets = np.cumsum([0] + [len(review) for review in REVIEWS])
    return EncodedTexts(np.concatenate(REVIEWS).astype(np.int64), offsets.astype(np.int64),
                        np.arange(len(REVIEWS)) % 2)


def batches(batching: str, *, shuffle: bool, seed: int = 1) -> ReviewBatches:
    data = SentimentData(batching=batching, seq_len=3, batch_size=4)
    return ReviewBatches(encoded(), data, shuffle=shuffle, seed=seed)


def test_fixed_batches_in_order_are_the_left_padded_matrix_cut_to_its_last_tokens():
    got = [(rows.tolist(), tokens.tolist()) for rows, tokens in batches("fixed", shuffle=False)]
    assert got == [([0, 1, 2, 3], [[5, 6, 7], [0, 0, 8], [11, 12, 13], [0, 14, 15]]),
                   ([4, 5], [[17, 18, 19], [0, 0, 20]])]


def test_bucket_batches_are_padded_on_the_right_to_their_longest_review():
    for rows, tokens in batches("bucket", shuffle=False):
        width = min(3, max(len(REVIEWS[r]) for r in rows))
        assert tokens.shape == (len(rows), width)
        for row, line in zip(rows.tolist(), tokens.tolist(), strict=True):
            review = REVIEWS[row][-3:]  # the end is kept
            assert line == review + [0] * (width - len(review))


@pytest.mark.parametrize("batching", ["fixed", "bucket"])
def test_shuffled_batches_cover_every_review_once_in_an_order_of_the_seed_and_epoch(batching):
    ours = batches(batching, shuffle=True)
    orders = [np.concatenate(ours.indices(epoch)).tolist() for epoch in range(4)]
    assert all(sorted(order) == list(range(len(REVIEWS))) for order in orders)
    assert len({tuple(order) for order in orders}) > 1  # a new order each epoch
    again = batches(batching, shuffle=True)
    assert [np.concatenate(again.indices(e)).tolist() for e in range(4)] == orders
    assert ours.indices(3) is ours.indices(3)  # an epoch's batches are drawn once
