"""Tagged sentences for sequence tagging (chunking, named entities): CoNLL column files, JSON
lines, and the CoNLL-2000 and CoNLL-2002 corpora read straight from NLTK's zip archives.

- CoNLL columns: one token a line, its fields separated by whitespace (the word, the tag, any
  feature such as a part of speech, each a column); a blank line ends a sentence; a
  ``-DOCSTART-`` line marks an article (CoNLL-2002 Dutch) and is skipped, ending a sentence.
- JSON lines: one sentence a line, ``{"tokens": [...], "tags": [...]}``, plus any feature lists
  named by the caller, each as long as the tokens.

The readers take tags as they are; `seqrnn.data.tag_schemes.check_tags` checks them against a
scheme, as `load_corpus` does.

`load_corpus` gives a corpus's official splits. CoNLL-2000 has no validation split: it is a
fixed 10% of the training sentences (894 of 8,936), drawn with Python's ``random.Random``
seeded 2000, whose ``random()`` stream Python keeps the same across versions; they keep their
order, and so do the 8,042 left for training. All three corpora are tagged in IOB2
(`CORPUS_SCHEME`) and carry the part of speech as their one feature column. Their files are
UTF-8 in NLTK's archives (the Spanish and Dutch ones too: their accents are two-byte UTF-8
sequences, which read as latin-1 would give ``Ã³`` for ``ó``).
"""

from __future__ import annotations

import os
import random
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from seqrnn.data.files import decode_bytes, parse_json
from seqrnn.data.locate import cache_dir, search_dirs
from seqrnn.data.tag_schemes import check_tags
from seqrnn.errors import UserError

DOCSTART = "-DOCSTART-"
CORPUS_SCHEME = "iob2"
SPLITS = ("train", "validation", "test")
VALIDATION_FRACTION = 0.1  # of the training sentences, where a corpus has no validation split
VALIDATION_SEED = 2000


@dataclass(frozen=True)
class TaggedSentence:
    """One sentence: its tokens, a tag for each, and its feature columns (such as the part of
    speech), each a tuple as long as the tokens: ``features[k][i]`` is feature k of token i."""

    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    features: tuple[tuple[str, ...], ...] = ()

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass(frozen=True)
class CorpusSpec:
    """Where a corpus's splits are: its NLTK archive, and each split's member in it. Every
    member has the columns word, part of speech, tag."""

    archive: str
    members: dict[str, str]


CORPORA: dict[str, CorpusSpec] = {
    "conll2000": CorpusSpec("conll2000.zip", {
        "train": "conll2000/train.txt", "test": "conll2000/test.txt"}),
    "conll2002-es": CorpusSpec("conll2002.zip", {
        "train": "conll2002/esp.train", "validation": "conll2002/esp.testa",
        "test": "conll2002/esp.testb"}),
    "conll2002-nl": CorpusSpec("conll2002.zip", {
        "train": "conll2002/ned.train", "validation": "conll2002/ned.testa",
        "test": "conll2002/ned.testb"}),
}
_WORD, _POS, _TAG = 0, 1, 2


def read_conll(text_or_lines: str | Iterable[str], *, word_column: int = 0,
               tag_column: int = -1, feature_columns: Sequence[int] = (),
               source: str = "file") -> list[TaggedSentence]:
    """The sentences of CoNLL column text (or its lines); columns are Python indices into a
    line's fields (-1: the last). Every token line must have as many fields as the first one;
    `source` names the text in errors, which give its line numbers."""
    lines = text_or_lines.splitlines() if isinstance(text_or_lines, str) else text_or_lines
    columns = [("word_column", word_column), ("tag_column", tag_column),
               *((f"feature_columns[{k}]", c) for k, c in enumerate(feature_columns))]
    sentences: list[TaggedSentence] = []
    words: list[str] = []
    tags: list[str] = []
    features: list[list[str]] = [[] for _ in feature_columns]
    width, first_line = 0, 0
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields or fields[0] == DOCSTART:
            if words:
                sentences.append(TaggedSentence(
                    tuple(words), tuple(tags), tuple(tuple(column) for column in features)))
                words, tags, features = [], [], [[] for _ in feature_columns]
            continue
        if len(fields) != width:
            if width:
                raise UserError(
                    f"{source} line {number}: {len(fields)} columns where line {first_line} has "
                    f"{width}; every token line needs the same columns (is a token split by a "
                    "space?)")
            width, first_line = len(fields), number
            _check_columns(columns, width, f"{source} line {number}")
        words.append(fields[word_column])
        tags.append(fields[tag_column])
        for column, index in zip(features, feature_columns, strict=True):
            column.append(fields[index])
    if words:
        sentences.append(TaggedSentence(
            tuple(words), tuple(tags), tuple(tuple(column) for column in features)))
    if not sentences:
        raise UserError(f"{source} has no sentences; expected CoNLL columns: a token a line "
                        "(word, tag, ...), a blank line after each sentence")
    return sentences


