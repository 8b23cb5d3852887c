"""A trained word language model, ready to sample and evaluate.

    from seqrnn.api.wordlm import WordLanguageModel
    lm = WordLanguageModel.load("runs/imdb-lm")
    print(lm.sample("this movie was", 40, seed=1))
    print(lm.evaluate("a review it never read ..."))
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn

from seqrnn.api.language_model import TrainedLanguageModel
from seqrnn.budget import check_generation_memory
from seqrnn.configs import Sampling, require_seed
from seqrnn.data.conditions import ConditionVocab
from seqrnn.data.documents import EOS, encode_counted, encode_documents
from seqrnn.data.tokenize import tokenize
from seqrnn.data.vocab import UNK_ID, WordVocab
from seqrnn.errors import UserError, field_error
from seqrnn.inference.beam import beam_search
from seqrnn.inference.deadline import deadline_after, passed
from seqrnn.inference.generation import StopAt
from seqrnn.metrics import require_items
from seqrnn.models.charlm import feed_back
from seqrnn.models.wordlm import WordLM
from seqrnn.recipes.stream import stream_loss
from seqrnn.recipes.wordlm import RECIPE, word_loss_sum, word_metrics
from seqrnn.run import RunConfig


class _NextWordScores(nn.Module):
    """The word model as beam search steps it: ids and state to the next word's
    log-probabilities (B, 1, V) and the new state."""

    def __init__(self, model: nn.Module):
        """`model`: a WordLM, or one with its condition fixed (nn.conditioning.WithCondition)."""
        super().__init__()
        self.model = model

    def forward(self, ids: torch.Tensor, state=None):
        hidden, state = self.model(ids, state)
        return self.model.log_probs(hidden[:, -1]).unsqueeze(1), state


class WordLanguageModel(TrainedLanguageModel):
    """A trained word model with its vocabulary: sample words, score texts."""

    recipe = RECIPE
    scored = "words"

    def __init__(self, model: WordLM, vocab: WordVocab,
                 config: RunConfig | None = None, conditions: ConditionVocab | None = None,
                 run_dir: Path | None = None):
        if EOS not in vocab:  # id_of would answer the unknown word's id: documents never end
            raise UserError(f"the vocabulary has no end-of-document word {EOS}: it is not a word "
                            "language model's; restore its vocab.json, or retrain")
        super().__init__(model, vocab, config, conditions, run_dir)


    def stream(self, prime: str = "", length: int = 50, *, seed: int | None = None,
               **options) -> Iterator[str]:
        """Yield generated words one by one; an empty prime starts a new document.

        `options` are the character model's, seqrnn.configs.Sampling: top_k, top_p,
        temperature, greedy, beam, stop (the sample ends with the word that completes one),
        time_limit, and a conditioned model's condition (a value, or mixed conditions
        "1:0.5,10:0.5"). A sample also ends where the model ends its document.
        """
        sampling = Sampling(**options)
        model = self.conditioned(sampling.condition)
        if length < 0:
            raise field_error("length", f"{{}} must be zero or positive, got {length}")
        if seed is not None:
            seed = require_seed(seed)
        deadline = deadline_after(sampling.time_limit)
        eos = self.vocab.id_of(EOS)
        prime_words = tokenize(prime)
        ids = [eos] + self.vocab.encode(prime_words)  # a document starts after an EOS
        prime_ids = torch.tensor(ids, dtype=torch.int64, device=self.device)
        stop = StopAt(sampling.stop, " ".join(prime_words))
        separator = " " if prime_words else ""  # before the next word, as sample() joins them
        check_generation_memory(self.model.config, len(ids), length, 1, sampling.beam)
        if sampling.beam > 1:
            def finished(found: list[int]) -> bool:
                words = self.vocab.decode(found)
                return found[-1] == eos or stop.ends(separator + " ".join(words))

            chosen = iter(beam_search(_NextWordScores(model), prime_ids, length,
                                      sampling.beam, finished, deadline))
            deadline = None  # the search kept to it; its words are all chosen
        else:
            generator = torch.Generator().manual_seed(seed) if seed is not None else None
            chosen = feed_back(model, model.log_probs, prime_ids, length, top_k=sampling.top_k,
                               top_p=sampling.top_p, temperature=sampling.temperature,
                               greedy=sampling.greedy, generator=generator, stop_id=eos)
        for next_id in chosen:
            if next_id == eos:
                return
            word = self.vocab.decode([next_id])[0]
            yield word
            if stop.feed(separator + word)[1]:
                return
            if passed(deadline):
                return
            separator = " "

    def sample(self, prime: str = "", length: int = 50, **options) -> str:
        """The prime's words and up to `length` generated ones (fewer at a document's end)."""
        return " ".join([*tokenize(prime), *self.stream(prime, length, **options)])

    def evaluate_file(self, path: str | Path, *, encoding: str = "utf-8", num_steps: int = 70,
                      rows: int = 32, progress: bool = False,
                      condition: str | None = None) -> dict:
        """`evaluate` of a text file's text, tokenized a chunk at a time into a temporary
        memory-mapped file and scored a window at a time: any size, in bounded memory. A pipe
        is read whole, up to the input limit."""
        from seqrnn.data.text import read_text
        from seqrnn.data.word_corpus import encode_text_file

        if not Path(path).is_file():  # a pipe, a device, a folder: read_text words it
            return self.evaluate(read_text(path, encoding), num_steps=num_steps, rows=rows,
                                 condition=condition)
        with tempfile.TemporaryDirectory(prefix="seqrnn-evaluate-") as folder:
            ids = encode_text_file(Path(path), self.vocab, Path(folder), encoding=encoding,
                                   progress=progress)
            require_items(len(ids) - 2, "the text", "give a text with at least one word")
            unknown = sum(int((ids[i:i + (1 << 24)] == UNK_ID).sum())
                          for i in range(0, len(ids), 1 << 24))
            total, count = stream_loss(self.conditioned(condition), word_loss_sum, ids,
                                       num_steps, rows, progress=progress)
            del ids  # the memory map, before its folder goes
        return {**word_metrics(total, count), "words": count, "unknown_words": unknown}

    def evaluate(self, text: str, *, num_steps: int = 70, rows: int = 32,
                 condition: str | None = None) -> dict:
        """Loss (nats per word) and perplexity of `text`, read as one document (by a
        conditioned model with `condition`; None: its "none" entry).

        Words outside the vocabulary are scored as the unknown word, as in training,
        and counted in `unknown_words`.
        """
        eos = [self.vocab.id_of(EOS)]  # as in training, a document follows an EOS
        ids = torch.as_tensor([*eos, *encode_documents([text], self.vocab)], dtype=torch.int64)
        require_items(len(ids) - 2, "the text", "give a text with at least one word")
        total, count = stream_loss(self.conditioned(condition), word_loss_sum, ids, num_steps,
                                   rows)
        return {**word_metrics(total, count), "words": count,
                "unknown_words": int((ids == UNK_ID).sum())}

    def document_stream(self, documents: list[str]) -> tuple[np.ndarray, list[int]]:
        """Documents as training streams them (each followed by EOS), and each one's length."""
        return encode_counted(documents, self.vocab)
