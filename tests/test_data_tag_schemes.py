import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqrnn.data.tag_schemes import (
    SCHEMES,
    check_tags,
    convert,
    spans,
    to_tags,
    transition_mask,
)
from seqrnn.errors import UserError

PREFIXES = {"iob1": "BI", "iob2": "BI", "bioes": "BIES"}
TYPES = ("X", "Y")


def tag_set(scheme):
    return ["O", *(f"{p}-{t}" for p in PREFIXES[scheme] for t in TYPES)]


@st.composite
def chunk_lists(draw):
    """(chunks, length): chunks in order, apart or adjacent, of types X and Y."""
    chunks, position = [], 0
    for gap, size, kind in draw(st.lists(st.tuples(st.integers(0, 2), st.integers(1, 3),
                                                   st.sampled_from(TYPES)), max_size=6)):
        start = position + gap
        chunks.append((kind, start, start + size))
        position = start + size
    return chunks, position + draw(st.integers(0, 2))


def test_spans_iob2_by_hand():
    assert spans(["B-PER", "I-PER", "O", "B-LOC"], "iob2") == [("PER", 0, 2), ("LOC", 3, 4)]
    assert spans(["B-NP", "B-NP", "I-NP"], "iob2") == [("NP", 0, 1), ("NP", 1, 3)]
    assert spans([], "iob2") == []
    assert spans(["O", "O"], "iob2") == []


def test_a_stray_inside_tag_starts_a_chunk_as_conlleval_reads_it():
    # I-PER after O, then B-PER, then I-LOC after a PER: three chunks, none refused.
    tags = ["O", "I-PER", "I-PER", "B-PER", "I-LOC"]
    assert spans(tags, "iob2") == [("PER", 1, 3), ("PER", 3, 4), ("LOC", 4, 5)]
    check_tags(tags, "iob2", "here")  # no error


def test_spans_iob1_by_hand():
    tags = ["I-NP", "I-NP", "B-NP", "I-VP", "O", "I-NP"]
    assert spans(tags, "iob1") == [("NP", 0, 2), ("NP", 2, 3), ("VP", 3, 4), ("NP", 5, 6)]


def test_spans_bioes_by_hand():
    # E and S close a chunk whatever follows; an I or E after O, E or S opens one.
    tags = ["B-X", "E-X", "S-X", "I-X", "E-Y", "O", "E-X"]
    assert spans(tags, "bioes") == [("X", 0, 2), ("X", 2, 3), ("X", 3, 4), ("Y", 4, 5),
                                    ("X", 6, 7)]
    assert spans(["B-X", "I-X"], "bioes") == [("X", 0, 2)]  # open at the end: ends there
    assert spans(["B-X", "B-X", "S-X", "E-X"], "bioes") == [
        ("X", 0, 1), ("X", 1, 2), ("X", 2, 3), ("X", 3, 4)]


def test_a_type_keeps_its_hyphens():
    # conlleval splits a tag at its first hyphen.
    assert spans(["B-A-B", "I-A-B", "I-A"], "iob2") == [("A-B", 0, 2), ("A", 2, 3)]


@pytest.mark.parametrize(("tag", "scheme"), [
    ("E-PER", "iob2"), ("S-X", "iob1"), ("B_PER", "iob2"), ("b-PER", "bioes"), ("B-", "iob2"),
    ("PER", "iob2"), ("O-X", "bioes"), ("B-A B", "iob2"), ("", "iob1"),
])
def test_check_tags_refuses_what_the_scheme_has_no_place_for(tag, scheme):
    with pytest.raises(UserError) as info:
        check_tags(["O", "B-X", tag], scheme, "train.txt sentence 12")
    message = str(info.value)
    assert message.startswith(f"train.txt sentence 12, token 3: {tag!r} is not one of the "
                              f"{scheme} tags")
    assert "\n" not in message
    with pytest.raises(UserError, match="^gold sentence 2, token 3: "):
        spans(["O", "B-X", tag], scheme, where="gold sentence 2")


def test_every_scheme_tag_passes():
    for scheme in SCHEMES:
        check_tags(tag_set(scheme), scheme, "here")


def test_an_unknown_scheme_names_the_known_ones():
    with pytest.raises(UserError, match="unknown tag scheme 'bio'; use one of iob1, iob2, bioes"):
        spans(["O"], "bio")
    with pytest.raises(UserError, match="unknown tag scheme"):
        to_tags([], 1, "ioe")