def read_jsonl(text_or_lines: str | Iterable[str], *, feature_keys: Sequence[str] = (),
               source: str = "file") -> list[TaggedSentence]:
    """The sentences of JSON lines text (or its lines), one object a line with the lists
    "tokens" and "tags" and one for each of `feature_keys`, all of strings and as long as the
    tokens; blank lines are skipped. `source` names the text in errors."""
    lines = text_or_lines.splitlines() if isinstance(text_or_lines, str) else text_or_lines
    sentences = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source} line {number}"
        record = parse_json(line, where, 'write one object a line, such as {"tokens": '
                            '["Peter", "runs"], "tags": ["B-PER", "O"]}')
        if not isinstance(record, dict):
            raise UserError(f"{where}: a {type(record).__name__}, not an object; write one "
                            'object a line, such as {"tokens": [...], "tags": [...]}')
        tokens = _strings(record, "tokens", where)
        if not tokens:
            raise UserError(f"{where}: no tokens; give each sentence at least one token")
        rest = [_strings(record, key, where) for key in ("tags", *feature_keys)]
        for key, values in zip(("tags", *feature_keys), rest, strict=True):
            if len(values) != len(tokens):
                raise UserError(f"{where}: {len(tokens)} tokens but {len(values)} {key}; give "
                                "one for each token")
        sentences.append(TaggedSentence(tokens, rest[0], tuple(rest[1:])))
    if not sentences:
        raise UserError(f'{source} has no sentences; expected JSON lines, one {{"tokens": '
                        '[...], "tags": [...]} object a sentence')
    return sentences


def load_corpus(name: str, data_dir: str | os.PathLike | None = None
                ) -> dict[str, list[TaggedSentence]]:
    """A corpus's splits {"train", "validation", "test"}, its tags checked as IOB2.

    The archive (`CORPORA`) is looked for in `data_dir`, or where seqrnn looks for data
    ($SEQRNN_DATA, then the cache folder), and read without extracting anything.
    """
    if name not in CORPORA:
        raise UserError(f"unknown corpus {name!r}; choose one of {', '.join(CORPORA)}")
    spec = CORPORA[name]
    path = _archive(spec.archive, data_dir)
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = [m for m in spec.members.values() if m not in names]
            if missing:
                raise UserError(f"{path} has no member {missing[0]}; put NLTK's "
                                f"{spec.archive} there, which has it")
            raw = {split: archive.read(member) for split, member in spec.members.items()}
    except zipfile.BadZipFile as exc:
        raise UserError(f"{path} is not a zip archive ({exc}); put NLTK's {spec.archive} "
                        "there") from None
    splits = {}
    for split, data in raw.items():
        where = f"{path.name}: {spec.members[split]}"
        sentences = read_conll(decode_bytes(data, "utf-8", where), word_column=_WORD,
                               tag_column=_TAG, feature_columns=(_POS,), source=where)
        for number, sentence in enumerate(sentences, start=1):
            check_tags(sentence.tags, CORPUS_SCHEME, f"{where} sentence {number}")
        splits[split] = sentences
    if "validation" not in splits:
        splits["train"], splits["validation"] = _carve(splits["train"])
    return {split: splits[split] for split in SPLITS}


def _carve(sentences: list[TaggedSentence]) -> tuple[list[TaggedSentence], list[TaggedSentence]]:
    """(train, validation): `VALIDATION_FRACTION` of the sentences, those with the smallest of
    one ``random()`` draw each, seeded `VALIDATION_SEED`; both keep the sentences' order."""
    rng = random.Random(VALIDATION_SEED)
    keys = [rng.random() for _ in sentences]
    count = round(VALIDATION_FRACTION * len(sentences))
    held = set(sorted(range(len(sentences)), key=keys.__getitem__)[:count])
    return ([s for i, s in enumerate(sentences) if i not in held],
            [s for i, s in enumerate(sentences) if i in held])


def corpus_file(name: str) -> Path:
    """The archive a corpus is read from (where load_corpus finds it): what a run's data
    fingerprint pins down."""
    if name not in CORPORA:
        raise UserError(f"unknown corpus {name!r}; choose one of {', '.join(CORPORA)}")
    return _archive(CORPORA[name].archive, None)


def _archive(filename: str, data_dir: str | os.PathLike | None) -> Path:
    folders = [Path(data_dir)] if data_dir is not None else search_dirs()
    for folder in folders:
        if (folder / filename).is_file():
            return folder / filename
    if data_dir is not None:
        raise UserError(f"{filename} not found in {data_dir}; put NLTK's {filename} "
                        "(nltk_data/corpora) there")
    raise UserError(f"{filename} not found in {', '.join(map(str, folders))}; put NLTK's "
                    f"{filename} (nltk_data/corpora) in a folder named by $SEQRNN_DATA or in "
                    f"{cache_dir()}")


def _check_columns(columns: list[tuple[str, int]], width: int, where: str) -> None:
    for name, index in columns:
        if not -width <= index < width:
            raise UserError(f"{where}: {width} columns, too few for {name}={index}; give the "
                            "columns this file has")


def _strings(record: dict, key: str, where: str) -> tuple[str, ...]:
    values = record.get(key)
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise UserError(f'{where}: "{key}" must be a list of strings; give it one for each '
                        "token")
    return tuple(values)
