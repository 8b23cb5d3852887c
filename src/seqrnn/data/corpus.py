"""Prepared character corpora: a text of any size tokenized once into a memory-mapped file.

A text file, or a folder's or a glob's files, is read a chunk at a time, twice. The first
pass finds how many characters the text has and where each distinct character first
appears: that decides the splits (`split_sizes`, as for a text in memory) and the training
vocabulary (the characters of the training part, sorted). The second pass writes the id of
every training character, then of every validation character the vocabulary knows (the
others are dropped, as `drop_unknown` drops them), into ``tokens.bin``, one unsigned integer
of the narrowest type the vocabulary allows per character. The test part is never read.
So the ids are those of `CharVocab.encode` on the text in memory, and memory stays flat
(a few chunks) whatever the text's size.

A prepared corpus is a folder in the cache (`cache_root()`), named by a hash of the text's
content (the files' names and bytes) and the settings that change its ids (encoding, split
fractions): a second run on the same text reuses it, and a changed text is prepared anew.
Its ``manifest.json`` (sources, sizes, content hash, counts, splits) is written last and the
folder is renamed into place whole, so a preparation stopped half way (a full disk, Ctrl-C)
leaves nothing that is reused; a damaged folder is refused in one line. Processes preparing
the same text at once (the ranks of a distributed run) each write their own folder and the
first to finish wins; every process then maps the same file.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqrnn.atomic import write_json
from seqrnn.data.files import parse_json
from seqrnn.data.text import CharVocab, split_sizes, text_files
from seqrnn.errors import UserError, field_error

CACHE_ENV = "SEQRNN_CACHE"
FORMAT = 1  # the layout of a prepared folder; a folder of another format is prepared anew
CHUNK_BYTES = 1 << 22  # bytes read, decoded and encoded at a time
TOKENS, VOCAB, MANIFEST = "tokens.bin", "vocab.json", "manifest.json"


def cache_root() -> Path:
    """Where prepared corpora are kept: $SEQRNN_CACHE, else $XDG_CACHE_HOME/seqrnn, else
    ~/.cache/seqrnn."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "seqrnn"


