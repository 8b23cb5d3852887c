"""Write files so that a reader never sees half of one, and a failed write says why.

Everything is written to a temporary name in the same directory, flushed to
disk, then renamed over the target: rename is atomic on POSIX file systems.
A write that fails (a full disk, a quota, a read-only file system, no
permission) raises an OSError with its errno that names the target, whichever
library wrote the file: safetensors and torch report a full disk in their own
exception types, which carry the errno only in their message or context.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from safetensors import SafetensorError

from seqrnn import jsontext


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
# Write failures that more room cures, in words.
NO_ROOM = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "the disk quota is exceeded"}
_OS_ERROR_CODE = re.compile(r"\(os error (\d+)\)")  # how Rust (safetensors) spells an errno


def as_os_error(exc: BaseException) -> OSError | None:
    """The operating system's error behind a failed write, or None if it is not one.

    torch.save writing to a Python file raises a RuntimeError whose context is the
    file's OSError; safetensors raises a SafetensorError that ends "(os error 28)".
    Only those two carry an errno in their text; a context raised `from None` is the
    writer's business, not the cause (a failed read turned into a UserError stays one).
    """
    seen = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, OSError):
            return cause
        match = (_OS_ERROR_CODE.search(str(cause))
                 if isinstance(cause, (SafetensorError, RuntimeError)) else None)
        if match:
            code = int(match.group(1))
            return OSError(code, os.strerror(code))
        seen.add(id(cause))
        cause = cause.__cause__ or (None if cause.__suppress_context__ else cause.__context__)
    return None


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` on success.

    A write to it that fails for lack of space, quota or permission raises an
    OSError naming `target`, and leaves `target` as it was.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file where a folder should be: say which, as ENOTDIR does
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR),
                                 str(target.parent)) from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:  # a read-only or full file system: name the target, not the temporary
        raise OSError(exc.errno, exc.strerror, str(target)) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        _sync(tmp_path)  # a delayed write error (quota, network file systems) shows here
        # mkstemp makes 0600 (and a writer may have replaced the file): the usual permissions
        os.chmod(tmp_path, 0o666 & ~_UMASK)
        os.replace(tmp_path, target)
    except Exception as exc:
        error = as_os_error(exc)
        if error is None or error.errno is None:
            raise
        if error is exc and error.filename not in (None, str(tmp_path)):
            raise  # about another file: its own name says where
        raise OSError(error.errno, error.strerror, str(target)) from exc
    finally:
        tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def staged_folder(target: str | os.PathLike, *, stale: Iterable[str] = (),
                  last: Iterable[str] = ()) -> Iterator[Path]:
    """Yield an empty folder beside `target` to write a set of files into; on success move
    them into `target`. A new `target` appears whole, by one rename; in an existing one, the
    `stale` names that were not written are removed first and the `last` names moved last.
    A failure while writing leaves `target` as it was."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp",
                                      dir=target.parent))
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(target)) from None
    try:
        yield stage
        os.chmod(stage, 0o777 & ~_UMASK)  # mkdtemp makes 0700
        if not target.exists():
            os.rename(stage, target)
            return
        written = {p.name for p in stage.iterdir()}
        for name in set(stale) - written:
            (target / name).unlink(missing_ok=True)
        last = tuple(last)
        for name in sorted(written, key=lambda name: name in last):
            os.replace(stage / name, target / name)
    except OSError as exc:
        if exc.filename is None or not str(exc.filename).startswith(str(stage)):
            raise
        raise OSError(exc.errno, exc.strerror, str(target)) from exc  # not the stage's name
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(target: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside `target` for writing; rename it over `target` on success."""
    with atomic_path(target) as tmp, open(tmp, mode, **kwargs) as f:
        yield f
        f.flush()


def write_json(target: str | os.PathLike, obj: Any) -> None:
    with atomic_open(target, "w", encoding="utf-8") as f:
        f.write(jsontext.dumps(obj, indent=2, sort_keys=True) + "\n")  # NaN is null