def test_convert_by_hand():
    iob2 = ["B-NP", "I-NP", "B-NP", "B-VP", "O", "B-NP", "I-NP"]
    assert convert(iob2, "iob2", "iob1") == ["I-NP", "I-NP", "B-NP", "I-VP", "O", "I-NP", "I-NP"]
    assert convert(iob2, "iob2", "bioes") == ["B-NP", "E-NP", "S-NP", "S-VP", "O", "B-NP", "E-NP"]
    assert convert(["B-X", "I-X", "I-X"], "iob2", "bioes") == ["B-X", "I-X", "E-X"]
    # An ill-formed sequence keeps its chunks and comes out well-formed.
    assert convert(["O", "I-PER", "I-LOC"], "iob2", "iob2") == ["O", "B-PER", "B-LOC"]


@settings(max_examples=200, deadline=None)
@given(chunk_lists(), st.sampled_from(SCHEMES), st.sampled_from(SCHEMES))
def test_conversion_round_trips_keep_tags_and_chunks(drawn, first, second):
    chunks, length = drawn
    tags = to_tags(chunks, length, first)
    assert len(tags) == length
    assert spans(tags, first) == chunks
    there = convert(tags, first, second)
    assert spans(there, second) == chunks
    assert convert(there, second, first) == tags
    around = tags
    for a, b in itertools.pairwise((first, *SCHEMES, first)):  # through every scheme, back
        around = convert(around, a, b)
    assert around == tags


@pytest.mark.parametrize("scheme", SCHEMES)
def test_spans_match_seqeval_on_any_sequence(scheme):
    # seqeval's default mode is conlleval's reading, with S (and E) as in bioes; its ends are
    # inclusive. It reads tags outside a scheme too, which check_tags refuses: not compared.
    sequence_labeling = pytest.importorskip("seqeval.metrics.sequence_labeling")
    rng = random.Random(0)
    names = tag_set(scheme)
    for _ in range(2000):
        tags = rng.choices(names, k=rng.randrange(12))
        expected = [(kind, start, end + 1) for kind, start, end in
                    sequence_labeling.get_entities(tags)]
        assert spans(tags, scheme) == expected, tags


def test_transition_mask_iob2_by_hand():
    names = ["O", "B-X", "I-X", "B-Y", "I-Y"]
    start, allowed, end = transition_mask(names, "iob2")
    assert start == [True, True, False, True, False]
    assert allowed == [
        [True, True, False, True, False],  # after O
        [True, True, True, True, False],  # after B-X
        [True, True, True, True, False],  # after I-X
        [True, True, False, True, True],  # after B-Y
        [True, True, False, True, True],  # after I-Y
    ]
    assert end == [True] * 5


def test_transition_mask_bioes_and_iob1_by_hand():
    names = ["O", "B-X", "I-X", "E-X", "S-X"]
    start, allowed, end = transition_mask(names, "bioes")
    assert start == [True, True, False, False, True]
    assert allowed == [
        [True, True, False, False, True],  # after O
        [False, False, True, True, False],  # after B-X
        [False, False, True, True, False],  # after I-X
        [True, True, False, False, True],  # after E-X
        [True, True, False, False, True],  # after S-X
    ]
    assert end == [True, False, False, True, True]
    start, allowed, end = transition_mask(["O", "I-X", "B-X", "I-Y"], "iob1")
    assert start == [True, True, False, True]
    assert [row[2] for row in allowed] == [False, True, True, False]  # B-X only after X
    assert all(all(row[j] for j in (0, 1, 3)) for row in allowed)
    assert end == [True] * 4


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_mask_allows_exactly_the_well_formed_sequences(scheme):
    # Brute force: every sequence of up to 4 tags is allowed by the mask exactly when the
    # scheme writes its chunks that way (converting it to its own scheme changes nothing).
    names = tag_set(scheme)
    start, allowed, end = transition_mask(names, scheme)
    for length in range(1, 5):
        for sequence in itertools.product(range(len(names)), repeat=length):
            tags = [names[i] for i in sequence]
            masked = (start[sequence[0]] and end[sequence[-1]]
                      and all(allowed[a][b] for a, b in itertools.pairwise(sequence)))
            assert masked == (convert(tags, scheme, scheme) == tags), tags


def test_transition_mask_refuses_a_tag_the_scheme_lacks():
    with pytest.raises(UserError, match=r"^the tag set, tag 2: 'E-X' is not one of the iob2"):
        transition_mask(["O", "E-X"], "iob2")