@dataclass(frozen=True)
class PreparedText:
    """A prepared corpus opened for reading: memory-mapped training and validation ids."""

    train: np.ndarray
    val: np.ndarray
    vocab: CharVocab
    path: Path  # its folder
    reused: bool  # found in the cache rather than prepared now


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

    `newline_per_file`: each file's text ends with a newline (one is added where it does not),
    as `load_text` joins a folder's files. Errors are `read_text`'s and `decode_bytes`'s, one
    line each, plus a file changed while it was read and a disk that fills.
    """
    settings = {"encoding": encoding, "val_fraction": val_fraction,
                "test_fraction": test_fraction, "newline_per_file": newline_per_file}
    sources, digest = _content(files)
    key = hashlib.blake2b(repr((FORMAT, sorted(settings.items()), digest)).encode(),
                          digest_size=16).hexdigest()
    folder = cache_root() / "corpora" / f"chars-{key}"
    if (folder / MANIFEST).exists():
        return open_prepared(folder, reused=True)
    reader = _Reader(files, encoding, newline_per_file, progress)
    first_seen, length = reader.first_positions(digest)
    n_train, n_val, n_test = split_sizes(length, val_fraction, test_fraction)
    vocab = CharVocab(tuple(sorted(chr(c) for c, at in first_seen.items() if at < n_train)))
    manifest = {"format": FORMAT, "settings": settings, "sources": sources, "blake2b": digest,
                "characters": length, "dtype": vocab.dtype.name,
                "splits": {"train": n_train, "val": n_val, "test": n_test}}

    def write_tokens(out) -> dict[str, int]:
        counts = reader.write_ids(out, vocab, n_train, n_val, digest)
        if _stats(files) != stats:  # the second pass read what the first one counted
            raise _changed(files)
        return {"train_ids": counts["train_ids"], "val_ids": counts["val_ids"]}

    stats = _stats(files)
    _write(folder, vocab, manifest, write_tokens)
    return open_prepared(folder, reused=False)


def open_prepared(folder: Path, *, reused: bool = True) -> PreparedText:
    """The prepared corpus in `folder`, memory-mapped; UserError when it is damaged."""
    damaged = (f"the prepared corpus in {folder} is damaged ({{}}): delete that folder, and "
               "the text is prepared again")
    manifest = parse_json((folder / MANIFEST).read_text("utf-8"), str(folder / MANIFEST),
                          damaged.format("its manifest is not JSON"))
    try:
        vocab = CharVocab.from_dict(parse_json((folder / VOCAB).read_text("utf-8"),
                                               str(folder / VOCAB), "restore it"))
        dtype = np.dtype(manifest["dtype"])
        n_train, n_val_kept = int(manifest["train_ids"]), int(manifest["val_ids"])
        size = (folder / TOKENS).stat().st_size
    except (OSError, KeyError, TypeError, ValueError, UserError) as exc:
        raise UserError(damaged.format(f"{type(exc).__name__}: {exc}")) from None
    if manifest.get("format") != FORMAT or dtype != vocab.dtype:
        raise UserError(damaged.format("it is not a seqrnn character corpus of this version"))
    if size != (n_train + n_val_kept) * dtype.itemsize:
        raise UserError(damaged.format(f"{TOKENS} holds {size} bytes, its manifest says "
                                       f"{(n_train + n_val_kept) * dtype.itemsize}"))
    tokens = (np.memmap(folder / TOKENS, dtype=dtype, mode="r") if size
              else np.empty(0, dtype))
    return PreparedText(tokens[:n_train], tokens[n_train:], vocab, folder, reused)


def encode_files(files: list[Path], vocab: CharVocab, folder: Path, *,
                 encoding: str = "utf-8", newline_per_file: bool = False,
                 progress: bool = False) -> tuple[np.ndarray, int, str]:
    """The ids of the text of `files` in `vocab`, its unknown characters dropped, written a
    chunk at a time to `folder`/tokens.bin and memory-mapped; the text's length in characters;
    and the dropped characters. For scoring a text of any size with a trained model."""
    reader = _Reader(files, encoding, newline_per_file, progress)
    path = Path(folder) / TOKENS
    try:
        with open(path, "wb") as out:
            counts = reader.write_ids(out, vocab, 0, None)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise _disk_full(Path(folder), None, None) from None
        raise UserError(f"cannot write {path}: {exc.strerror}; check the folder") from None
    ids = (np.memmap(path, dtype=vocab.dtype, mode="r") if counts["val_ids"]
           else np.empty(0, vocab.dtype))
    return ids, counts["characters"], counts["dropped"]


def _content(files: list[Path]) -> tuple[list[dict[str, Any]], str]:
    """Each file's path and size, and one hash of all their names and bytes, in order."""
    digest, sources = hashlib.blake2b(digest_size=20), []
    for file in files:
        digest.update(str(file).encode("utf-8", "surrogateescape") + b"\0")
        size = 0
        for chunk in _chunks(file):
            digest.update(chunk)
            size += len(chunk)
        sources.append({"path": str(file), "size": size})
    return sources, digest.hexdigest()


