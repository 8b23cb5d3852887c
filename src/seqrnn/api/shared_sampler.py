"""Generations from many threads at once, stepped together as one batch.

A server answers each request in a thread of its own. Left alone, twenty generations would be
twenty compiled loops competing for two cores, and for the cores the classifier's answers need.
A `SharedSampler` instead runs every active stream of one model in a single worker thread: each
round it steps the streams that share their sampling choice (top-k, top-p, temperature,
greedy) as one batch, a chunk of characters at a time, so generation uses at most one core and
a batch of streams costs less per character than the streams alone. Each stream keeps its own
generator: it writes the text `LanguageModel.stream` writes for the same seed.
"""

from __future__ import annotations

import queue
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import Tensor

from seqrnn.api.charlm import LanguageModel
from seqrnn.configs import Sampling
from seqrnn.inference.generation import FIRST_CHUNK

CHUNK = 128  # characters per stream per round, once a stream is under way


@dataclass(eq=False)
class _Stream:
    logits: Tensor  # (1, V)
    h: Tensor  # (L, 1, H)
    c: Tensor | None
    generator: torch.Generator | None
    sampling: Sampling
    remaining: int
    out: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    cancelled: bool = False
    next_chunk: int = FIRST_CHUNK  # small at first: a new stream's first text comes soon

    @property
    def choice(self) -> tuple:
        s = self.sampling
        return (s.greedy, s.top_k, s.temperature, s.top_p, s.condition)


class SharedSampler:
    """`stream` as LanguageModel.stream, from any thread; the work is done in one worker."""

    def __init__(self, lm: LanguageModel, chunk: int = CHUNK):
        self.lm = lm
        self.chunk = chunk
        self._streams: list[_Stream] = []
        self._changed = threading.Condition()
        self._worker: threading.Thread | None = None

    def stream(self, prime: str = "The ", length: int = 500, *, seed: int | None = None,
               **options) -> Iterator[str]:
        """Yield the generated text piece by piece; the options are LanguageModel.stream's."""
        sampling = Sampling(**options)
        if sampling.beam > 1 or not self.lm.compiled:  # a beam is a batch of its own
            yield from self.lm.stream(prime, length, seed=seed, **options)
            return
        for pieces in self.lm.pieces(prime, length, sampling, [seed], source=self._source):
            if pieces[0]:
                yield pieces[0]

    def _source(self, prime_ids: Tensor, length: int, sampling: Sampling,
                generators: list[torch.Generator | None]) -> Iterator[Tensor]:
        with torch.no_grad():
            logits, state = self.lm.conditioned(sampling.condition)(prime_ids.view(1, -1))
        h, c = state if isinstance(state, tuple) else (state, None)
        stream = _Stream(logits[:, -1].float().contiguous(), h.contiguous(),
                         None if c is None else c.contiguous(), generators[0], sampling, length)
        with self._changed:
            self._streams.append(stream)
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="seqrnn-sampler",
                                                 daemon=True)
                self._worker.start()
            self._changed.notify()
        try:
            produced = 0
            while produced < length:
                ids = stream.out.get()
                if isinstance(ids, BaseException):
                    raise ids
                produced += ids.shape[1]
                yield ids
        finally:
            stream.cancelled = True  # a closed connection, a stop string, a time limit

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._streams:
                    self._changed.wait()
                active = list(self._streams)
            groups: dict[tuple, list[_Stream]] = defaultdict(list)
            for stream in active:
                if not stream.cancelled:
                    groups[stream.choice].append(stream)
            for group in groups.values():
                try:
                    self._step(group)
                except Exception as exc:  # noqa: BLE001 - handed to the waiting requests
                    for stream in group:
                        stream.remaining = 0
                        stream.out.put(exc)
            with self._changed:
                self._streams = [s for s in self._streams
                                 if not s.cancelled and s.remaining > 0]
                self._changed.notify_all()  # for whoever waits on a stream's departure

    def _step(self, group: list[_Stream]) -> None:
        """One chunk for every stream of `group`, which share one sampling choice (and
        condition)."""
        steps = min(min(s.next_chunk for s in group), max(s.remaining for s in group))
        vocab = self.lm.model.config.vocab_size
        sampling = group[0].sampling
        logits = torch.cat([s.logits for s in group]).contiguous()  # (B, V)
        h = torch.cat([s.h for s in group], dim=1).contiguous()  # (L, B, H)
        lstm = group[0].c is not None
        c = torch.cat([s.c for s in group], dim=1).contiguous() if lstm else None
        noise = None if sampling.greedy else torch.stack(
            [torch.empty(steps, vocab).exponential_(generator=s.generator) for s in group])
        stepper = self.lm.stepper_for(sampling.condition)
        ids = stepper.run(logits, h, c, noise, steps, greedy=sampling.greedy,
                          top_k=sampling.top_k, temperature=sampling.temperature,
                          top_p=sampling.top_p).long()
        for b, stream in enumerate(group):
            stream.logits = logits[b : b + 1].clone()
            stream.h = h[:, b : b + 1].contiguous()
            stream.c = c[:, b : b + 1].contiguous() if lstm else None
            stream.next_chunk = min(2 * stream.next_chunk, self.chunk)
            take = min(steps, stream.remaining)
            stream.remaining -= take
            stream.out.put(ids[b : b + 1, :take])
