"""Prepared character corpora: a text of any size tokenized once into a memory-mapped file.

A text file, or a folder's or a glob's files, is read a chunk at a time (`TextReader`),
twice. The first pass finds how many characters the text has and where each distinct
character first appears: that decides the splits (`split_sizes`, as for a text in memory)
and the training vocabulary (the characters of the training part, sorted). The second pass
writes the id of every training character, then of every validation character the
vocabulary knows (the others are dropped, as `drop_unknown` drops them), into the cache
(`seqrnn.data.prepared`). The test part is never read. So the ids are those of
`CharVocab.encode` on the text in memory, and memory stays flat (a few chunks) whatever the
text's size.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import numpy as np

from seqrnn.data.prepared import (
    MANIFEST,
    IdCounts,
    PreparedCorpus,
    cache_folder,
    open_folder,
    write_folder,
    write_scratch,
)
from seqrnn.data.text import CharVocab, split_sizes, text_files
from seqrnn.data.text_stream import TextReader, changed_error, content_digest, file_stats

KIND = "chars"
PreparedText = PreparedCorpus[CharVocab]


def corpus_files(location: str) -> tuple[list[Path], bool] | None:
    """The files a text location names for preparation, and whether they are several (each
    then ends with a newline, as `load_text` joins them); None for what is read in memory:
    a dataset name, a pipe or device, a path that does not exist (its error is `load_text`'s).
    """
    files = text_files(location)
    if files is not None:
        return files, True
    path = Path(location).expanduser()
    try:
        return ([path], False) if stat.S_ISREG(path.stat().st_mode) else None
    except OSError:
        return None


def prepare_text(files: list[Path], *, encoding: str = "utf-8", val_fraction: float = 0.1,
                 test_fraction: float = 0.0, newline_per_file: bool = False,
                 progress: bool = False) -> PreparedText:
    """The prepared corpus of `files` read one after another, from the cache or made now.

    `newline_per_file`: each file's text ends with a newline, as `load_text` joins a
    folder's files. Errors are `read_text`'s and `decode_bytes`'s, one line each, plus a
    file changed while it was read and a disk that fills.
    """
    settings = {"encoding": encoding, "val_fraction": val_fraction,
                "test_fraction": test_fraction, "newline_per_file": newline_per_file}
    sources, digest = content_digest(files)
    folder = cache_folder(KIND, digest, settings)
    if (folder / MANIFEST).exists():
        return open_prepared(folder)
    stats = file_stats(files)
    reader = TextReader(files, encoding, newline_per_file, progress)
    first_seen, length = first_positions(reader, digest)
    n_train, n_val, n_test = split_sizes(length, val_fraction, test_fraction)
    vocab = CharVocab(tuple(sorted(chr(c) for c, at in first_seen.items() if at < n_train)))

    def write_tokens(out) -> dict[str, Any]:
        written = write_ids(reader, out, vocab, n_train, n_val)
        if file_stats(files) != stats:  # the second pass read what the first one counted
            raise changed_error(files)
        return written["counts"].manifest()

    manifest = {"kind": KIND, "settings": settings, "sources": sources, "blake2b": digest,
                "characters": length, "dtype": vocab.dtype.name,
                "splits": {"train": n_train, "val": n_val, "test": n_test}}
    write_folder(folder, vocab.to_dict(), manifest, (n_train + n_val) * vocab.dtype.itemsize,
                 write_tokens)
    return open_prepared(folder, reused=False)


def open_prepared(folder: Path, *, reused: bool = True) -> PreparedText:
    """The prepared character corpus in `folder`, memory-mapped; UserError when damaged."""
    return open_folder(folder, KIND, CharVocab.from_dict, len, reused=reused)


def encode_files(files: list[Path], vocab: CharVocab, folder: Path, *,
                 encoding: str = "utf-8", newline_per_file: bool = False,
                 progress: bool = False) -> tuple[np.ndarray, int, str]:
    """The ids of the text of `files` in `vocab`, its unknown characters dropped, written a
    chunk at a time to `folder`/tokens.bin and memory-mapped; the text's length in characters;
    and the dropped characters. For scoring a text of any size with a trained model."""
    reader = TextReader(files, encoding, newline_per_file, progress)
    ids, counts = write_scratch(folder, vocab.dtype,
                                lambda out: write_ids(reader, out, vocab, 0, None))
    return ids, counts["characters"], counts["dropped"]


def first_positions(reader: TextReader, digest: str) -> tuple[dict[int, int], int]:
    """Where each code point first appears, and how many characters the text has."""
    first: dict[int, int] = {}
    position = 0
    for codes in code_points(reader, "counting", digest):
        new = set(np.flatnonzero(np.bincount(codes)).tolist()) - first.keys()
        if new:  # rare after the first chunks: searched for alone
            first.update(_first_places(codes, new, position))
        position += len(codes)
    return first, position


def _first_places(codes: np.ndarray, wanted: set[int], offset: int) -> dict[int, int]:
    """The first position (plus `offset`) of each code in `wanted`, all of which occur in
    `codes`: block by block, each block searched only for the codes it holds."""
    found: dict[int, int] = {}
    block = 1 << 16
    for start in range(0, len(codes), block):
        part = codes[start:start + block]
        for code in wanted.intersection(np.flatnonzero(np.bincount(part)).tolist()):
            found[code] = offset + start + int(np.argmax(part == code))
        wanted -= found.keys()
        if not wanted:
            break
    return found


def write_ids(reader: TextReader, out, vocab: CharVocab, n_train: int,
              n_val: int | None) -> dict[str, Any]:
    """Write the ids of the first `n_train` characters (all in the vocabulary), then of the
    next `n_val` (None: all the rest) that the vocabulary knows, to the file `out`. Returns
    the ids written to each part and how often each (`IdCounts`), the characters read and
    those dropped."""
    codes_of_vocab = np.array([ord(c) for c in vocab.chars])
    unknown = len(vocab)  # the table's id for every code point outside the vocabulary
    table = np.full(int(codes_of_vocab.max()) + 2, unknown, dtype=np.int32)
    table[codes_of_vocab] = np.arange(len(vocab))
    position, dropped, counts = 0, set(), IdCounts(len(vocab))
    end = None if n_val is None else n_train + n_val
    for codes in code_points(reader, "writing"):
        past = codes.max(initial=0) >= len(table)  # past every vocabulary code: unknown
        ids = table[np.minimum(codes, len(table) - 1) if past else codes]
        train_part = max(0, min(len(ids), n_train - position))
        val_ids = ids[train_part:None if end is None else end - position]
        known = val_ids != unknown
        if not known.all():
            dropped.update(np.unique(codes[train_part:][:len(val_ids)][~known]).tolist())
        for part, part_ids in (("train", ids[:train_part]), ("val", val_ids[known])):
            out.write(part_ids.astype(vocab.dtype).tobytes())
            counts.add(part, part_ids)
        position += len(ids)
        if end is not None and position >= end:  # the test part is never read
            break
    return {"counts": counts, "characters": position,
            "dropped": "".join(chr(c) for c in sorted(dropped))}


def code_points(reader: TextReader, what: str, digest: str | None = None):
    """The text's code points, a chunk at a time (uint8 where a chunk is ASCII, else uint32),
    line ends as LF."""
    for _, text in reader.pieces(what, digest, line_ends=False):
        if text.isascii():  # most text: a byte per character, no wider copy
            codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        else:
            codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        yield _lf_line_ends(codes) if "\r" in text else codes


def _lf_line_ends(codes: np.ndarray) -> np.ndarray:
    """CRLF and lone CR as LF, as `normalize_newlines` does, on code points (faster than on
    a str)."""
    crlf = np.flatnonzero((codes[:-1] == 13) & (codes[1:] == 10))
    codes = np.delete(codes, crlf)  # a new array: the frombuffer one is read-only
    codes[codes == 13] = 10
    return codes


