"""The lecture's batch layout for a language model trained with truncated BPTT.

The encoded text is one long stream. It is cut into `batch_size` rows of
equal length (the remainder at the end is dropped), the targets are the
inputs shifted by one character, and the rows are read in windows of
`num_steps` columns, left to right. For the stream ``a b c ... y`` (25 ids),
``batch_size = 3`` and ``num_steps = 3``: (25 - 1) // (3 * 3) = 2 windows, so
each row holds 2 * 3 = 6 characters and ``t ... y`` is dropped::

    inputs x = stream[0:18] in 3 rows       targets y = stream[1:19], same cut
              window 0   window 1                     window 0   window 1
     row 0  [ a b c  |  d e f ]              row 0  [ b c d  |  e f g ]
     row 1  [ g h i  |  j k l ]              row 1  [ h i j  |  k l m ]
     row 2  [ m n o  |  p q r ]              row 2  [ n o p  |  q r s ]

    window i is (x[:, i*T:(i+1)*T], y[:, i*T:(i+1)*T]), each (batch_size, num_steps)

Each row is a contiguous piece of text read from left to right across the
windows: window i + 1 of row r continues window i of row r (``a b c`` is
followed by ``d e f``). So the hidden state the model ends window i with is
the right state to start window i + 1 with, and the training loop carries it
over. It also detaches it (truncated BPTT): gradients then flow back through
`num_steps` steps only, instead of through every window since the start of
the epoch, which would cost memory and time growing with the epoch (and
backward would run into graphs already freed). Window 0 continues nothing, so
the loop resets the state to zeros at the start of every epoch (and of every
evaluation pass). A run resumed mid-epoch indexes its saved window
(`batches[i]`).

Distributed training cuts the stream exactly as for one process; each rank
then reads its own rows of every window (`seqrnn.recipes.stream.StreamObjective`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from seqrnn.errors import UserError, field_error


class StreamBatches:
    """(input, target) windows of one encoded stream, in the order training reads them.

    Incomplete windows are dropped, as in the lecture: every window is
    (batch_size, num_steps), so the carried hidden state always fits. Each window is read
    from the stream when asked for: the stream is kept as given (any integer dtype, a
    memory map too), never copied whole into int64.
    """

    def __init__(
        self,
        ids: np.ndarray | torch.Tensor | Sequence[int],
        batch_size: int,
        num_steps: int,
        *,
        what: str = "the text",
        unit: str = "characters",
        other_fix: tuple[str, tuple[str, ...]] = ("", ()),
        conditions: np.ndarray | None = None,
    ) -> None:
        """`what` and `unit` name the stream in the message of one too short; `other_fix` is
        another way out, as (text, fields it names), such as a smaller validation fraction.
        `conditions`, parallel to `ids`, are the condition id of each token's document: each
        window then also gives those of its inputs, after that of the position before."""
        if batch_size < 1:
            raise field_error("batch_size", f"{{}} must be at least 1, got {batch_size}")
        if num_steps < 1:
            raise field_error("num_steps", f"{{}} must be at least 1, got {num_steps}")
        stream = ids.numpy() if isinstance(ids, torch.Tensor) else np.asarray(ids)
        if stream.ndim != 1:
            raise ValueError(f"ids must be one-dimensional, got shape {stream.shape}")
        self.batch_size = batch_size
        self.num_steps = num_steps

        # One more id than the inputs use: the target of the last input.
        num_windows = (len(stream) - 1) // (batch_size * num_steps)
        if num_windows < 1:
            fix, fields = other_fix
            raise UserError(
                f"{what} is too short: {len(stream)} {unit}, but {{batch_size}} "
                f"{batch_size} and {{num_steps}} {num_steps} need at least "
                f"{batch_size * num_steps + 1}; pass a smaller {{batch_size}} or {{num_steps}}"
                f"{', ' + fix if fix else ''}, or a longer text",
                fields=("batch_size", "num_steps", *fields),
            )
        if conditions is not None and len(conditions) != len(stream):
            raise ValueError(f"{len(conditions)} conditions for a stream of {len(stream)} ids")
        self._stream, self._windows, self._conditions = stream, num_windows, conditions
        # Row r is stream[r * row_length : (r + 1) * row_length] (+ 1 for its last target).
        self._row_starts = np.arange(batch_size) * (num_windows * num_steps)

    def __len__(self) -> int:
        """Windows per epoch."""
        return self._windows

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        """Inputs and targets of window `index`, int64, each (batch_size, num_steps),
        contiguous (ready for .view(-1) in the loss); with conditions, theirs (batch_size,
        num_steps + 1), column 0 that of the position before the window (seqrnn.nn.conditioning
        .condition_starts)."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"window {index} out of range for {len(self)} windows")
        first = self._row_starts + (index % len(self)) * self.num_steps
        block = self._stream[first[:, None] + np.arange(self.num_steps + 1)]  # (B, T + 1)
        block = torch.from_numpy(block.astype(np.int64))
        if self._conditions is None:
            return block[:, :-1].contiguous(), block[:, 1:].contiguous()
        before = np.maximum(first - 1, 0)[:, None]  # the stream's start has none before it
        spans = self._conditions[np.hstack([before, first[:, None] + np.arange(self.num_steps)])]
        conditions = torch.from_numpy(spans.astype(np.int64))  # (B, T + 1)
        return block[:, :-1].contiguous(), block[:, 1:].contiguous(), conditions

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return (self[index] for index in range(len(self)))


AUTO_EVAL_TOKENS = 2_000_000  # a longer validation stream is sampled during training


def evaluation_rows(ids: np.ndarray, rows: int, num_steps: int,
                    tokens: int | None = None, seed: int = 0) -> np.ndarray:
    """The validation stream as `rows` contiguous rows of equal length plus one (inputs are
    row[:-1], targets row[1:]), each read from a zero state.

    All of it when `tokens` is 0, or None and the stream holds at most AUTO_EVAL_TOKENS:
    the stream cut as training cuts it, as a view of `ids` (of its dtype, a memory map's
    too: nothing is copied, the reader converts a window at a time). Otherwise a fixed
    sample of about `tokens` (None: AUTO_EVAL_TOKENS), a new int64 array: the stream cut into
    `rows` equal parts, and in each a span at a seeded offset, the same at every evaluation
    so curves compare, its cost independent of the corpus.
    """
    ids = np.asarray(ids)
    predictions = len(ids) - 1
    rows = max(1, min(rows, predictions // num_steps))
    if tokens is None:
        tokens = 0 if predictions <= AUTO_EVAL_TOKENS else AUTO_EVAL_TOKENS
    if tokens == 0 or tokens >= predictions:
        per_row = predictions // rows
        return np.lib.stride_tricks.sliding_window_view(
            ids[: rows * per_row + 1], per_row + 1)[::per_row][:rows]
    part = predictions // rows
    span = max(1, min(part, tokens // rows))
    offsets = np.random.default_rng(seed).integers(0, part - span + 1, size=rows)
    starts = np.arange(rows) * part + offsets
    return np.stack([ids[s: s + span + 1] for s in starts]).astype(np.int64)
