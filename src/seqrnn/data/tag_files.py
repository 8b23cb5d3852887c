"""A file of tagged sentences as the tagger's data config names it: CoNLL columns or JSON lines
(seqrnn.data.conll), chosen by the config's format or the file's extension."""

from __future__ import annotations

from pathlib import Path

from seqrnn.configs.tagger import TaggerData
from seqrnn.data.conll import TaggedSentence, read_conll, read_jsonl
from seqrnn.data.files import decode_bytes, read_input
from seqrnn.data.labels import check_readable
from seqrnn.errors import UserError

JSONL_SUFFIXES = (".jsonl", ".json")


def tag_format(path: Path, data: TaggerData) -> str:
    """conll or jsonl: the config's format, else jsonl for .jsonl/.json files, else conll."""
    if data.format is not None:
        return data.format
    return "jsonl" if path.suffix.lower() in JSONL_SUFFIXES else "conll"


def read_tagged_file(path: str | Path, data: TaggerData) -> list[TaggedSentence]:
    """The sentences of one file, tags as written (the caller checks them against a scheme)."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise UserError(f"{path} is a folder; pass a file of tagged sentences (CoNLL columns "
                        "or JSON lines)")
    check_readable(path)
    text = decode_bytes(read_input(path), "utf-8", str(path)).removeprefix("\ufeff")
    if tag_format(path, data) == "jsonl":
        return read_jsonl(text, feature_keys=data.feature_keys, source=str(path))
    return read_conll(text, word_column=data.word_column, tag_column=data.tag_column,
                      feature_columns=data.feature_columns, source=str(path))
