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
evaluation pass). A trainer that resumes mid-epoch starts at a saved window
index with `iter_from`.

For distributed training each rank takes its own contiguous shard of the
stream, ``len(stream) // world_size`` ids long, and cuts it into rows and
windows as above; the shards have equal lengths, so every rank gets the same
number of windows and the ranks step together.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from seqrnn.errors import UserError


class StreamBatches:
    """(input, target) windows of one encoded stream, in the order training reads them.

    Incomplete windows are dropped, as in the lecture: every window is
    (batch_size, num_steps), so the carried hidden state always fits.
    """

    def __init__(
        self,
        ids: np.ndarray | torch.Tensor | Sequence[int],
        batch_size: int,
        num_steps: int,
        *,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if batch_size < 1:
            raise UserError(f"--batch-size must be at least 1, got {batch_size}")
        if num_steps < 1:
            raise UserError(f"--num-steps must be at least 1, got {num_steps}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
        stream = torch.as_tensor(ids, dtype=torch.int64)
        if stream.dim() != 1:
            raise ValueError(f"ids must be one-dimensional, got shape {tuple(stream.shape)}")
        self.batch_size = batch_size
        self.num_steps = num_steps
        self.rank = rank
        self.world_size = world_size

        shard_len = len(stream) // world_size
        # One more id than the inputs use: the target of the last input.
        num_windows = (shard_len - 1) // (batch_size * num_steps)
        if num_windows < 1:
            per_rank = f" ({shard_len} per rank for {world_size} ranks)" if world_size > 1 else ""
            raise UserError(
                f"the text is too short: {len(stream)} characters{per_rank}, but --batch-size "
                f"{batch_size} and --num-steps {num_steps} need at least "
                f"{batch_size * num_steps + 1}{' per rank' if world_size > 1 else ''}; "
                "pass a smaller --batch-size or --num-steps, or a longer text"
            )
        shard = stream[rank * shard_len : (rank + 1) * shard_len]
        used = num_windows * batch_size * num_steps
        # (rows, windows, steps) -> (windows, rows, steps): window i is then one
        # contiguous (batch_size, num_steps) block, ready for .view(-1) in the loss.
        self._x = self._windows(shard[:used], num_windows)
        self._y = self._windows(shard[1 : used + 1], num_windows)

    def _windows(self, flat: torch.Tensor, num_windows: int) -> torch.Tensor:
        rows = flat.view(self.batch_size, num_windows, self.num_steps)
        return rows.transpose(0, 1).contiguous()  # (windows, batch_size, num_steps)

    def __len__(self) -> int:
        """Windows per epoch."""
        return self._x.shape[0]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets of window `index`, int64, each (batch_size, num_steps)."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"window {index} out of range for {len(self)} windows")
        return self._x[index], self._y[index]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return self.iter_from(0)

    def iter_from(self, start: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Windows `start`, `start + 1`, ... to the end of the epoch (resuming mid-epoch)."""
        if not 0 <= start <= len(self):
            raise ValueError(f"start window must be in [0, {len(self)}], got {start}")
        return (self[index] for index in range(start, len(self)))
