"""The IMDb reviews, from the archive or the extracted folder.

- the archive ``aclImdb_v1.tar.gz``, read in one streamed pass with `tarfile`
  and nothing extracted; the reviews are the files
  ``aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt``, and with ``unlabeled=True``
  the 50,000 unlabelled ``aclImdb/train/unsup/<id>_0.txt`` (the other files are
  ignored);
- the extracted ``aclImdb`` folder, given as the folder itself or its parent.

The reviews come out in a fixed order (negative then positive, each by review
id; the unlabelled ones by review id), so the archive and the folder give
identical data sets. Where the ``{train,test}/urls_{pos,neg}.txt`` and
``train/urls_unsup.txt`` lists are present (line i names the movie of review
i), each review also carries its movie (`LabeledTexts.groups`, one numbering
for all entries), so that validation can hold out whole movies
(`split_balanced`).
"""

from __future__ import annotations

import re
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from tqdm import tqdm

from seqrnn.budget import input_limit
from seqrnn.data.files import decode_bytes, read_input
from seqrnn.data.labels import (
    LabeledTexts,
    LabelMap,
    check_on_empty,
    check_readable,
    empty_text_error,
)
from seqrnn.errors import UserError

IMDB_SPLITS = ("train", "test")
IMDB_LABELS = ("neg", "pos")
IMDB_LABEL_MAP = LabelMap(negative="neg", positive="pos")
UNSUP = "unsup"  # the folder of the unlabelled reviews, and their entry in `read_imdb`
UNLABELED = -1  # the label of an unlabelled review
# A review, or a list of the reviews' movie pages, under any top folder; the folders read filter.
_IMDB_MEMBER = re.compile(r"(?:^|/)(train|test)/(neg|pos|unsup)/([^/]+)\.txt$")
_IMDB_URLS = re.compile(r"(?:^|/)(train|test)/urls_(neg|pos|unsup)\.txt$")
_IMDB_STEM = re.compile(r"(\d+)_(\d+)")  # <id>_<rating>
_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


def is_imdb(path: Path, file_format: str | None = None) -> bool:
    """Whether `path` is read as IMDb (a folder or a tar archive) rather than as a table."""
    if file_format is not None:
        return file_format == "imdb"
    return path.is_dir() or path.name.lower().endswith(_ARCHIVE_SUFFIXES)


def read_imdb(
    path: Path,
    *,
    encoding: str = "utf-8",
    on_empty: str = "skip",
    progress: bool = False,
    unlabeled: bool = False,
) -> dict[str, LabeledTexts]:
    """The official IMDb splits {"train": ..., "test": ...} of an archive or folder.

    Each split has its reviews' movies as `groups` when the folder's urls lists
    name a movie for every review, and none otherwise. `unlabeled` adds the
    entry `UNSUP`: the unlabelled training reviews, read in the same pass, all
    labeled `UNLABELED` (so not for `class_counts` or `split_balanced`).
    """
    check_on_empty(on_empty)
    path = Path(path)
    entries = _entries(unlabeled)
    folders = [(split, label) for parts in entries.values() for split, label, _ in parts]
    if path.is_dir():
        files = _imdb_folder_files(_imdb_root(path), folders, progress)
    else:
        check_readable(path)
        files = _imdb_archive_files(path, folders, progress)
    by_folder: dict[tuple[str, str], list[tuple[tuple, str]]] = {folder: [] for folder in folders}
    movie_lists: dict[tuple[str, str], list[str]] = {}
    skipped = dict.fromkeys(folders, 0)
    for split, label, stem, raw in files:
        if stem is None:
            where = f"{path}: {split}/urls_{label}.txt"
            movie_lists[split, label] = decode_bytes(raw, encoding, where).split()
            continue
        where = f"{path}: {split}/{label}/{stem}.txt"
        text = decode_bytes(raw, encoding, where)
        if text.strip():
            by_folder[split, label].append((_review_order(stem), text))
        elif on_empty == "error":
            raise empty_text_error(where)
        else:
            skipped[split, label] += 1
    missing = [f"{split}/{label}/" for (split, label), items in by_folder.items() if not items]
    if missing:
        unsup = " and aclImdb/train/unsup/<id>_0.txt" if unlabeled else ""
        raise UserError(
            f"{path} has no reviews in {', '.join(missing)}; expected the IMDb layout "
            f"aclImdb/{{train,test}}/{{pos,neg}}/<id>_<rating>.txt{unsup}: pass "
            "aclImdb_v1.tar.gz or the extracted aclImdb folder"
        )
    out = {}
    movie_ids: dict[str, int] = {}
    for name, parts in entries.items():
        texts, labels, movies, ratings = [], [], [], []
        for split, label, label_id in parts:
            items = sorted(by_folder[split, label], key=lambda item: item[0])
            texts.extend(text for _, text in items)
            ratings.extend(_rating(order[2]) for order, _ in items)
            labels.extend([label_id] * len(items))
            movies.extend(_movies([order for order, _ in items], movie_lists.get((split, label))))
        known = all(movie is not None for movie in movies)
        out[name] = LabeledTexts(
            texts=texts,
            labels=np.asarray(labels, dtype=np.int64),
            label_map=IMDB_LABEL_MAP,
            skipped_empty=sum(skipped[split, label] for split, label, _ in parts),
            groups=np.array([movie_ids.setdefault(m, len(movie_ids)) for m in movies],
                            dtype=np.int64) if known else None,
            ratings=np.asarray(ratings, dtype=np.int64),
        )
    return out


