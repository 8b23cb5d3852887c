"""Split review text into word tokens, the lecture's way, plus IMDb's line breaks.

The lecture lowercases a review and puts spaces around every ASCII punctuation
character (`string.punctuation`) before splitting on whitespace, so "Great!"
gives ``["great", "!"]`` and "don't" gives ``["don", "'", "t"]``. It does that
with a Python loop over characters. Here the same spacing is done with one
`str.replace` per punctuation character that occurs in the review, each a
scan in C, then `str.split`. Measured on IMDb, this is about twice as fast as
one regular expression with `findall` (a punctuation character, or a run of
other non-space characters), which is itself barely faster than the lecture's
loop: the regex engine pays a fixed cost for every token it finds.

IMDb reviews are full of HTML line breaks (``<br />``, about four per review);
the lecture's tokenizer turns each into the tokens ``< br / >``. They are
replaced by a space first, so they neither fill the vocabulary nor the
sequences.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator

from tqdm import tqdm

# `<br />`, `<br/>`, `<br>` and their spacing variants; matched after lowercasing.
_LINE_BREAK = re.compile(r"<br\s*/?\s*>")
_SPACED_PUNCTUATION = tuple((char, f" {char} ") for char in string.punctuation)


def tokenize(text: str) -> list[str]:
    """Lowercase word and punctuation tokens of `text`, with HTML line breaks removed."""
    text = _LINE_BREAK.sub(" ", text.lower())
    for char, spaced in _SPACED_PUNCTUATION:
        if char in text:  # most reviews use a handful of the 32 characters
            text = text.replace(char, spaced)
    return text.split()


# A word (letters, digits, and the hyphens, apostrophes or dots joining them: "U.S.", "don't",
# "long-term", "3.5"), or any other non-space character alone.
_WORD_OR_MARK = re.compile(r"\w+(?:[-'.]\w+)*|[^\w\s]")


def split_words(text: str) -> list[str]:
    """The words and punctuation marks of `text`, case kept: what a tagger reads from raw
    text ("He's 3.5% up." -> He's, 3.5, %, up, .: a word's own hyphens, apostrophes and dots
    stay inside it when letters or digits follow them)."""
    return _WORD_OR_MARK.findall(text)


def iter_tokenized(
    texts: Iterable[str],
    *,
    progress: bool = False,
    desc: str = "tokenizing",
    total: int | None = None,
) -> Iterator[list[str]]:
    """Tokenize `texts` one at a time, with an optional progress bar on stderr.

    A generator, so a caller that counts or encodes as it goes never holds the
    tokens of the whole corpus (tens of millions of strings for IMDb) at once.
    """
    if total is None and hasattr(texts, "__len__"):
        total = len(texts)
    bar = tqdm(texts, desc=desc, total=total, unit=" texts", disable=not progress, leave=False)
    for text in bar:
        yield tokenize(text)
