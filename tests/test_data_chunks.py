"""Length-sorted batches shuffled per epoch (data/chunks.py)."""

import numpy as np

from seqrnn.data.chunks import LengthChunks


def test_rows_of_similar_length_share_a_batch_and_every_row_comes_once_an_epoch():
    lengths = np.array([5, 1, 4, 2, 3, 9, 7])
    chunks = LengthChunks(lengths, batch_size=3, seed=4)
    assert [c.tolist() for c in chunks.chunks] == [[1, 3, 4], [2, 0, 6], [5]]
    seen = np.concatenate([chunks.rows(0, i) for i in range(chunks.count(0))])
    assert sorted(seen.tolist()) == list(range(7))
    assert chunks.order(3).tolist() == LengthChunks(lengths, 3, seed=4).order(3).tolist()


def test_a_chunk_too_small_for_every_rank_is_left_out():
    chunks = LengthChunks(np.arange(7), batch_size=3, seed=0, ranks=2)
    assert chunks.count(0) == 2 and all(len(chunks.rows(0, i)) == 3 for i in range(2))
