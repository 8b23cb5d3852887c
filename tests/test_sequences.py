import numpy as np
import pytest
import torch

from seqrnn.data.sequences import (
    EncodedTexts,
    LengthBatches,
    encode_texts,
    fixed_length,
    pad_rows,
)
from seqrnn.data.vocab import PAD_ID, UNK_ID, WordVocab


def padding_fraction(batches) -> float:
    """The share of token slots that are padding, over all `batches`."""
    real = slots = 0
    for batch in batches:
        real += int(batch.lengths.sum())
        slots += batch.tokens.numel()
    return 1.0 - real / slots if slots else 0.0


def ragged(sequences: list[list[int]], labels=None) -> EncodedTexts:
    lengths = [len(s) for s in sequences]
    return EncodedTexts(
        ids=np.array([i for s in sequences for i in s], dtype=np.int64),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        labels=None if labels is None else np.asarray(labels, dtype=np.int64),
    )


def skewed(n: int = 600, seed: int = 0) -> tuple[EncodedTexts, list[list[int]]]:
    """Review-like lengths: most short, a long tail, as in IMDb."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(mean=4.0, sigma=0.9, size=n).astype(int), 1, 1500)
    sequences = [rng.integers(2, 50, size=length).tolist() for length in lengths]
    return ragged(sequences, labels=rng.integers(0, 2, size=n)), sequences


def lecture_fixed_length(mapped_reviews: list[list[int]], sequence_length: int) -> np.ndarray:
    """The lecture's loop, verbatim: the oracle for `fixed_length`."""
    sequences = np.zeros((len(mapped_reviews), sequence_length), dtype=int)
    for i, row in enumerate(mapped_reviews):
        review_arr = np.array(row)
        sequences[i, -len(row) :] = review_arr[-sequence_length:]
    return sequences


def test_encode_texts_tokenizes_and_keeps_empty_reviews_as_unknown():
    vocab = WordVocab(("the", "film", "."))
    encoded = encode_texts(["The film.", "<br />", "the unseen FILM"], vocab, labels=[1, 0, 1])
    assert encoded.lengths.tolist() == [3, 1, 3]
    assert encoded.sequence(0).tolist() == [2, 3, 4]
    assert encoded.sequence(1).tolist() == [UNK_ID]
    assert encoded.sequence(2).tolist() == [2, UNK_ID, 3]
    assert encoded.labels.tolist() == [1, 0, 1]
    assert encoded.ids.dtype == np.int64 and len(encoded) == 3
    assert encode_texts([], vocab).lengths.tolist() == []
    with pytest.raises(ValueError, match="2 texts but labels"):
        encode_texts(["a", "b"], vocab, labels=[1])


def test_fixed_length_matches_the_lecture():
    _, sequences = skewed(200)
    encoded = ragged(sequences)
    rows = fixed_length(encoded, 50)
    assert rows.dtype == torch.int64 and rows.shape == (200, 50)
    np.testing.assert_array_equal(rows.numpy(), lecture_fixed_length(sequences, 50))


def test_fixed_length_pads_left_and_truncates_either_end():
    encoded = ragged([[5, 6], [2, 3, 4, 5, 6, 7], [9]])
    assert fixed_length(encoded, 4).tolist() == [[0, 0, 5, 6], [4, 5, 6, 7], [0, 0, 0, 9]]
    assert fixed_length(encoded, 4, keep="first").tolist() == [
        [0, 0, 5, 6], [2, 3, 4, 5], [0, 0, 0, 9],
    ]  # fmt: skip
    with pytest.raises(ValueError, match="seq_len"):
        fixed_length(encoded, 0)


def test_pad_rows_right_and_left_with_lengths():
    encoded = ragged([[5, 6], [2, 3, 4, 5, 6, 7], [9]])
    tokens, lengths = pad_rows(encoded, np.array([2, 0]))
    assert tokens.tolist() == [[9, 0], [5, 6]] and lengths.tolist() == [1, 2]
    tokens, lengths = pad_rows(encoded, np.array([0, 1]), max_len=3, pad_side="left")
    assert tokens.tolist() == [[0, 5, 6], [5, 6, 7]] and lengths.tolist() == [2, 3]
    tokens, _ = pad_rows(encoded, np.array([1]), max_len=3, keep="first")
    assert tokens.tolist() == [[2, 3, 4]]
    with pytest.raises(ValueError, match="pad_side"):
        pad_rows(encoded, np.array([0]), pad_side="middle")