def _chunks(file: Path) -> Iterator[bytes]:
    try:
        with open(file, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise UserError(f"{file} is not a regular file: a prepared text is read twice; "
                                "save it to a file first")
            while chunk := f.read(CHUNK_BYTES):
                yield chunk
    except FileNotFoundError:
        raise UserError(f"text file not found: {file}; check the path") from None
    except IsADirectoryError:
        raise UserError(f"{file} is a directory, not a text file; pass the path of a file") \
            from None
    except OSError as exc:
        raise UserError(f"cannot read {file}: {exc.strerror}; check the file") from None


class _Reader:
    """The files' text as arrays of code points, a chunk at a time, as `read_text` and
    `load_text` would give it: decoded, without a byte order mark, CRLF and CR as LF."""

    def __init__(self, files: list[Path], encoding: str, newline_per_file: bool,
                 progress: bool):
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise field_error("encoding", f"unknown encoding {encoding!r}; pass a Python codec "
                              "name to {} (for example utf-8 or latin-1)") from None
        self.files, self.encoding = files, encoding
        self.newline_per_file, self.progress = newline_per_file, progress

    def first_positions(self, digest: str) -> tuple[dict[int, int], int]:
        """Where each code point first appears, and how many characters the text has."""
        first: dict[int, int] = {}
        position = 0
        for codes in self._codes(digest, "counting"):
            present = np.flatnonzero(np.bincount(codes))
            for code in present[~np.isin(present, list(first))].tolist():
                first[code] = position + int(np.argmax(codes == code))
            position += len(codes)
        return first, position

    def write_ids(self, out, vocab: CharVocab, n_train: int, n_val: int | None,
                  digest: str | None = None) -> dict[str, Any]:
        """Write the ids of the first `n_train` characters (all in the vocabulary), then of the
        next `n_val` (None: all the rest) that the vocabulary knows, to the file `out`. Returns
        the ids written of each part and the characters dropped."""
        codes_of_vocab = np.array([ord(c) for c in vocab.chars])
        unknown = len(vocab)  # the table's id for every code point outside the vocabulary
        table = np.full(int(codes_of_vocab.max()) + 2, unknown, dtype=np.int32)
        table[codes_of_vocab] = np.arange(len(vocab))
        position, val_kept, dropped = 0, 0, set()
        end = None if n_val is None else n_train + n_val
        for codes in self._codes(digest, "writing", stop=end):
            past = codes.max(initial=0) >= len(table)  # past every vocabulary code: unknown
            ids = table[np.minimum(codes, len(table) - 1) if past else codes]
            train_part = max(0, min(len(ids), n_train - position))
            val_ids = ids[train_part:None if end is None else end - position]
            known = val_ids != unknown
            if not known.all():
                dropped.update(np.unique(codes[train_part:][:len(val_ids)][~known]).tolist())
            out.write(ids[:train_part].astype(vocab.dtype).tobytes())
            out.write(val_ids[known].astype(vocab.dtype).tobytes())
            val_kept += int(known.sum())
            position += len(ids)
            if end is not None and position >= end:
                break
        return {"train_ids": n_train, "val_ids": val_kept, "characters": position,
                "dropped": "".join(chr(c) for c in sorted(dropped))}

    def _codes(self, digest: str | None, what: str,
               stop: int | None = None) -> Iterator[np.ndarray]:
        """The text's code points, a chunk at a time; UserError when the files' content is no
        longer the one hashed as `digest` (the check needs the whole text: without `stop`)."""
        from tqdm import tqdm

        total = sum(os.stat(f).st_size for f in self.files)
        check = hashlib.blake2b(digest_size=20)
        with tqdm(total=total, unit="B", unit_scale=True, desc=f"preparing the text: {what}",
                  disable=not self.progress, leave=False) as bar:
            for file in self.files:
                check.update(str(file).encode("utf-8", "surrogateescape") + b"\0")
                for text in self._file_text(file, check, bar):
                    codes = _code_points(text)
                    yield _lf_line_ends(codes) if "\r" in text else codes
        if digest is not None and stop is None and check.hexdigest() != digest:
            raise _changed(self.files)

    def _file_text(self, file: Path, check, bar) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.encoding)()
        held, started, offset, last = "", False, 0, ""
        for chunk in _chunks(file):
            check.update(chunk)
            bar.update(len(chunk))
            text = self._decode(decoder, chunk, offset, file)
            offset += len(chunk)
            text, held, started = _clean(held + text, started, file, final=False)
            if text:
                last = text[-1]
                yield text
        text, _, started = _clean(held + self._decode(decoder, b"", offset, file, final=True),
                                  started, file, final=True)
        if text:
            last = text[-1]
            yield text
        if not started:
            raise UserError(f"{file} is empty; pass a file that contains text")
        if self.newline_per_file and last != "\n":
            yield "\n"

    def _decode(self, decoder, chunk: bytes, offset: int, file: Path, final: bool = False) -> str:
        pending = len(decoder.getstate()[0])
        try:
            return decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            raise field_error(
                "encoding", f"{file} is not valid {self.encoding} text (byte "
                f"0x{exc.object[exc.start]:02x} at offset {offset - pending + exc.start}); "
                "pass its encoding with {}, for example {} latin-1") from None


