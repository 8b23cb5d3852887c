"""Generating from a character model: a batch of seeded streams, sampled in chunks.

`sample_ids` reads the prime with torch, then chooses and feeds characters in chunks, in
compiled code where it can (seqrnn.inference.stepper) and through torch otherwise. Both make,
for the same seed, the choices of CharLM.generate, the one-character-at-a-time reference: the
random numbers are torch.multinomial's own (Exp(1) draws from each stream's generator), so only
rounding in the last bits can tell the paths apart.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from seqrnn.configs import Sampling
from seqrnn.inference import native
from seqrnn.inference.stepper import CompiledStepper, supports
from seqrnn.models.charlm import CharLM, choose_next

FIRST_CHUNK, LAST_CHUNK = 16, 512  # chunks grow: the first text comes soon, the rest fast


def chunk_sizes(length: int) -> Iterator[int]:
    size = FIRST_CHUNK
    while length > 0:
        yield min(size, length)
        length -= size
        size = min(2 * size, LAST_CHUNK)


def stepper_for(model: CharLM, condition: Tensor | None = None) -> CompiledStepper | None:
    """The compiled stepper for `model` (a conditioned one's for the mixture weights
    `condition`), or None where it cannot run (then torch steps)."""
    library = native.load() if supports(model) else None
    return CompiledStepper(model, library, condition) if library is not None else None


@torch.no_grad()
def sample_ids(model: CharLM, prime: Tensor, length: int, sampling: Sampling,
               generators: list[torch.Generator | None],
               stepper: CompiledStepper | None = None) -> Iterator[Tensor]:
    """Chunks of ids (B, n), n summing to `length`, for B = len(generators) streams from `prime`."""
    batch = len(generators)
    # model: a CharLM, or one with its condition fixed (seqrnn.nn.conditioning.WithCondition)
    logits, state = model(prime.view(1, -1).expand(batch, -1))
    logits = logits[:, -1].float().contiguous()  # (B, V)
    if stepper is None:
        yield from _torch_chunks(model, logits, state, length, sampling, generators)
        return
    h, c = state if isinstance(state, tuple) else (state, None)
    h = h.contiguous()
    c = None if c is None else c.contiguous()
    for steps in chunk_sizes(length):
        noise = None if sampling.greedy else torch.stack(
            [torch.empty(steps, model.config.vocab_size).exponential_(generator=g)
             for g in generators])  # (B, steps, V), as multinomial would draw them
        yield stepper.run(logits, h, c, noise, steps, greedy=sampling.greedy,
                          top_k=sampling.top_k, temperature=sampling.temperature,
                          top_p=sampling.top_p).long()


def _torch_chunks(model: CharLM, logits: Tensor, state, length: int, sampling: Sampling,
                  generators: list[torch.Generator | None]) -> Iterator[Tensor]:
    device = logits.device
    for steps in chunk_sizes(length):
        chunk = torch.empty(len(generators), steps, dtype=torch.int64)
        for t in range(steps):
            for b, generator in enumerate(generators):
                chunk[b, t] = choose_next(logits[b], top_k=sampling.top_k, top_p=sampling.top_p,
                                          temperature=sampling.temperature,
                                          greedy=sampling.greedy, generator=generator)
            out, state = model(chunk[:, t : t + 1].to(device), state)
            logits = out[:, -1]
        yield chunk


class StopAt:
    """Cuts a stream of text just after the first of `stops` (none: never).

    Only a stop that ends in the generated text counts; it may begin in the prime.
    """

    def __init__(self, stops: tuple[str, ...], prime: str = ""):
        self.stops = stops
        self.keep = max((len(stop) for stop in stops), default=1) - 1
        self.tail = prime[-self.keep:] if self.keep else ""  # the text a stop may begin in
        self.done = False

    def _first_end(self, window: str) -> int | None:
        """Where in `window` (tail + new text) the first stop ending in the new text ends."""
        ends = []
        for stop in self.stops:
            found = window.find(stop, max(0, len(self.tail) - len(stop) + 1))
            if found >= 0:
                ends.append(found + len(stop))
        return min(ends) if ends else None

    def ends(self, text: str) -> bool:
        """Whether `text`, generated after the prime, holds a stop."""
        return self._first_end(self.tail + text) is not None

    def feed(self, text: str) -> tuple[str, bool]:
        """The part of `text` to emit, and whether the stream has now stopped."""
        window = self.tail + text
        end = self._first_end(window)
        if end is not None:
            self.done = True
            return text[: end - len(self.tail)], True
        self.tail = window[-self.keep:] if self.keep else ""
        return text, False
