"""The word vocabulary of the sentiment classifier.

Ids, as the embedding layer sees them:

- 0 is padding (`PAD_ID`): the filler of short sequences, never a word;
- 1 is the unknown word (`UNK_ID`): any token not in the vocabulary, which at
  prediction time is every word the training split did not contain often enough;
- 2, 3, ... are the words, most frequent first, as in the lecture
  (``sorted(counts, key=counts.get, reverse=True)``). Words of equal count are
  ordered alphabetically, so the ids depend only on the counts, not on the
  order in which the training reviews were read.

The lecture counted words over train and test together; counting only the
training split keeps the test set unseen, hence the unknown id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import repeat

from seqrnn.data.ids import index_tokens
from seqrnn.errors import UserError, field_error

PAD_ID = 0
UNK_ID = 1
FIRST_WORD_ID = 2
PAD_TOKEN = "<pad>"
UNK_TOKEN = "<unk>"


@dataclass(frozen=True)
class WordVocab:
    """Words and their ids: id ``FIRST_WORD_ID + i`` stands for `words[i]`.

    `len(vocab)` counts the two reserved ids too: it is the number of rows the
    embedding table needs.
    """

    words: tuple[str, ...]
    _ids: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        words, ids = index_tokens(self.words, FIRST_WORD_ID, "word")
        object.__setattr__(self, "words", words)
        object.__setattr__(self, "_ids", ids)

    @classmethod
    def build(
        cls,
        tokenized: Iterable[Iterable[str]],
        *,
        min_freq: int = 1,
        max_vocab: int | None = None,
    ) -> WordVocab:
        """Count the tokens of the training texts and keep the frequent words.

        `min_freq`: a word must occur at least this often to get an id.
        `max_vocab`: keep at most this many words (the most frequent), not
        counting the padding and unknown ids; None keeps all.
        """
        counts: Counter[str] = Counter()
        for tokens in tokenized:
            counts.update(tokens)
        return cls.from_counts(counts, min_freq=min_freq, max_vocab=max_vocab)

    @classmethod
    def from_counts(cls, counts: Counter[str], *, min_freq: int = 1,
                    max_vocab: int | None = None) -> WordVocab:
        """`build`'s vocabulary from the tokens' counts."""
        if min_freq < 1:
            raise field_error("min_freq", f"{{}} must be at least 1, got {min_freq}")
        if max_vocab is not None and max_vocab < 1:
            raise field_error("max_vocab", f"{{}} must be at least 1, got {max_vocab}")
        kept = [(word, n) for word, n in counts.items() if n >= min_freq]
        kept.sort(key=lambda item: (-item[1], item[0]))
        if max_vocab is not None:
            kept = kept[:max_vocab]
        return cls(tuple(word for word, _ in kept))

    def __len__(self) -> int:
        return FIRST_WORD_ID + len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self._ids

    def id_of(self, word: str) -> int:
        return self._ids.get(word, UNK_ID)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """The id of each token; `UNK_ID` for words not in the vocabulary."""
        # map over dict.get runs in C: the one step here that touches every token.
        return list(map(self._ids.get, tokens, repeat(UNK_ID)))

    def decode(self, ids: Iterable[int]) -> list[str]:
        """The token of each id, with `PAD_TOKEN` and `UNK_TOKEN` for the reserved ids."""
        tokens = [PAD_TOKEN, UNK_TOKEN, *self.words]
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(tokens):
                raise ValueError(f"id {i} is outside the vocabulary [0, {len(tokens)})")
            out.append(tokens[i])
        return out

    def to_dict(self) -> dict:
        return {
            "kind": "word",
            "pad_id": PAD_ID,
            "unk_id": UNK_ID,
            "words": list(self.words),
        }

    @classmethod
    def from_dict(cls, data: dict) -> WordVocab:
        """The vocabulary `to_dict` stored, in its stored order; UserError if it is damaged."""
        if not isinstance(data, dict) or data.get("kind") != "word":
            raise UserError(
                "the vocabulary is not a word vocabulary (no \"kind\": \"word\"); "
                "use the vocab.json of a sentiment model, or retrain"
            )
        if data.get("pad_id") != PAD_ID or data.get("unk_id") != UNK_ID:
            raise UserError(
                f"the vocabulary uses pad/unknown ids {data.get('pad_id')}/{data.get('unk_id')}, "
                f"expected {PAD_ID}/{UNK_ID}; the vocab.json is damaged: restore it or retrain"
            )
        words = data.get("words")
        try:
            if not isinstance(words, list):
                raise ValueError("\"words\" must be a list")
            return cls(tuple(words))
        except ValueError as exc:
            raise UserError(
                f"invalid word vocabulary ({exc}); the vocab.json is damaged: "
                "restore it or retrain"
            ) from None
