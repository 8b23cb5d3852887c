"""The cache of prepared corpora: token files made once, memory-mapped by every run after.

A prepared corpus is a folder in `cache_root()`: ``tokens.bin`` (the training ids, then the
validation ids, each an unsigned integer of the narrowest type the vocabulary allows),
``vocab.json`` and ``manifest.json`` (sources, sizes, content hash, settings, counts). Its
name is a hash of its kind, the source's content and the settings that change its ids, so a
second run on the same data finds it and a changed source gets a new one. The folder is
filled beside its place and renamed into it whole, the manifest written last: a preparation
stopped half way (a full disk, Ctrl-C) leaves nothing that is reused, and processes
preparing the same data at once (the ranks of a distributed run) each write their own
folder, the first to finish wins and all map the same file. A damaged folder is refused in
one line that says to delete it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from seqrnn.atomic import write_json
from seqrnn.data.files import parse_json
from seqrnn.errors import UserError

CACHE_ENV = "SEQRNN_CACHE"
FORMAT = 1  # the folder's layout; a folder of another format is refused
TOKENS, VOCAB, MANIFEST = "tokens.bin", "vocab.json", "manifest.json"

VocabT = TypeVar("VocabT")
WrittenT = TypeVar("WrittenT")


def cache_root() -> Path:
    """Where prepared corpora are kept: $SEQRNN_CACHE, else $XDG_CACHE_HOME/seqrnn, else
    ~/.cache/seqrnn."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "seqrnn"


@dataclass(frozen=True)
class PreparedCorpus(Generic[VocabT]):
    """A prepared corpus opened for reading: memory-mapped training and validation ids."""

    train: np.ndarray
    val: np.ndarray
    vocab: VocabT
    path: Path  # its folder
    reused: bool  # found in the cache rather than prepared now
    # How often each id occurs in each part (counted while writing): the unigram loss without
    # reading the whole file again, which would bring all its pages into memory.
    train_counts: np.ndarray
    val_counts: np.ndarray


class IdCounts:
    """How often each id is written to each part, counted as the ids are written."""

    def __init__(self, size: int):
        self.parts = {"train": np.zeros(size, dtype=np.int64), "val": np.zeros(size, np.int64)}

    def add(self, part: str, ids: np.ndarray) -> None:
        counts = self.parts[part]
        if len(ids) >= len(counts):  # a chunk: one pass, a vocabulary-long sum
            counts += np.bincount(ids, minlength=len(counts))
        else:  # a short document, or one end-of-document id: no vocabulary-long work
            np.add.at(counts, ids.astype(np.intp), 1)

    def manifest(self) -> dict[str, Any]:
        """What the manifest records: each part's number of ids and counts per id."""
        return {**{f"{part}_ids": int(c.sum()) for part, c in self.parts.items()},
                **{f"{part}_counts": c.tolist() for part, c in self.parts.items()}}


def narrowest_dtype(size: int) -> np.dtype:
    """The narrowest unsigned integer type that holds ids 0 .. size - 1."""
    return np.dtype(np.uint8 if size <= 256 else np.uint16 if size <= 65536 else np.uint32)


def cache_folder(kind: str, digest: str, settings: dict[str, Any]) -> Path:
    """The folder of `kind`'s corpus of the content hashed as `digest` with `settings`."""
    key = hashlib.blake2b(repr((FORMAT, kind, sorted(settings.items()), digest)).encode(),
                          digest_size=16).hexdigest()
    return cache_root() / "corpora" / f"{kind}-{key}"


