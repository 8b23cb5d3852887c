"""Reviews as id sequences: fixed-length rows as in the lecture, or length-bucketed batches.

Everything handed to a model is a torch int64 tensor; the ragged sequences
behind them live in numpy (`EncodedTexts`), one flat array for all reviews.

Two ways to batch, both truncating a long review to its *last* tokens as the
lecture does (``review_arr[-sequence_length:]``; ``keep="first"`` keeps the
start instead):

- `fixed_length`: the lecture's (N, seq_len) matrix, every review padded on
  the left with 0 to `seq_len` (default 200) so its last word is in the last
  column. Simple, but on IMDb (median about 230 tokens) most short reviews are
  mostly padding, and the RNN steps through all of it.
- `LengthBatches`: reviews of similar length batched together, each batch
  padded only to its own longest review, with each review's length so the
  model can read its last real state (right padding, the default) instead of
  a state that has run over padding.

A review with no tokens at all (say, only ``<br />``) is encoded as one
unknown word (`UNK_ID`, length 1), so every sequence has a last real state
and prediction never meets an empty sequence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from seqrnn.data.tokenize import iter_tokenized
from seqrnn.data.vocab import PAD_ID, UNK_ID, WordVocab

KEEP = ("last", "first")
PAD_SIDES = ("right", "left")
_FIXED_BLOCK = 4096


@dataclass(frozen=True, eq=False)  # arrays have no single truth value
class EncodedTexts:
    """Ragged id sequences in one flat array: review i is ``ids[offsets[i]:offsets[i + 1]]``."""

    ids: np.ndarray  # (total,) int64
    offsets: np.ndarray  # (N + 1,) int64, offsets[0] == 0
    labels: np.ndarray | None = None  # (N,) int64, or None for unlabeled texts

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        """Tokens per review, (N,) int64; every length is at least 1."""
        return np.diff(self.offsets)

    def sequence(self, i: int) -> np.ndarray:
        return self.ids[self.offsets[i] : self.offsets[i + 1]]


def encode_texts(
    texts: Sequence[str],
    vocab: WordVocab,
    labels: Sequence[int] | np.ndarray | None = None,
    *,
    progress: bool = False,
) -> EncodedTexts:
    """Tokenize and encode `texts`; an empty review becomes ``[UNK_ID]``."""
    chunks = []
    for tokens in iter_tokenized(texts, progress=progress, desc="encoding"):
        chunks.append(np.array(vocab.encode(tokens) or [UNK_ID], dtype=np.int64))
    lengths = np.fromiter(map(len, chunks), dtype=np.int64, count=len(chunks))
    offsets = np.zeros(len(chunks) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
    if labels is not None:
        labels = np.asarray(labels, dtype=np.int64)
        if labels.shape != (len(chunks),):
            raise ValueError(f"{len(chunks)} texts but labels of shape {labels.shape}")
    return EncodedTexts(ids=ids, offsets=offsets, labels=labels)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def pad_rows(
    encoded: EncodedTexts,
    indices: np.ndarray,
    width: int | None = None,
    *,
    max_len: int | None = None,
    keep: str = "last",
    pad_side: str = "right",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reviews `indices` as one padded matrix: (tokens (B, T), lengths (B,)), both int64.

    Each review is cut to `max_len` tokens (keeping its `keep` end); T is
    `width` if given, else the longest cut review. Padding is `PAD_ID`, on
    `pad_side`. One vectorised gather, no Python loop over reviews.
    """
    _check_choice("keep", keep, KEEP)
    _check_choice("pad_side", pad_side, PAD_SIDES)
    indices = np.asarray(indices, dtype=np.int64)
    full = encoded.lengths[indices]  # (B,)
    caps = [cap for cap in (width, max_len) if cap is not None]
    lengths = np.minimum(full, min(caps)) if caps else full
    width = int(lengths.max(initial=0)) if width is None else width
    starts = encoded.offsets[indices] + (full - lengths if keep == "last" else 0)  # (B,)
    shift = width - lengths if pad_side == "left" else np.zeros_like(lengths)  # (B,)
    cols = np.arange(width) - shift[:, None]  # (B, T): position within the review
    real = (cols >= 0) & (cols < lengths[:, None])  # (B, T)
    tokens = np.where(real, encoded.ids[np.where(real, starts[:, None] + cols, 0)], PAD_ID)
    return torch.from_numpy(tokens), torch.from_numpy(lengths)