def test_every_review_once_per_epoch_and_batches_match_the_data():
    encoded, sequences = skewed(600)
    batches = LengthBatches(encoded, batch_size=32, seed=1)
    assert len(batches) == 19
    epoch = list(batches.epoch(0))
    assert len(epoch) == 19
    seen = torch.cat([batch.indices for batch in epoch]).sort().values
    assert seen.tolist() == list(range(600))
    for batch in epoch:
        assert batch.tokens.shape == (len(batch), int(batch.lengths.max()))
        assert batch.labels.tolist() == encoded.labels[batch.indices.numpy()].tolist()
        for row, length, index in zip(batch.tokens, batch.lengths, batch.indices, strict=True):
            assert row[:length].tolist() == sequences[index]
            assert (row[length:] == PAD_ID).all()


def test_batches_are_seeded_per_epoch():
    encoded, _ = skewed(300)

    def order(batches, epoch):
        return [batch.indices.tolist() for batch in batches.epoch(epoch)]

    first = LengthBatches(encoded, batch_size=16, seed=5)
    second = LengthBatches(encoded, batch_size=16, seed=5)
    assert order(first, 0) == order(second, 0)
    assert order(first, 0) != order(first, 1)
    assert order(first, 0) != order(LengthBatches(encoded, batch_size=16, seed=6), 0)
    # Iterating again moves on to the next epoch.
    assert [b.indices.tolist() for b in first] == order(first, 0)
    assert [b.indices.tolist() for b in first] == order(first, 1)


def test_bucketing_wastes_far_less_than_fixed_length():
    encoded, _ = skewed(2000)
    batches = LengthBatches(encoded, batch_size=32, max_len=400, seed=0)
    bucketed = padding_fraction(batches.epoch(0))
    fixed = float((fixed_length(encoded, 400) == PAD_ID).float().mean())
    # Random batches, each padded to its own longest review, as a baseline.
    unsorted = padding_fraction(LengthBatches(encoded, 32, max_len=400, pool_batches=1).epoch(0))
    assert fixed > 0.75 and unsorted > 0.7  # measured 0.81 and 0.76
    assert bucketed < 0.1  # measured 0.07


def test_max_len_keeps_the_last_tokens_and_left_padding():
    encoded = ragged([[2, 3, 4, 5, 6], [7, 8], [9]], labels=[1, 0, 1])
    batches = LengthBatches(encoded, batch_size=3, shuffle=False, max_len=3, pad_side="left")
    (batch,) = list(batches)
    # Unshuffled: by length, shortest first.
    assert batch.indices.tolist() == [2, 1, 0]
    assert batch.tokens.tolist() == [[0, 0, 9], [0, 7, 8], [4, 5, 6]]
    assert batch.lengths.tolist() == [1, 2, 3]
    assert batch.labels.tolist() == [1, 0, 1]


def test_drop_last_and_unlabeled_texts():
    encoded, _ = skewed(100)
    encoded = EncodedTexts(ids=encoded.ids, offsets=encoded.offsets)
    for shuffle in (True, False):
        batches = LengthBatches(encoded, batch_size=30, shuffle=shuffle, drop_last=True)
        sizes = [len(batch) for batch in batches]
        assert len(batches) == 3 and sizes == [30, 30, 30]
    assert next(iter(LengthBatches(encoded, batch_size=30))).labels is None
    with pytest.raises(ValueError, match="batch_size"):
        LengthBatches(encoded, batch_size=0)


def test_padding_fraction():
    encoded = ragged([[2, 3], [4]])
    (batch,) = list(LengthBatches(encoded, batch_size=2, shuffle=False))
    assert padding_fraction([batch]) == pytest.approx(0.25)
    assert padding_fraction([]) == 0.0
