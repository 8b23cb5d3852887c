"""Find a dataset on disk, or fetch it once into the cache.

One mechanism for the whole package:

1. an explicit path that exists wins;
2. a bare dataset name (``hamlet``, ``tinyshakespeare``, ``imdb``) is looked up
   in ``$SEQRNN_DATA``, then in the cache directory
   (``$XDG_CACHE_HOME/seqrnn``, default ``~/.cache/seqrnn``);
3. otherwise it is downloaded from its canonical public address into the
   cache, checked against its sha256 and renamed into place atomically.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from seqrnn.atomic import atomic_path
from seqrnn.errors import UserError
from seqrnn.paths import given_path


@dataclass(frozen=True)
class DatasetSpec:
    filename: str
    url: str
    sha256: str
    description: str


DATASETS: dict[str, DatasetSpec] = {
    "hamlet": DatasetSpec(
        filename="pg2265.txt",
        url="https://raw.githubusercontent.com/rasbt/python-machine-learning-book-2nd-edition/"
        "master/code/ch16/pg2265.txt",
        sha256="bc7694952d845bcf72e13d919763fb81cd7167e48c909c136d3031ffc9016d30",
        description="Project Gutenberg #2265, The Tragedie of Hamlet (the lecture's text)",
    ),
    "tinyshakespeare": DatasetSpec(
        filename="tinyshakespeare.txt",
        url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
        "tinyshakespeare/input.txt",
        sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        description="tiny shakespeare, about 1.1M characters",
    ),
    "imdb": DatasetSpec(
        filename="aclImdb_v1.tar.gz",
        url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
        description="Large Movie Review Dataset (Maas et al., 2011), 84 MB",
    ),
}

_CHUNK = 1 << 20


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "seqrnn"


def search_dirs() -> list[Path]:
    """Where bare dataset names are looked for, in order."""
    dirs = [Path(d) for d in os.environ.get("SEQRNN_DATA", "").split(os.pathsep) if d]
    return [*dirs, cache_dir()]


def locate(name_or_path: str | os.PathLike, *, datasets: Sequence[str] | None = None,
           download: bool = True) -> Path:
    """Return the path of a file or dataset, downloading a named dataset if needed.

    `datasets` are the names the caller's task accepts (default: all of DATASETS); only they
    are looked up, and a missing file's message lists them.
    """
    path = Path(given_path(name_or_path, what="the data's path")).expanduser()
    if path.exists():
        return path
    accepted = sorted(DATASETS) if datasets is None else list(datasets)
    spec = DATASETS.get(str(name_or_path)) if str(name_or_path) in accepted else None
    if spec is None:
        known = ", ".join(accepted)
        raise UserError(
            f"no such file or dataset: {name_or_path} (give a path, or one of: {known})"
        )
    for directory in search_dirs():
        candidate = directory / spec.filename
        if candidate.exists():
            return candidate
    if not download:
        raise UserError(_missing_message(str(name_or_path), spec))
    return fetch(spec, cache_dir(), name=str(name_or_path))


def fetch(spec: DatasetSpec, directory: Path, *, name: str = "", timeout: float = 30.0) -> Path:
    """Download `spec.url` into `directory`, verify its sha256, and rename it into place."""
    target = directory / spec.filename
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(spec.url, timeout=timeout) as response, atomic_path(
            target
        ) as tmp, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {spec.filename}",
                      leave=False) as bar:
                while chunk := response.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    bar.update(len(chunk))
            out.flush()
            if digest.hexdigest() != spec.sha256:
                # Raising inside atomic_path discards the temporary file.
                raise UserError(
                    f"download of {spec.url} is corrupt (sha256 {digest.hexdigest()}, "
                    f"expected {spec.sha256}); try again, or put {spec.filename} in $SEQRNN_DATA"
                )
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise UserError(f"{_missing_message(name or spec.filename, spec)} ({exc})") from exc
    return target


def _missing_message(name: str, spec: DatasetSpec) -> str:
    return (
        f"dataset {name!r} not found and could not be downloaded from {spec.url}: "
        f"put {spec.filename} in a folder named by $SEQRNN_DATA or in {cache_dir()}"
    )
