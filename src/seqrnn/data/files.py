"""Reading data files with errors a user can act on: one line, the problem and the fix."""

from __future__ import annotations

import glob
import json
import os
import stat
from pathlib import Path
from typing import IO, Any, AnyStr

from seqrnn.budget import MEMORY_LIMIT_ENV, describe_bytes, input_limit
from seqrnn.errors import UserError

READ_CHUNK = 2**20


# read_input's default limit: the budget's, asked for when the file is opened.
BUDGET_LIMIT: Any = object()


def is_pattern(location: str | os.PathLike) -> bool:
    """Whether `location` is a glob pattern ("books/**/*.md") rather than a path that exists."""
    return not Path(location).expanduser().exists() and glob.has_magic(str(location))


def matching_files(pattern: str | os.PathLike) -> list[Path]:
    """The files a glob pattern matches (** at any depth), sorted."""
    found = glob.glob(os.path.expanduser(str(pattern)), recursive=True)
    return sorted(Path(p) for p in found if Path(p).is_file())


def read_input(path: str | os.PathLike, *, limit: int | None = BUDGET_LIMIT) -> bytes:
    """The bytes of an input file a user names, read only where they fit the budget.

    A device (/dev/zero, /dev/urandom) never ends: it is refused before a byte is read; a
    regular file over `limit` bytes (by default seqrnn.budget.input_limit(); None: no bound)
    is refused by its size; a pipe or a FIFO is read up to the limit. A caller reading many
    files asks input_limit() once and passes it: the budget reads /proc and cgroup files.
    OSError (not found, no permission) is the caller's to word.
    """
    with open(path, "rb") as f:
        mode = os.fstat(f.fileno()).st_mode
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            raise UserError(f"{path} is a device, not a file: its data may never end; pass a "
                            "file, or pipe the data in")
        if limit is BUDGET_LIMIT:
            limit = input_limit()
        size = os.fstat(f.fileno()).st_size
        if stat.S_ISREG(mode) and limit is not None and size > limit:
            raise too_large(str(path), limit)
        return read_bounded(f, str(path), limit)


def read_bounded(stream: IO[AnyStr], where: str, limit: int | None) -> AnyStr:
    """All of `stream` (bytes or text), refused once it passes `limit` units: an endless
    pipe (`yes |`) stops at the limit, not when the machine's memory runs out."""
    chunks, total = [], 0
    while chunk := stream.read(READ_CHUNK):
        chunks.append(chunk)
        total += len(chunk)
        if limit is not None and total > limit:
            raise too_large(where, limit)
    return chunks[0][:0].join(chunks) if chunks else stream.read(0)


def too_large(where: str, limit: int) -> UserError:
    return UserError(f"{where} holds more than {describe_bytes(limit)}, the most an input may "
                     f"have (a tenth of the memory budget): pass a smaller input, or raise "
                     f"{MEMORY_LIMIT_ENV}")


def decode_bytes(raw: bytes, encoding: str, where: str) -> str:
    """`raw` decoded with `encoding`; `where` names the file (or archive member) in errors."""
    try:
        return raw.decode(encoding)
    except LookupError:
        raise UserError(
            f"unknown encoding {encoding!r}; pass a Python codec name to {{encoding}} "
            "(for example utf-8 or latin-1)", fields=("encoding",),
        ) from None
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{where} is not valid {encoding} text (byte 0x{raw[exc.start]:02x} at offset "
            f"{exc.start}); pass its encoding with {{encoding}}, for example {{encoding}} latin-1",
            fields=("encoding",),
        ) from None


def parse_json(text: str, where: str, fix: str) -> Any:
    """`text` parsed as JSON, or a one-line UserError naming `where` and saying `fix`."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{where}: not JSON ({exc.msg}); {fix}") from None
    except RecursionError:
        raise UserError(f"{where}: JSON nested too deeply; {fix}") from None
