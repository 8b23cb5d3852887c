"""Which data a run read: each source's absolute path and a fingerprint of its bytes.

A run records, for the field that names its data, ``{"path", "size", "blake2b"}``: the
file (or folder) it read, resolved from a path or a dataset name, its size in bytes and a
hash of its content (a folder: of each file's relative name and content). Texts given to
`fit` in Python leave ``{"in_memory": true}``: nothing on disk to read again.

Resuming, and evaluating on splits drawn again as in training (the run's seed and
fractions), compare the data found now with the record: a changed file, or a moved and
edited copy, would silently move rows between training, validation and test. A run
written before fingerprints were recorded has none to compare: its data is taken as it is
(and resuming records it from then on).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from seqrnn.data.files import is_pattern, matching_files
from seqrnn.errors import UserError

IN_MEMORY: dict[str, Any] = {"in_memory": True}
CHUNK = 1 << 20  # bytes hashed at a time: memory stays flat whatever the data's size


def absolute(location: str) -> str:
    """An existing path or a glob pattern made absolute, so it names the same data from any
    working directory; a dataset name (or a path that does not exist) as it is."""
    path = Path(location).expanduser()
    return os.path.abspath(path) if path.exists() or is_pattern(location) else location


def source_path(location: str) -> Path:
    """The file or folder a data argument reads: the path itself, or a named dataset's file."""
    from seqrnn.data.conll import CORPORA, corpus_file
    from seqrnn.data.locate import locate
    from seqrnn.data.pairs import CMUDICT, cmudict_path
    from seqrnn.data.series import COMPETITION_NAMES, competition_file

    if location == CMUDICT and not Path(location).exists():
        return cmudict_path()
    if location in COMPETITION_NAMES and not Path(location).exists():
        return competition_file(location)
    if location in CORPORA and not Path(location).exists():
        return corpus_file(location)
    return Path(os.path.abspath(locate(location)))  # the data is about to be read anyway


def fingerprint(location: str) -> dict[str, Any]:
    """`{"path", "size", "blake2b"}` of what `location` reads, hashed in chunks (a glob
    pattern: of the files it matches now, each by its path)."""
    pattern = is_pattern(location)
    path = Path(absolute(location)) if pattern else source_path(location)
    if not (pattern or path.is_file() or path.is_dir()):  # a pipe or a device: no content
        return {"path": str(path), "size": None, "blake2b": None}
    digest, size = hashlib.blake2b(digest_size=20), 0
    if pattern:
        files = matching_files(path)
    else:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if file != path:
            name = str(file) if pattern else str(file.relative_to(path))
            digest.update(name.encode("utf-8", "surrogateescape") + b"\0")
        with open(file, "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    return {"path": str(path), "size": size, "blake2b": digest.hexdigest()}


def same_data(given: str | None, saved: str, recorded: Any) -> bool:
    """Whether data argument `given` names the data a run read: none given, the run's own
    argument (`saved`) or a path to the same file, or, where the run recorded a fingerprint
    (`recorded`), the file it read or one of the same content elsewhere (moved or copied).

    A file whose content changed is still the run's data when its path is: `check_unchanged`
    then refuses it, rather than scoring it as other data."""
    if given is None or given == saved:
        return True
    path = absolute(given)
    if isinstance(recorded, dict) and path == recorded.get("path"):
        return True
    try:
        if Path(given).exists() and Path(given).resolve() == Path(saved).resolve():
            return True
    except OSError:  # a path the system cannot resolve: compared by content below, if at all
        pass
    return _same_content(recorded, fingerprint(given)) if _hashed(recorded) else False


def _hashed(recorded: Any) -> bool:
    return isinstance(recorded, dict) and bool(recorded.get("blake2b"))


def _same_content(recorded: Any, now: dict[str, Any]) -> bool:
    return _hashed(recorded) and now["blake2b"] == recorded["blake2b"]


def check_unchanged(recorded: Any, given: str | None, saved: str, *, run: Path, field: str,
                    allow_changed: bool = False) -> dict[str, Any]:
    """The fingerprint of the data read now, refused if it differs from the run's record.

    `given` is the data the user named (None: the run's own, `saved`); `recorded` the run's
    fingerprint (None: a run written before fingerprints, taken as it is). Data given to
    `fit` in memory cannot be read again: it must be given. The error names `field` and
    `allow_changed_data`, which accepts the data as it is now.
    """
    in_memory = isinstance(recorded, dict) and recorded.get("in_memory")
    if in_memory and given is None:
        raise UserError(f"the model in {run} was fitted on texts in memory, which it does not "
                        f"keep: give the data with {{{field}}}", fields=(field,))
    now = fingerprint(saved if given is None else given)
    if (allow_changed or in_memory or not _hashed(recorded) or not now["blake2b"]
            or _same_content(recorded, now)):
        return now
    sizes = (f"{recorded.get('size')} bytes then, {now['size']} now"
             if recorded.get("size") != now["size"] else "same size, other content")
    what = (f"{now['path']} changed since the run in {run} read it ({sizes})"
            if recorded.get("path") == now["path"] else
            f"{now['path']} is not the data the run in {run} read ({recorded.get('path')}; "
            f"{sizes})")
    raise UserError(f"{what}: splits drawn from it are not the run's; give the data it read "
                    f"with {{{field}}}, or {{allow_changed_data}} to draw them from it anyway",
                    fields=(field, "allow_changed_data"))
