"""Text files read a chunk at a time, as `read_text` and `load_text` read them whole.

`TextReader` decodes its files incrementally and yields their text in pieces: the byte order
mark dropped, CRLF and lone CR as LF (a CR ending a piece is held back, since the next may
begin with LF), NUL characters, undecodable bytes and empty files refused with
`read_text`'s and `decode_bytes`'s one-line errors. Read more than once (a preparation
counts, then writes), it checks that the files still hash to what they hashed to first.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from seqrnn.errors import UserError, field_error

CHUNK_BYTES = 1 << 22  # bytes read, decoded and encoded at a time


def file_chunks(file: Path) -> Iterator[bytes]:
    """The bytes of a regular file, CHUNK_BYTES at a time; one-line errors."""
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


def content_digest(files: list[Path]) -> tuple[list[dict[str, Any]], str]:
    """Each file's path and size, and one hash of all their names and bytes, in order."""
    digest, sources = _new_digest(), []
    for file in files:
        digest.update(_name(file))
        size = 0
        for chunk in file_chunks(file):
            digest.update(chunk)
            size += len(chunk)
        sources.append({"path": str(file), "size": size})
    return sources, digest.hexdigest()


def file_stats(files: list[Path]) -> list[tuple[int, int]]:
    """Each file's size and modification time: changed by any write."""
    return [(st.st_size, st.st_mtime_ns) for st in map(os.stat, files)]


def changed_error(files: list[Path]) -> UserError:
    return UserError(f"the text changed while it was being prepared ({files[0]}"
                     f"{' and others' if len(files) > 1 else ''}): prepare it again once it "
                     "no longer changes")


def _new_digest():
    return hashlib.blake2b(digest_size=20)


def _name(file: Path) -> bytes:
    return str(file).encode("utf-8", "surrogateescape") + b"\0"


class TextReader:
    """The text of `files` one after another, in pieces (see the module's docstring)."""

    def __init__(self, files: list[Path], encoding: str = "utf-8",
                 newline_per_file: bool = False, progress: bool = False):
        """`newline_per_file`: each file's text ends with a newline (one is added where it does
        not), as `load_text` joins a folder's files."""
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise field_error("encoding", f"unknown encoding {encoding!r}; pass a Python codec "
                              "name to {} (for example utf-8 or latin-1)") from None
        self.files, self.encoding = files, encoding
        self.newline_per_file, self.progress = newline_per_file, progress

    def pieces(self, what: str, digest: str | None = None, *,
               line_ends: bool = True) -> Iterator[tuple[int, str]]:
        """(index of the file, a piece of its text) in order. `digest`: refuse, once all is
        read, files whose content no longer hashes to it. `line_ends=False` leaves CRs in the
        pieces (a caller converting them faster itself; a CRLF is never split between two)."""
        from tqdm import tqdm

        total = sum(os.stat(f).st_size for f in self.files)
        check = _new_digest()
        with tqdm(total=total, unit="B", unit_scale=True, desc=f"preparing the text: {what}",
                  disable=not self.progress, leave=False) as bar:
            for index, file in enumerate(self.files):
                check.update(_name(file))
                for text in self._file_text(file, check, bar):
                    if line_ends and "\r" in text:
                        text = text.replace("\r\n", "\n").replace("\r", "\n")
                    yield index, text
        if digest is not None and check.hexdigest() != digest:
            raise changed_error(self.files)

    def _file_text(self, file: Path, check, bar) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.encoding)()
        held, started, offset, last = "", False, 0, ""
        for chunk in file_chunks(file):
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
        if self.newline_per_file and last not in ("\n", "\r"):
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
