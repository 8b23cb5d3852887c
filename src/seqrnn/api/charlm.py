"""A trained character language model, ready to sample and evaluate.

    from seqrnn.api.charlm import LanguageModel
    lm = LanguageModel.load("runs/hamlet")
    print(lm.sample(prime="The ", length=200, seed=1))
    print(lm.evaluate(open("other.txt").read()))
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch

from seqrnn.api.loading import load_trained
from seqrnn.configs import require_positive, require_seed
from seqrnn.data.text import CharVocab, drop_unknown
from seqrnn.errors import UserError, field_error
from seqrnn.models.charlm import CharLM
from seqrnn.tasks.charlm import SPEC, char_loss_sum, loss_metrics
from seqrnn.tasks.stream import stream_loss


class LanguageModel:
    """A trained model with its vocabulary, ready to sample and evaluate."""

    def __init__(self, model: CharLM, vocab: CharVocab):
        self.model = model.eval()
        self.vocab = vocab

    @classmethod
    def load(cls, run_dir: str | Path, *, weights: str = "best",
             device: str = "cpu") -> LanguageModel:
        """The model of a run folder: its "best" (default) or "latest" weights."""
        model, vocab, _ = load_trained(run_dir, SPEC, CharVocab, weights=weights, device=device)
        return cls(model, vocab)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def check_prime(self, prime: str) -> None:
        """UserError about field `prime` when the model cannot start from it."""
        if not prime:
            raise field_error("prime", "{} must have at least one character")
        unknown = self.vocab.unknown_chars(prime)
        if unknown:
            raise UserError(f"the prime has characters the model never saw: {unknown!r}; "
                            "remove them from {prime}", fields=("prime",))

    def stream(self, prime: str = "The ", length: int = 500, *, top_k: int = 5,
               temperature: float = 1.0, greedy: bool = False,
               seed: int | None = None) -> Iterator[str]:
        """Yield generated characters one by one (the prime itself is not repeated)."""
        self.check_prime(prime)
        if length < 0 or top_k < 0:
            raise UserError("{length} and {top_k} must be zero or positive",
                            fields=("length", "top_k"))
        require_positive(temperature=temperature)
        if seed is not None:
            require_seed(seed)
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        prime_ids = torch.as_tensor(self.vocab.encode(prime), dtype=torch.int64, device=self.device)
        for next_id in self.model.generate(prime_ids, length, top_k=top_k,
                                           temperature=temperature, greedy=greedy,
                                           generator=generator):
            yield self.vocab.decode([next_id])

    def default_prime(self) -> str:
        """The lecture's "The ", or the first character of the vocabulary for other texts."""
        return "The " if not self.vocab.unknown_chars("The ") else self.vocab.chars[0]

    def sample(self, prime: str = "The ", length: int = 500, **options) -> str:
        """The prime followed by `length` generated characters."""
        return prime + "".join(self.stream(prime, length, **options))

    def evaluate(self, text: str, *, num_steps: int = 100, rows: int = 32) -> dict:
        """Loss (nats/char), bits per character and perplexity of `text`.

        Characters outside the vocabulary cannot be scored: they are left out,
        and counted in `unknown_chars`.
        """
        known, unknown = drop_unknown(self.vocab, text)
        ids = torch.as_tensor(self.vocab.encode(known), dtype=torch.int64)
        total, count = stream_loss(self.model, char_loss_sum, ids, num_steps, rows)
        return {**loss_metrics(total, count), "characters": count,
                "unknown_chars": len(text) - len(known), "unknown_set": unknown}