def _rating(stem: str) -> int:
    """The star rating of a review file `<id>_<rating>` (0 for the unlabelled ones' and for
    any other name)."""
    match = _IMDB_STEM.fullmatch(stem)
    return int(match[2]) if match else 0


def _entries(unlabeled: bool) -> dict[str, list[tuple[str, str, int]]]:
    """`read_imdb`'s entries, in the order their movies are numbered: each entry's folders
    (split, label) with their label id."""
    entries = {split: [(split, label, label_id) for label_id, label in enumerate(IMDB_LABELS)]
               for split in IMDB_SPLITS}
    if unlabeled:
        entries[UNSUP] = [("train", UNSUP, UNLABELED)]
    return entries


def _movies(orders: list[tuple], movie_list: list[str] | None) -> list[str | None]:
    """The movie of each review (its urls line number is its id); None where unknown."""
    if movie_list is None:
        return [None] * len(orders)
    # An order is (0, id, stem) for a file named <id>_<rating>, (1, 0, stem) for any other name.
    return [movie_list[review_id] if unnumbered == 0 and review_id < len(movie_list) else None
            for unnumbered, review_id, _ in orders]


def _review_order(stem: str) -> tuple:
    """Sort key of a review file: by numeric id for `<id>_<rating>`, then by name."""
    match = _IMDB_STEM.fullmatch(stem)
    return (0, int(match[1]), stem) if match else (1, 0, stem)


def _imdb_archive_files(path: Path, folders: list[tuple[str, str]],
                        progress: bool) -> Iterator[tuple[str, str, str | None, bytes]]:
    """(split, label, file stem, bytes) of each review in `folders`, and of each of their urls
    lists with the stem None, in archive order, in one pass."""
    try:
        with open(path, "rb") as raw, tarfile.open(fileobj=raw, mode="r:gz") as tar, tqdm(
            total=path.stat().st_size,
            unit="B",
            unit_scale=True,
            desc=f"reading {path.name}",
            disable=not progress,
            leave=False,
        ) as bar:
            for member in tar:
                bar.update(raw.tell() - bar.n)  # compressed bytes consumed so far
                if not member.isfile():
                    continue
                if (match := _IMDB_MEMBER.search(member.name)) and match.group(1, 2) in folders:
                    yield match[1], match[2], match[3], tar.extractfile(member).read()
                elif (match := _IMDB_URLS.search(member.name)) and match.group(1, 2) in folders:
                    yield match[1], match[2], None, tar.extractfile(member).read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise UserError(
            f"cannot read {path} as a .tar.gz archive ({exc}); pass the IMDb archive "
            "aclImdb_v1.tar.gz (download it again if it is damaged) or the aclImdb folder"
        ) from None


def is_imdb_folder(path: Path) -> bool:
    """Whether `path` is an extracted aclImdb folder or its parent (by its train/ or test/)."""
    return any(_has_splits(root) for root in (path, path / "aclImdb"))


def _has_splits(root: Path) -> bool:
    return (root / "train").is_dir() or (root / "test").is_dir()


def _imdb_root(path: Path) -> Path:
    """The `aclImdb` folder: `path` itself or `path/aclImdb`."""
    for root in (path, path / "aclImdb"):
        if _has_splits(root):
            missing = [
                f"{split}/{label}/"
                for split in IMDB_SPLITS
                for label in IMDB_LABELS
                if not (root / split / label).is_dir()
            ]
            if missing:
                raise UserError(
                    f"{root} lacks the folders {', '.join(missing)}; expected the IMDb layout "
                    "aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt"
                )
            return root
    raise UserError(
        f"{path} is not an IMDb folder (no train/ or test/ in it or in {path / 'aclImdb'}); "
        "pass the extracted aclImdb folder, its parent, or aclImdb_v1.tar.gz"
    )


def _imdb_folder_files(root: Path, folders: list[tuple[str, str]],
                       progress: bool) -> Iterator[tuple[str, str, str | None, bytes]]:
    """As `_imdb_archive_files`, from the extracted folder."""
    files = [
        (split, label, file, file.stem)
        for split, label in folders
        for file in (root / split / label).glob("*.txt")
    ]
    files += [(split, label, root / split / f"urls_{label}.txt", None)
              for split, label in folders
              if (root / split / f"urls_{label}.txt").is_file()]
    limit = input_limit()  # once: ~100k reviews
    for split, label, file, stem in tqdm(
        files, desc=f"reading {root}", unit=" files", disable=not progress, leave=False
    ):
        try:
            raw = read_input(file, limit=limit)
        except OSError as exc:
            raise UserError(f"cannot read {file} ({exc.strerror}); check its permissions") from None
        yield split, label, stem, raw
