"""Ids given to a vocabulary's tokens in the order it lists them: what the word and the symbol
vocabularies share (the character vocabulary looks its ids up by code point instead)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def index_tokens(tokens: Iterable[str], first_id: int,
                 what: str) -> tuple[tuple[str, ...], dict[str, int]]:
    """The tokens as a tuple and each one's id, counted from `first_id`; ValueError naming
    the vocabulary (`what`: "word", "symbol") if one is not a non-empty string or repeats."""
    tokens = tuple(tokens)
    if any(not isinstance(token, str) or not token for token in tokens):
        raise ValueError(f"a {what} vocabulary must list non-empty strings")
    ids = {token: first_id + i for i, token in enumerate(tokens)}
    if len(ids) != len(tokens):
        raise ValueError(f"a {what} vocabulary must not list a {what} twice")
    return tokens, ids


def unseen(tokens: Iterable[str], ids: Mapping[str, int]) -> list[str]:
    """The tokens without an id, sorted, each once: what an error names."""
    return sorted({token for token in tokens if token not in ids})
