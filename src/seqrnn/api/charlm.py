"""A trained character language model, ready to sample and evaluate.

    from seqrnn.api.charlm import LanguageModel
    lm = LanguageModel.load("runs/hamlet")
    print(lm.sample(prime="The ", length=200, seed=1))
    print(lm.evaluate(open("other.txt").read()))

A model trained with --reverse reads text back to front: it writes what comes before its prime
(sample and samples put it there) and is the backward half of a tagger's character language
models.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from seqrnn.api.language_model import TrainedLanguageModel
from seqrnn.budget import check_generation_memory
from seqrnn.configs import Sampling, require_seed
from seqrnn.data.text import CharVocab, drop_unknown
from seqrnn.errors import UserError, field_error
from seqrnn.inference import native
from seqrnn.inference.beam import beam_search
from seqrnn.inference.deadline import deadline_after, passed
from seqrnn.inference.generation import StopAt, sample_ids, stepper_for
from seqrnn.inference.stepper import CompiledStepper, supports
from seqrnn.models.charlm import CharLM
from seqrnn.recipes.charlm import DOCUMENT_END, RECIPE, char_loss_sum, loss_metrics
from seqrnn.recipes.stream import stream_loss

# Compiled layouts kept at once (one per condition mixture a conditioned model was asked for).
MAX_STEPPERS = 8

IdSource = Callable[[torch.Tensor, int, Sampling, list], Iterator[torch.Tensor]]


class LanguageModel(TrainedLanguageModel):
    """A trained model with its vocabulary, ready to sample and evaluate."""

    recipe = RECIPE
    scored = "characters"
    model: CharLM
    vocab: CharVocab

    def check_prime(self, prime: str) -> None:
        """UserError about field `prime` when the model cannot start from it."""
        if not prime:
            raise field_error("prime", "{} must have at least one character")
        unknown = self.vocab.unknown_chars(prime)
        if unknown:
            raise UserError(f"the prime has characters the model never saw: {unknown!r}; "
                            "remove them from {prime}", fields=("prime",))

    @property
    def reverse(self) -> bool:
        """Whether the model was trained on reversed text (charlm train --reverse)."""
        return bool(self.config is not None and (self.config.data or {}).get("reverse"))

    def _check_forward(self) -> None:
        if self.reverse:
            raise UserError("this model reads text backwards (trained with --reverse): it "
                            "writes what comes before a prime, so it cannot stream after one; "
                            "use sample or samples")

    @functools.cached_property
    def _steppers(self) -> dict[tuple | None, CompiledStepper | None]:
        return {}  # by condition mixture weights (None: one layout serves every condition)

    def stepper_for(self, condition: str | None) -> CompiledStepper | None:
        """The model laid out for compiled sampling, a conditioned one's for `condition`;
        None where that cannot run. Layouts are kept for the last MAX_STEPPERS mixtures: each
        holds a copy of the weights, and a server's clients may ask for any mixture."""
        weights = self.condition_weights(condition)
        reaches_table = self.model.condition is not None and self.model.condition.at_input
        key = tuple(weights.tolist()) if weights is not None and reaches_table else None
        if key not in self._steppers:
            if len(self._steppers) >= MAX_STEPPERS:
                del self._steppers[next(iter(self._steppers))]  # the oldest
            self._steppers[key] = stepper_for(self.model, weights)
        return self._steppers[key]

    @property
    def compiled(self) -> bool:
        """Whether sampling runs in compiled code (else one torch call per character)."""
        if self.conditions is None:
            return self.stepper_for(None) is not None
        return supports(self.model) and native.load() is not None

    def stream(self, prime: str = "The ", length: int = 500, *, seed: int | None = None,
               **options) -> Iterator[str]:
        """Yield the generated text piece by piece (the prime itself is not repeated).

        `options` are those of seqrnn.configs.Sampling: top_k, top_p, temperature, greedy,
        beam, stop, time_limit, and a conditioned model's condition (a value, or mixed
        conditions "1:0.5,10:0.5").
        """
        for pieces in self.pieces(prime, length, Sampling(**options), [seed]):
            if pieces[0]:
                yield pieces[0]

    def sample(self, prime: str = "The ", length: int = 500, **options) -> str:
        """The prime followed by `length` generated characters (fewer after a stop string);
        a backward model's characters precede it."""
        if self.reverse:
            return self.samples(prime, length, 1, **options)[0]
        return prime + "".join(self.stream(prime, length, **options))

    def samples(self, prime: str = "The ", length: int = 500, num_samples: int = 1, *,
                seed: int | None = None, **options) -> list[str]:
        """`num_samples` samples generated as one batch; sample i is sample(seed=seed + i)'s."""
        if num_samples < 1:
            raise field_error("num_samples", f"{{}} must be at least 1, got {num_samples}")
        sampling = Sampling(**options)
        self._check_generation(prime, length, sampling, num_samples)  # before the seeds' list
        seeds = [None if seed is None else seed + i for i in range(num_samples)]
        if self.reverse:
            if sampling.stop:
                raise UserError("stop strings end a text read forwards; this model writes "
                                "backwards (trained with --reverse): drop {stop}",
                                fields=("stop",))
            texts = [""] * num_samples
            for pieces in self._pieces(prime[::-1], length, sampling, seeds):
                texts = [text + piece for text, piece in zip(texts, pieces, strict=True)]
            return [text[::-1] + prime for text in texts]
        texts = [prime] * num_samples
        for pieces in self._pieces(prime, length, sampling, seeds):
            texts = [text + piece for text, piece in zip(texts, pieces, strict=True)]
        return texts

    def pieces(self, prime: str, length: int, sampling: Sampling, seeds: list[int | None],
               source: IdSource | None = None) -> Iterator[list[str]]:
        """Per chunk, the new text of each of len(seeds) streams ("" once it has stopped).

        `source(prime_ids, length, sampling, generators)` yields the chunks of ids (B, n);
        by default this model's own sampler (a SharedSampler passes its shared one). The
        request is checked at once, the memory it needs included.
        """
        self._check_forward()
        self._check_generation(prime, length, sampling, len(seeds))
        return self._pieces(prime, length, sampling, seeds, source)

    def _check_generation(self, prime: str, length: int, sampling: Sampling,
                          streams: int) -> None:
        self.check_prime(prime)
        if length < 0:
            raise field_error("length", f"{{}} must be zero or positive, got {length}")
        if sampling.beam > 1 and streams > 1:
            raise UserError("beam search finds one text, always the same: with {beam} above 1, "
                            "ask for {num_samples} 1", fields=("beam", "num_samples"))
        check_generation_memory(self.model.config, len(prime), length, streams, sampling.beam)
        self.condition_weights(sampling.condition)  # a condition the model can read

    def _pieces(self, prime: str, length: int, sampling: Sampling, seeds: list[int | None],
                source: IdSource | None = None) -> Iterator[list[str]]:
        seeds = [None if seed is None else require_seed(seed) for seed in seeds]
        deadline = deadline_after(sampling.time_limit)
        prime_ids = torch.as_tensor(self.vocab.encode(prime), dtype=torch.int64, device=self.device)
        stops = [StopAt(sampling.stop, prime) for _ in seeds]
        if sampling.beam > 1:
            ids = beam_search(self.conditioned(sampling.condition), prime_ids, length,
                              sampling.beam, lambda ids: stops[0].ends(self.vocab.decode(ids)),
                              deadline)
            yield [stops[0].feed(self.vocab.decode(ids))[0]]
            return
        generators = [None if seed is None else torch.Generator().manual_seed(seed)
                      for seed in seeds]
        chunks = (source or self._sample_ids)(prime_ids, length, sampling, generators)
        for chunk in chunks:
            pieces = []
            for stop, row in zip(stops, chunk.tolist(), strict=True):
                pieces.append("" if stop.done else stop.feed(self.vocab.decode(row))[0])
            yield pieces
            if all(stop.done for stop in stops):
                return
            if passed(deadline):
                return

    def _sample_ids(self, prime_ids: torch.Tensor, length: int, sampling: Sampling,
                    generators: list[torch.Generator | None]) -> Iterator[torch.Tensor]:
        return sample_ids(self.conditioned(sampling.condition), prime_ids, length, sampling,
                          generators, self.stepper_for(sampling.condition))

    def default_prime(self) -> str:
        """The lecture's "The ", or the first character of the vocabulary for other texts."""
        return "The " if not self.vocab.unknown_chars("The ") else self.vocab.chars[0]

    def evaluate_file(self, location: str, *, encoding: str = "utf-8", num_steps: int = 100,
                      rows: int = 32, progress: bool = False,
                      condition: str | None = None) -> dict:
        """`evaluate` of the text of a file, a folder's or glob's files (as training reads
        them) or a dataset name. Files are encoded a chunk at a time into a temporary
        memory-mapped file and scored a window at a time: any size, in bounded memory."""
        from seqrnn.data.char_corpus import corpus_files, encode_files
        from seqrnn.data.text import load_text

        found = corpus_files(location)
        if found is None:
            return self.evaluate(load_text(location, encoding), num_steps=num_steps, rows=rows,
                                 condition=condition)
        with tempfile.TemporaryDirectory(prefix="seqrnn-evaluate-") as folder:
            ids, length, dropped = encode_files(found[0], self.vocab, Path(folder),
                                                encoding=encoding, newline_per_file=found[1],
                                                progress=progress)
            known = len(ids)
            total, count = stream_loss(self.conditioned(condition), char_loss_sum,
                                       ids[::-1] if self.reverse else ids, num_steps, rows,
                                       progress=progress)
            del ids  # the memory map, before its folder goes
        return {**loss_metrics(total, count), "characters": count,
                "unknown_chars": length - known, "unknown_set": list(dropped)}

    def evaluate(self, text: str, *, num_steps: int = 100, rows: int = 32,
                 condition: str | None = None) -> dict:
        """Loss (nats/char), bits per character and perplexity of `text`, read by a conditioned
        model with `condition` (None: its "none" entry).

        Characters outside the vocabulary cannot be scored: they are left out,
        and counted in `unknown_chars`. A backward model reads `text` back to front.
        """
        if self.reverse:
            text = text[::-1]
        known, unknown = drop_unknown(self.vocab, text)
        ids = torch.as_tensor(self.vocab.encode(known), dtype=torch.int64)
        total, count = stream_loss(self.conditioned(condition), char_loss_sum, ids, num_steps,
                                   rows)
        return {**loss_metrics(total, count), "characters": count,
                "unknown_chars": len(text) - len(known), "unknown_set": unknown}

    def document_stream(self, documents: list[str]) -> tuple[np.ndarray, list[int]]:
        """Documents as a conditioned model's training streams them (each followed by
        DOCUMENT_END, unknown characters left out), and each one's length, read forwards."""
        known = [drop_unknown(self.vocab, doc + DOCUMENT_END)[0] for doc in documents]
        return self.vocab.encode("".join(known)), [len(doc) for doc in known]