def write_folder(folder: Path, vocab: dict[str, Any], manifest: dict[str, Any], needed: int,
                 write_tokens: Callable[[Any], dict[str, Any]]) -> None:
    """Fill a new folder beside `folder` and rename it into place whole. `write_tokens(file)`
    writes the ids (at most `needed` bytes) and returns what the manifest adds."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".preparing-", dir=folder.parent))
    except OSError as exc:
        raise UserError(f"cannot write prepared corpora to {folder.parent}: {exc.strerror}; "
                        f"set {CACHE_ENV} to a writable folder") from None
    try:
        free = shutil.disk_usage(work).free
        if needed > free:
            raise disk_full(folder.parent, needed, free)
        with open(work / TOKENS, "wb") as out:
            counts = write_tokens(out)
            out.flush()
            os.fsync(out.fileno())  # on disk before the manifest that vouches for it
        write_json(work / VOCAB, vocab)
        write_json(work / MANIFEST, {"format": FORMAT, **manifest, **counts})  # last
        try:
            work.rename(folder)
        except OSError:  # another process prepared the same data first: keep its folder
            if not (folder / MANIFEST).exists():
                raise
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise disk_full(folder.parent, None, None) from None
        raise UserError(f"cannot write the prepared corpus to {folder.parent}: {exc.strerror}; "
                        f"set {CACHE_ENV} to a writable folder") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def open_folder(folder: Path, kind: str, read_vocab: Callable[[dict], VocabT],
                vocab_size: Callable[[VocabT], int], *,
                reused: bool = True) -> PreparedCorpus[VocabT]:
    """The prepared corpus of `kind` in `folder`, memory-mapped; UserError when damaged."""
    damaged = (f"the prepared corpus in {folder} is damaged ({{}}): delete that folder, and "
               "the data is prepared again")
    manifest = parse_json((folder / MANIFEST).read_text("utf-8"), str(folder / MANIFEST),
                          damaged.format("its manifest is not JSON"))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or \
            manifest.get("kind") != kind:
        raise UserError(damaged.format(f"it is not a seqrnn {kind} corpus of this version"))
    try:
        vocab = read_vocab(parse_json((folder / VOCAB).read_text("utf-8"),
                                      str(folder / VOCAB), "restore it"))
        dtype = np.dtype(manifest["dtype"])
        n_train, n_val = int(manifest["train_ids"]), int(manifest["val_ids"])
        counts = [np.array(manifest[name], dtype=np.int64) for name in ("train_counts",
                                                                        "val_counts")]
        size = (folder / TOKENS).stat().st_size
    except (OSError, KeyError, TypeError, ValueError, UserError) as exc:
        raise UserError(damaged.format(f"{type(exc).__name__}: {exc}")) from None
    if dtype != narrowest_dtype(vocab_size(vocab)):
        raise UserError(damaged.format(f"its ids are {dtype}, not what its vocabulary needs"))
    if any(len(c) != vocab_size(vocab) for c in counts) or \
            [int(c.sum()) for c in counts] != [n_train, n_val]:
        raise UserError(damaged.format("its counts do not match its vocabulary and ids"))
    if size != (n_train + n_val) * dtype.itemsize:
        raise UserError(damaged.format(f"{TOKENS} holds {size} bytes, its manifest says "
                                       f"{(n_train + n_val) * dtype.itemsize}"))
    tokens = np.memmap(folder / TOKENS, dtype=dtype, mode="r") if size else np.empty(0, dtype)
    return PreparedCorpus(tokens[:n_train], tokens[n_train:], vocab, folder, reused, *counts)


def write_scratch(folder: Path, dtype: np.dtype, write: Callable[[Any], WrittenT]
                  ) -> tuple[np.ndarray, WrittenT]:
    """Ids `write(file)` writes to `folder`/tokens.bin (a scratch file, for scoring a text of any
    size), memory-mapped as `dtype`, and what `write` returned; one-line errors for a full disk
    or an unwritable folder."""
    path = Path(folder) / TOKENS
    try:
        with open(path, "wb") as out:
            written = write(out)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise disk_full(Path(folder), None, None) from None
        raise UserError(f"cannot write {path}: {exc.strerror}; check the folder") from None
    ids = np.memmap(path, dtype=dtype, mode="r") if path.stat().st_size else np.empty(0, dtype)
    return ids, written


def disk_full(where: Path, needed: int | None, free: int | None) -> UserError:
    from seqrnn.budget import describe_bytes

    sizes = (f" ({describe_bytes(needed)} needed, {describe_bytes(free)} free)"
             if needed is not None and free is not None else "")
    return UserError(f"the disk holding {where} is full{sizes}: free space there, or set "
                     f"{CACHE_ENV} to a folder on a larger disk")
