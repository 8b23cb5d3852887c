"""Chunk tag schemes (IOB1, IOB2, BIOES): reading chunks as conlleval does, converting between
schemes, checking tags, and the tag transitions a constrained CRF may take.

A tag is ``O`` (outside any chunk) or ``<prefix>-<type>``, the type being everything after the
first hyphen (``B-NP``, ``I-PER``), as conlleval splits it. The schemes' prefixes:

- ``iob1``: ``I`` inside a chunk; ``B`` only where a chunk follows one of the same type;
- ``iob2``: ``B`` starts every chunk, ``I`` continues it;
- ``bioes``: ``B`` begins, ``I`` continues, ``E`` ends a chunk of two or more tokens, ``S`` is a
  chunk of one.

`spans` reads chunks with conlleval's startOfChunk/endOfChunk rules (CoNLL-2000's evaluation
script), extended to ``S`` as seqeval's default mode does: a token outside ``O`` starts a chunk
when its prefix is ``B`` or ``S``, the previous token is ``O``, ``E`` or ``S``, or its type differs
from the previous token's; otherwise it continues the previous token's chunk. So any sequence of
the scheme's tags has one reading: a stray ``I-X`` after ``O`` (or after another type) starts a
chunk, as conlleval counts it, and real corpora that contain one are read, not refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from seqrnn.errors import UserError

SCHEMES = ("iob1", "iob2", "bioes")
OUTSIDE = "O"
_PREFIXES = {"iob1": "BI", "iob2": "BI", "bioes": "BIES"}
_TAG = re.compile(r"([A-Z])-(\S+)")
# Each scheme's tags read so far, tag -> (prefix, type): a corpus has a few dozen distinct tags,
# and its hundreds of thousands of tokens each cost one dict lookup.
_PARSED: dict[str, dict[str, tuple[str, str]]] = {
    scheme: {OUTSIDE: (OUTSIDE, "")} for scheme in SCHEMES
}

Span = tuple[str, int, int]  # (type, start, end): tokens start..end-1


class TransitionMask(NamedTuple):
    """Which tag sequences a scheme allows, over tag indices: a sequence of tags t1..tn is
    well-formed exactly when start[t1], allowed[t_i][t_i+1] for each i, and end[tn] hold."""

    start: list[bool]
    allowed: list[list[bool]]
    end: list[bool]


def check_scheme(scheme: str) -> None:
    """UserError unless `scheme` is one of `SCHEMES`."""
    if scheme not in _PREFIXES:
        raise UserError(f"unknown tag scheme {scheme!r}; use one of {', '.join(SCHEMES)}")


def check_tags(tags: Sequence[str], scheme: str, where: str) -> None:
    """UserError naming `where` and the token for a tag `scheme` has no place for: a malformed
    tag (``B_PER``) or a prefix of another scheme (``E-PER`` in iob2, ``S-X`` in iob1). An ``I-``
    that no ``B-`` opened is allowed: conlleval reads it, and real corpora contain it."""
    parsed = _parsed(scheme)
    for i, tag in enumerate(tags):
        if tag not in parsed:
            _parse(tag, scheme, f"{where}, token {i + 1}")


def spans(tags: Sequence[str], scheme: str, *, where: str = "a tag sequence") -> list[Span]:
    """The chunks of `tags` as (type, start, end exclusive), in order, read as conlleval does;
    `where` names the sequence in the error for a tag the scheme forbids."""
    parsed = _parsed(scheme)
    out: list[Span] = []
    previous, kind, begin = OUTSIDE, "", 0
    for i, tag in enumerate(tags):
        prefix, tag_type = parsed.get(tag) or _parse(tag, scheme, f"{where}, token {i + 1}")
        if prefix == OUTSIDE:
            if previous != OUTSIDE:
                out.append((kind, begin, i))
        elif prefix in "BS" or previous in "OES" or tag_type != kind:
            if previous != OUTSIDE:
                out.append((kind, begin, i))
            kind, begin = tag_type, i
        previous = prefix
    if previous != OUTSIDE:
        out.append((kind, begin, len(tags)))
    return out


def to_tags(chunks: Sequence[Span], length: int, scheme: str) -> list[str]:
    """The well-formed `scheme` tags of `length` tokens whose chunks are `chunks` (in order, not
    overlapping); every other token is ``O``."""
    check_scheme(scheme)
    tags = [OUTSIDE] * length
    previous_end, previous_type = -1, ""
    for kind, start, end in chunks:
        if scheme == "bioes" and end - start == 1:
            tags[start] = f"S-{kind}"
            continue
        if scheme == "iob1":
            # B only separates a chunk from one of the same type right before it.
            adjacent = start == previous_end and kind == previous_type
            tags[start] = f"{'B' if adjacent else 'I'}-{kind}"
        else:
            tags[start] = f"B-{kind}"
        tags[start + 1:end] = [f"I-{kind}"] * (end - start - 1)
        if scheme == "bioes":
            tags[end - 1] = f"E-{kind}"
        previous_end, previous_type = end, kind
    return tags


def convert(tags: Sequence[str], from_scheme: str, to_scheme: str) -> list[str]:
    """`tags` rewritten in `to_scheme`, keeping their chunks: lossless, and from a well-formed
    sequence back again gives the same tags."""
    return to_tags(spans(tags, from_scheme), len(tags), to_scheme)


def transition_mask(tag_names: Sequence[str], scheme: str) -> TransitionMask:
    """The first tags, tag pairs and last tags of the well-formed `scheme` sequences over
    `tag_names` (indices into it), for a CRF that must emit only those: no ``I-`` (or in bioes
    ``E-``) that a ``B-`` of its type did not open, no ``B-`` in iob1 but after its own type, no
    bioes chunk left open at the end. Pure Python: a model turns it into its mask."""
    parsed = [_parse(tag, scheme, f"the tag set, tag {i + 1}") for i, tag in enumerate(tag_names)]
    boundary = (OUTSIDE, "")  # before the first tag and after the last, as conlleval reads
    return TransitionMask(
        start=[_may_follow(scheme, boundary, tag) for tag in parsed],
        allowed=[[_may_follow(scheme, a, b) for b in parsed] for a in parsed],
        end=[_may_follow(scheme, tag, boundary) for tag in parsed],
    )


def _may_follow(scheme: str, previous: tuple[str, str], tag: tuple[str, str]) -> bool:
    """Whether `tag` may follow `previous` in a well-formed `scheme` sequence."""
    (before, before_type), (prefix, tag_type) = previous, tag
    inside = before in "BI" and before_type == tag_type  # a chunk of tag's type is still open
    if scheme == "iob1":
        return prefix != "B" or inside
    if scheme == "iob2":
        return prefix != "I" or inside
    if prefix in "IE":
        return inside
    return before not in "BI"


def _parsed(scheme: str) -> dict[str, tuple[str, str]]:
    check_scheme(scheme)
    return _PARSED[scheme]


def _parse(tag: str, scheme: str, where: str) -> tuple[str, str]:
    """(prefix, type) of `tag`, remembered; UserError naming `where` if `scheme` has no such
    tag."""
    parsed = _parsed(scheme)
    if tag in parsed:
        return parsed[tag]
    match = _TAG.fullmatch(tag) if isinstance(tag, str) else None
    if match is None or match[1] not in _PREFIXES[scheme]:
        prefixes = ", ".join(f"{p}-<type>" for p in _PREFIXES[scheme])
        raise UserError(
            f"{where}: {tag!r} is not one of the {scheme} tags (O, "
            f"{prefixes}); fix the tag, or give the scheme the data is written in"
        )
    parsed[tag] = (match[1], match[2])
    return parsed[tag]