def _clean(text: str, started: bool, file: Path, final: bool) -> tuple[str, str, bool]:
    """`text` with the file's byte order mark dropped; a CR at its end is held back (the next
    chunk may begin with LF, and CRLF is one line end). Returns (text, held, started)."""
    if not started and text:
        text, started = text.removeprefix("\ufeff"), True
    held = ""
    if text.endswith("\r") and not final:
        text, held = text[:-1], "\r"
    if "\x00" in text:
        raise UserError(
            f"{file} contains NUL characters: it is binary, or text in another encoding "
            "(such as UTF-16); pass a text file, or its encoding with --encoding")
    return text, held, started


def _stats(files: list[Path]) -> list[tuple[int, int]]:
    return [(st.st_size, st.st_mtime_ns) for st in map(os.stat, files)]


def _changed(files: list[Path]) -> UserError:
    return UserError(f"the text changed while it was being prepared ({files[0]}"
                     f"{' and others' if len(files) > 1 else ''}): prepare it again once it "
                     "no longer changes")


def _lf_line_ends(codes: np.ndarray) -> np.ndarray:
    """CRLF and lone CR as LF, as `normalize_newlines` does, on code points (faster than on
    a str)."""
    crlf = np.flatnonzero((codes[:-1] == 13) & (codes[1:] == 10))
    codes = np.delete(codes, crlf)  # a new array: the frombuffer one is read-only
    codes[codes == 13] = 10
    return codes


def _code_points(text: str) -> np.ndarray:
    if text.isascii():  # most text: a byte per character, no wider copy
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _write(folder: Path, vocab: CharVocab, manifest: dict[str, Any],
           write_tokens: Callable[[Any], dict[str, int]]) -> None:
    """Fill a new folder beside `folder` and rename it into place whole."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".preparing-", dir=folder.parent))
    except OSError as exc:
        raise UserError(f"cannot write prepared corpora to {folder.parent}: {exc.strerror}; "
                        f"set {CACHE_ENV} to a writable folder") from None
    try:
        splits = manifest["splits"]
        needed = (splits["train"] + splits["val"]) * vocab.dtype.itemsize
        free = shutil.disk_usage(work).free
        if needed > free:
            raise _disk_full(folder.parent, needed, free)
        with open(work / TOKENS, "wb") as out:
            counts = write_tokens(out)
        write_json(work / VOCAB, vocab.to_dict())
        write_json(work / MANIFEST, {**manifest, **counts})  # last: the folder is complete
        try:
            work.rename(folder)
        except OSError:  # another process prepared the same text first: keep its folder
            if not (folder / MANIFEST).exists():
                raise
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise _disk_full(folder.parent, None, None) from None
        raise UserError(f"cannot write the prepared corpus to {folder.parent}: {exc.strerror}; "
                        f"set {CACHE_ENV} to a writable folder") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _disk_full(where: Path, needed: int | None, free: int | None) -> UserError:
    from seqrnn.budget import describe_bytes

    sizes = (f" ({describe_bytes(needed)} needed, {describe_bytes(free)} free)"
             if needed is not None and free is not None else "")
    return UserError(f"the disk holding {where} is full{sizes}: free space there, or set "
                     f"{CACHE_ENV} to a folder on a larger disk")
