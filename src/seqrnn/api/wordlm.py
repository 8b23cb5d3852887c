"""A trained word language model, ready to sample and evaluate.

    from seqrnn.api.wordlm import WordLanguageModel
    lm = WordLanguageModel.load("runs/imdb-lm")
    print(lm.sample("this movie was", 40, seed=1))
    print(lm.evaluate("a review it never read ..."))
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch

from seqrnn.api.loading import load_trained
from seqrnn.configs import require_positive, require_seed
from seqrnn.data.documents import EOS, encode_documents
from seqrnn.data.tokenize import tokenize
from seqrnn.data.vocab import UNK_ID, WordVocab
from seqrnn.errors import UserError
from seqrnn.models.wordlm import WordLM
from seqrnn.tasks.stream import stream_loss
from seqrnn.tasks.wordlm import SPEC, word_loss_sum, word_metrics


class WordLanguageModel:
    """A trained word model with its vocabulary: sample words, score texts."""

    def __init__(self, model: WordLM, vocab: WordVocab):
        self.model = model.eval()
        self.vocab = vocab

    @classmethod
    def load(cls, run_dir: str | Path, *, weights: str = "best",
             device: str = "cpu") -> WordLanguageModel:
        """The model of a run folder: its "best" (default) or "latest" weights."""
        model, vocab, _ = load_trained(run_dir, SPEC, WordVocab, weights=weights, device=device)
        return cls(model, vocab)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def stream(self, prime: str = "", length: int = 50, *, top_k: int = 5,
               temperature: float = 1.0, greedy: bool = False,
               seed: int | None = None) -> Iterator[str]:
        """Yield generated words one by one; an empty prime starts a new document."""
        if length < 0 or top_k < 0:
            raise UserError("{length} and {top_k} must be zero or positive",
                            fields=("length", "top_k"))
        require_positive(temperature=temperature)
        if seed is not None:
            require_seed(seed)
        eos = self.vocab.id_of(EOS)
        ids = [eos] + self.vocab.encode(tokenize(prime))  # a document starts after an EOS
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        prime_ids = torch.tensor(ids, dtype=torch.int64, device=self.device)
        for next_id in self.model.generate(prime_ids, length, top_k=top_k,
                                           temperature=temperature, greedy=greedy,
                                           generator=generator, stop_id=eos):
            if next_id == eos:
                return
            yield self.vocab.decode([next_id])[0]

    def sample(self, prime: str = "", length: int = 50, **options) -> str:
        """The prime's words and up to `length` generated ones (fewer at a document's end)."""
        return " ".join([*tokenize(prime), *self.stream(prime, length, **options)])

    def evaluate(self, text: str, *, num_steps: int = 70, rows: int = 32) -> dict:
        """Loss (nats per word) and perplexity of `text`, read as one document.

        Words outside the vocabulary are scored as the unknown word, as in training,
        and counted in `unknown_words`.
        """
        eos = [self.vocab.id_of(EOS)]  # as in training, a document follows an EOS
        ids = torch.as_tensor([*eos, *encode_documents([text], self.vocab)], dtype=torch.int64)
        total, count = stream_loss(self.model, word_loss_sum, ids, num_steps, rows)
        return {**word_metrics(total, count), "words": count,
                "unknown_words": int((ids == UNK_ID).sum())}