def fixed_length(encoded: EncodedTexts, seq_len: int = 200, *, keep: str = "last") -> torch.Tensor:
    """The lecture's (N, seq_len) int64 matrix: left-padded with 0, cut to `seq_len` tokens.

    ``keep="last"`` keeps each review's last `seq_len` tokens, as the lecture does.
    """
    if seq_len < 1:
        raise ValueError(f"seq_len must be at least 1, got {seq_len}")
    out = torch.empty((len(encoded), seq_len), dtype=torch.int64)  # (N, seq_len)
    # Blocks of rows bound the gather's temporaries (several (rows, seq_len) arrays).
    for start in range(0, len(encoded), _FIXED_BLOCK):
        rows = np.arange(start, min(start + _FIXED_BLOCK, len(encoded)))
        out[start : start + len(rows)] = pad_rows(
            encoded, rows, width=seq_len, keep=keep, pad_side="left"
        )[0]
    return out


@dataclass(frozen=True, eq=False)  # arrays have no single truth value
class Batch:
    """One padded batch; `indices` say which reviews of the `EncodedTexts` it holds."""

    tokens: torch.Tensor  # (B, T) int64
    lengths: torch.Tensor  # (B,) int64, each in [1, T]
    labels: torch.Tensor | None  # (B,) int64, or None for unlabeled texts
    indices: torch.Tensor  # (B,) int64

    def __len__(self) -> int:
        return len(self.indices)


class LengthBatches:
    """Batches of reviews of similar length, each padded only to its own longest review.

    With `shuffle`, each epoch draws a random permutation (seeded by `seed` and
    the epoch number), cuts it into pools of `pool_batches` batches, sorts each
    pool by length and cuts it into batches, then shuffles the order of all
    batches. Every review is in exactly one batch per epoch, batches differ
    from epoch to epoch, and a batch wastes little on padding. Without
    `shuffle`, reviews are batched in order of length (for evaluation; use
    `Batch.indices` to put predictions back in order).

    Iterating again starts the next epoch; `epoch(n)` gives epoch n directly,
    for resuming.
    """

    def __init__(
        self,
        encoded: EncodedTexts,
        batch_size: int = 64,
        *,
        shuffle: bool = True,
        seed: int = 0,
        max_len: int | None = None,
        keep: str = "last",
        pad_side: str = "right",
        pool_batches: int = 50,
        drop_last: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if max_len is not None and max_len < 1:
            raise ValueError(f"max_len must be at least 1, got {max_len}")
        if pool_batches < 1:
            raise ValueError(f"pool_batches must be at least 1, got {pool_batches}")
        _check_choice("keep", keep, KEEP)
        _check_choice("pad_side", pad_side, PAD_SIDES)
        self.encoded = encoded
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.max_len = max_len
        self.keep = keep
        self.pad_side = pad_side
        self.pool_batches = pool_batches
        self.drop_last = drop_last
        self._next_epoch = 0
        lengths = encoded.lengths
        self._lengths = lengths if max_len is None else np.minimum(lengths, max_len)

    def __len__(self) -> int:
        n = len(self.encoded)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        epoch = self._next_epoch
        self._next_epoch += 1
        return self.epoch(epoch)

    def epoch(self, epoch: int) -> Iterator[Batch]:
        """The batches of epoch `epoch` (0-based); the same for the same seed and epoch."""
        for indices in self.batch_indices(epoch):
            tokens, lengths = pad_rows(
                self.encoded,
                indices,
                max_len=self.max_len,
                keep=self.keep,
                pad_side=self.pad_side,
            )
            labels = self.encoded.labels
            yield Batch(
                tokens=tokens,
                lengths=lengths,
                labels=None if labels is None else torch.from_numpy(labels[indices]),
                indices=torch.from_numpy(indices),
            )

    def batch_indices(self, epoch: int = 0) -> list[np.ndarray]:
        """The review indices of each batch of epoch `epoch`, in batch order."""
        if not self.shuffle:
            return self._cut(np.argsort(self._lengths, kind="stable"))
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(len(self.encoded))
        pool = self.batch_size * self.pool_batches
        batches = []
        for start in range(0, len(order), pool):
            members = order[start : start + pool]
            batches += self._cut(members[np.argsort(self._lengths[members], kind="stable")])
        return [batches[i] for i in rng.permutation(len(batches))]

    def _cut(self, order: np.ndarray) -> list[np.ndarray]:
        """Consecutive batches of `order`; pools are whole batches, so only the last is short."""
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        return batches
