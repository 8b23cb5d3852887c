"""Labeled texts for sentiment analysis: the IMDb archive or folder, and tables.

Sources (`load_sentiment` tells them apart):

- the IMDb archive ``aclImdb_v1.tar.gz``, read in one streamed pass with
  `tarfile` and nothing extracted; the reviews are the files
  ``aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt`` (``train/unsup`` and the
  other files are ignored);
- the extracted ``aclImdb`` folder, given as the folder itself or its parent;
- a CSV, TSV, JSON-lines or JSON file with a text column and a label column
  (``text`` and ``label`` by default, or the lecture's ``review`` and
  ``sentiment`` when a file has those and no ``text``/``label``).

IMDb's reviews come out in a fixed order (negative then positive, each by
review id), so the archive and the folder give identical data sets. Where the
``{train,test}/urls_{pos,neg}.txt`` lists are present (line i names the movie
of review i), each review also carries its movie (`LabeledTexts.groups`), and
validation is held out whole movies at a time: IMDb's test movies are not its
training movies, and a validation set that shares them scores too high.
Labels are 0 (negative) and 1 (positive); a `LabelMap` records which original
value is which, and is saved with the model. Rows whose text is empty or blank
are skipped and counted (`LabeledTexts.skipped_empty`) unless
``on_empty="error"``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from seqrnn.data.files import decode_bytes
from seqrnn.errors import UserError

# Label pairs whose meaning is known, (negative, positive), compared case-insensitively.
KNOWN_LABEL_PAIRS = (
    ("neg", "pos"),
    ("negative", "positive"),
    ("0", "1"),
    ("-1", "1"),
    ("false", "true"),
    ("bad", "good"),
)
# When a file has neither `text` nor `label` but both of these: the lecture's movie_data.csv.
DEFAULT_COLUMNS = ("text", "label")
LECTURE_COLUMNS = ("review", "sentiment")
ON_EMPTY = ("skip", "error")

IMDB_SPLITS = ("train", "test")
IMDB_LABELS = ("neg", "pos")
# A review, or a list of the reviews' movie pages, under any top folder; `unsup` does not match.
_IMDB_MEMBER = re.compile(r"(?:^|/)(train|test)/(neg|pos)/([^/]+)\.txt$")
_IMDB_URLS = re.compile(r"(?:^|/)(train|test)/urls_(neg|pos)\.txt$")
_IMDB_STEM = re.compile(r"(\d+)_(\d+)")  # <id>_<rating>
_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


@dataclass(frozen=True)
class LabelMap:
    """Which original label value is negative (0) and which is positive (1).

    `infer` decides for a file's two values: a known pair (`KNOWN_LABEL_PAIRS`,
    such as neg/pos, negative/positive, 0/1, false/true) maps naturally; two
    numbers map smaller to 0 (so 1/2 and 0/4 work); any other two values map in
    sorted order, the first to 0. To decide otherwise, construct one explicitly.
    """

    negative: str
    positive: str

    def __post_init__(self) -> None:
        if self.negative == self.positive:
            raise UserError(
                f"the negative and positive labels are both {self.negative!r}; "
                "give two different values"
            )

    @classmethod
    def infer(cls, values: Iterable[str], *, where: str) -> LabelMap:
        """The map for a data set's label values; UserError unless there are exactly two."""
        distinct = sorted(set(values))
        if len(distinct) != 2:
            shown = ", ".join(repr(v) for v in distinct[:10])
            shown += ", ..." if len(distinct) > 10 else ""
            raise UserError(
                f"{where} has {len(distinct)} distinct label values ({shown or 'none'}); "
                "sentiment needs exactly two: fix the labels, or name the right column "
                "with --label-column"
            )
        first, second = distinct
        pair = (first.lower(), second.lower())
        for negative, positive in KNOWN_LABEL_PAIRS:
            if pair == (positive, negative):
                return cls(negative=second, positive=first)
            if pair == (negative, positive):
                return cls(negative=first, positive=second)
        numbers = [_as_number(v) for v in distinct]
        if None not in numbers and numbers[0] > numbers[1]:
            return cls(negative=second, positive=first)
        return cls(negative=first, positive=second)

    @property
    def names(self) -> tuple[str, str]:
        """The original values of labels 0 and 1."""
        return (self.negative, self.positive)

    def encode(self, value: str) -> int:
        if value == self.negative:
            return 0
        if value == self.positive:
            return 1
        raise KeyError(value)

    def decode(self, label: int) -> str:
        return self.names[int(label)]

    def to_dict(self) -> dict:
        return {"negative": self.negative, "positive": self.positive}

    @classmethod
    def from_dict(cls, data: dict) -> LabelMap:
        if not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) for k in ("negative", "positive")
        ):
            raise UserError(
                "the label map needs string fields \"negative\" and \"positive\"; "
                "the saved labels are damaged: restore them or retrain"
            )
        return cls(negative=data["negative"], positive=data["positive"])


IMDB_LABEL_MAP = LabelMap(negative="neg", positive="pos")


def _as_number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True, eq=False)  # arrays have no single truth value
class LabeledTexts:
    """Texts and their 0/1 labels, in a fixed order."""

    texts: list[str]
    labels: np.ndarray  # (N,) int64: 0 negative, 1 positive
    label_map: LabelMap
    skipped_empty: int = 0  # rows dropped for empty text while reading; a subset drops none
    groups: np.ndarray | None = None  # (N,) int64: what each text is about (IMDb: its movie)

    def __len__(self) -> int:
        return len(self.texts)

    def class_counts(self) -> tuple[int, int]:
        """(number of negative, number of positive) examples."""
        negative, positive = np.bincount(self.labels, minlength=2)[:2]
        return int(negative), int(positive)

    def subset(self, indices: Sequence[int] | np.ndarray) -> LabeledTexts:
        indices = np.asarray(indices, dtype=np.int64)
        return LabeledTexts(
            texts=[self.texts[i] for i in indices.tolist()],
            labels=self.labels[indices],
            label_map=self.label_map,
            groups=None if self.groups is None else self.groups[indices],
        )


@dataclass(frozen=True, eq=False)  # arrays have no single truth value
class SentimentSplits:
    """Train, validation and test sets of one source, with one label map."""

    train: LabeledTexts
    val: LabeledTexts
    test: LabeledTexts
    label_map: LabelMap
    skipped_empty: int  # rows of the source dropped for empty text


def split_balanced(
    data: LabeledTexts, fraction: float, *, seed: int = 0, flag: str = "--val-fraction"
) -> tuple[LabeledTexts, LabeledTexts]:
    """Hold out `fraction` of each class, drawn at random with `seed`: (rest, held_out).

    Each class gives ``round(fraction * its size)`` examples, so both parts keep
    the class balance of `data`; both keep the order of `data`. With
    `data.groups`, whole groups are held out, in random order, while no class
    passes its count: near those counts (exact on IMDb), never above. A
    fraction of 0 holds out nothing. `flag` names the option in error messages.
    """
    if not 0.0 <= fraction < 1.0:
        raise UserError(f"{flag} must be at least 0 and below 1, got {fraction}")
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(data.labels == label) for label in (0, 1)]
    targets = [round(fraction * len(m)) for m in members]
    for label, m, n_held in zip((0, 1), members, targets, strict=True):
        if fraction > 0 and m.size and not 0 < n_held < len(m):
            raise UserError(
                f"{flag} {fraction} of the {len(m)} examples labeled "
                f"{data.label_map.decode(label)!r} holds out {'none' if n_held == 0 else 'all'} "
                f"of them; use more data or another {flag}"
            )
    if data.groups is None:
        held = [rng.permutation(m)[:n] for m, n in zip(members, targets, strict=True)]
        held_out = np.sort(np.concatenate(held))
    else:
        held_out = _held_out_groups(data, np.array(targets), rng)
    rest = np.setdiff1d(np.arange(len(data)), held_out, assume_unique=True)
    return data.subset(rest), data.subset(held_out)


def _held_out_groups(data: LabeledTexts, targets: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
    """Indices of whole groups, taken in random order while no class passes its target."""
    names, index = np.unique(data.groups, return_inverse=True)
    per_group = np.zeros((len(names), 2), dtype=np.int64)  # examples of each class
    np.add.at(per_group, (index, data.labels), 1)
    held = np.zeros(2, dtype=np.int64)
    chosen = np.zeros(len(names), dtype=bool)
    for group in rng.permutation(len(names)):
        if np.all(held + per_group[group] <= targets):
            chosen[group] = True
            held += per_group[group]
            if np.array_equal(held, targets):
                break
    return np.flatnonzero(chosen[index])


def load_sentiment(
    source: str | Path,
    *,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    seed: int = 0,
    text_column: str | None = None,
    label_column: str | None = None,
    file_format: str | None = None,
    encoding: str = "utf-8",
    label_map: LabelMap | None = None,
    on_empty: str = "skip",
    progress: bool = False,
) -> SentimentSplits:
    """Read a named data set ("imdb") or a path, and split it into train/val/test.

    IMDb keeps its official train and test sets (25,000 each); validation is
    `val_fraction` of train, whole movies at a time. A table has no test set:
    `test_fraction` of it becomes the test set, then `val_fraction` of the
    rest the validation set. Both splits are class-balanced and drawn with
    `seed`. The column, format and label options apply to tables only.
    """
    from seqrnn.data.locate import locate  # may download: import only when data is wanted

    path = locate(source)
    if is_imdb(path, file_format):
        splits = read_imdb(path, encoding=encoding, on_empty=on_empty, progress=progress)
        train_all, test = splits["train"], splits["test"]
        skipped = train_all.skipped_empty + test.skipped_empty
    else:
        table = read_table(
            path,
            text_column=text_column,
            label_column=label_column,
            file_format=file_format,
            encoding=encoding,
            label_map=label_map,
            on_empty=on_empty,
        )
        train_all, test = split_balanced(table, test_fraction, seed=seed, flag="--test-fraction")
        skipped = table.skipped_empty
    train, val = split_balanced(train_all, val_fraction, seed=seed)
    return SentimentSplits(
        train=train, val=val, test=test, label_map=train.label_map, skipped_empty=skipped
    )


def is_imdb(path: Path, file_format: str | None = None) -> bool:
    """Whether `path` is read as IMDb (a folder or a tar archive) rather than as a table."""
    if file_format is not None:
        return file_format == "imdb"
    return path.is_dir() or path.name.lower().endswith(_ARCHIVE_SUFFIXES)


# --- IMDb --------------------------------------------------------------------


def read_imdb(
    path: Path,
    *,
    encoding: str = "utf-8",
    on_empty: str = "skip",
    progress: bool = False,
) -> dict[str, LabeledTexts]:
    """The official IMDb splits {"train": ..., "test": ...} of an archive or folder.

    Each split has its reviews' movies as `groups` when the folder's urls lists
    name a movie for every review, and none otherwise.
    """
    _check_on_empty(on_empty)
    path = Path(path)
    if path.is_dir():
        files = _imdb_folder_files(_imdb_root(path), progress)
    else:
        _check_readable(path)
        files = _imdb_archive_files(path, progress)
    by_folder: dict[tuple[str, str], list[tuple[tuple, str]]] = {
        (split, label): [] for split in IMDB_SPLITS for label in IMDB_LABELS
    }
    movie_lists: dict[tuple[str, str], list[str]] = {}
    skipped = dict.fromkeys(IMDB_SPLITS, 0)
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
            raise _empty_text_error(where)
        else:
            skipped[split] += 1
    missing = [f"{split}/{label}/" for (split, label), items in by_folder.items() if not items]
    if missing:
        raise UserError(
            f"{path} has no reviews in {', '.join(missing)}; expected the IMDb layout "
            "aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt: pass aclImdb_v1.tar.gz "
            "or the extracted aclImdb folder"
        )
    out = {}
    movie_ids: dict[str, int] = {}
    for split in IMDB_SPLITS:
        texts, labels, movies = [], [], []
        for label_id, label in enumerate(IMDB_LABELS):
            items = sorted(by_folder[split, label], key=lambda item: item[0])
            texts.extend(text for _, text in items)
            labels.extend([label_id] * len(items))
            movies.extend(_movies([order for order, _ in items], movie_lists.get((split, label))))
        known = all(movie is not None for movie in movies)
        out[split] = LabeledTexts(
            texts=texts,
            labels=np.asarray(labels, dtype=np.int64),
            label_map=IMDB_LABEL_MAP,
            skipped_empty=skipped[split],
            groups=np.array([movie_ids.setdefault(m, len(movie_ids)) for m in movies],
                            dtype=np.int64) if known else None,
        )
    return out


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


def _imdb_archive_files(path: Path, progress: bool) -> Iterator[tuple[str, str, str | None, bytes]]:
    """(split, label, file stem, bytes) of each review, and of each urls list with the stem
    None, in archive order, in one pass."""
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
                if match := _IMDB_MEMBER.search(member.name):
                    yield match[1], match[2], match[3], tar.extractfile(member).read()
                elif match := _IMDB_URLS.search(member.name):
                    yield match[1], match[2], None, tar.extractfile(member).read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise UserError(
            f"cannot read {path} as a .tar.gz archive ({exc}); pass the IMDb archive "
            "aclImdb_v1.tar.gz (download it again if it is damaged) or the aclImdb folder"
        ) from None


def _imdb_root(path: Path) -> Path:
    """The `aclImdb` folder: `path` itself or `path/aclImdb`."""
    for root in (path, path / "aclImdb"):
        if (root / "train").is_dir() or (root / "test").is_dir():
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


def _imdb_folder_files(root: Path, progress: bool) -> Iterator[tuple[str, str, str | None, bytes]]:
    """As `_imdb_archive_files`, from the extracted folder."""
    files = [
        (split, label, file, file.stem)
        for split in IMDB_SPLITS
        for label in IMDB_LABELS
        for file in (root / split / label).glob("*.txt")
    ]
    files += [(split, label, root / split / f"urls_{label}.txt", None)
              for split in IMDB_SPLITS for label in IMDB_LABELS
              if (root / split / f"urls_{label}.txt").is_file()]
    for split, label, file, stem in tqdm(
        files, desc=f"reading {root}", unit=" files", disable=not progress, leave=False
    ):
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise UserError(f"cannot read {file} ({exc.strerror}); check its permissions") from None
        yield split, label, stem, raw


# --- tables ------------------------------------------------------------------


def read_table(
    path: Path,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    file_format: str | None = None,
    encoding: str = "utf-8",
    label_map: LabelMap | None = None,
    on_empty: str = "skip",
) -> LabeledTexts:
    """All labeled rows of a CSV, TSV, JSON-lines or JSON file, in file order.

    The format comes from the extension (`TABLE_FORMATS`: .csv, .tsv, .jsonl,
    .json) unless `file_format` names it. Columns default to ``text`` and
    ``label``, or the lecture's ``review`` and ``sentiment`` when the file has
    those instead. Without `label_map`, the file must have exactly two label
    values and `LabelMap.infer` assigns 0 and 1.
    """
    _check_on_empty(on_empty)
    path = Path(path)
    _check_readable(path)
    fmt = _table_format(path, file_format)
    text = decode_bytes(path.read_bytes(), encoding, str(path)).removeprefix("\ufeff")
    columns, rows = TABLE_FORMATS[fmt](text, path)
    text_col, label_col = _choose_columns(columns, text_column, label_column, path)
    texts, raw_labels, skipped = [], [], 0
    for where, row in rows:
        if not isinstance(row, dict) or text_col not in row or label_col not in row:
            found = ", ".join(map(str, row)) if isinstance(row, dict) else type(row).__name__
            raise UserError(
                f"{path} {where}: no {text_col!r} and {label_col!r} fields (found: {found}); "
                "give every record both, or name them with --text-column and --label-column"
            )
        value = row[text_col]
        body = "" if value is None else str(value)
        if not body.strip():
            if on_empty == "error":
                raise _empty_text_error(f"{path} {where}")
            skipped += 1
            continue
        texts.append(body)
        raw_labels.append(_label_text(row[label_col]))
    if not texts:
        raise UserError(f"{path} has no rows with text; pass a file with labeled texts")
    where = f"{path} column {label_col!r}"
    if label_map is None:
        label_map = LabelMap.infer(raw_labels, where=where)
    unknown = sorted(set(raw_labels) - set(label_map.names))
    if unknown:
        raise UserError(
            f"{where} has label values {', '.join(map(repr, unknown))} besides "
            f"{label_map.negative!r} (negative) and {label_map.positive!r} (positive); "
            "fix the labels or give the two values that occur"
        )
    labels = np.fromiter(map(label_map.encode, raw_labels), dtype=np.int64, count=len(texts))
    return LabeledTexts(texts=texts, labels=labels, label_map=label_map, skipped_empty=skipped)


Rows = Iterator[tuple[str, object]]  # (where in the file, for messages; the record)
TableReader = Callable[[str, Path], tuple[list[str], Rows]]  # (text, path) -> (columns, rows)


def _delimited(delimiter: str) -> TableReader:
    def read(text: str, path: Path) -> tuple[list[str], Rows]:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            columns = reader.fieldnames
        except csv.Error as exc:
            raise _malformed(path, "line 1", exc) from None
        if not columns:
            raise UserError(f"{path} is empty; pass a file with a header row and labeled rows")

        def rows() -> Rows:
            try:
                for row in reader:
                    yield f"line {reader.line_num}", row
            except csv.Error as exc:
                raise _malformed(path, f"line {reader.line_num}", exc) from None

        return list(columns), rows()

    return read


def _json_lines(text: str, path: Path) -> tuple[list[str], Rows]:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                records.append((f"line {number}", json.loads(line)))
            except json.JSONDecodeError as exc:
                raise _malformed(path, f"line {number}", exc.msg) from None
    return _json_columns(records, path), iter(records)


def _json_document(text: str, path: Path) -> tuple[list[str], Rows]:
    """A .json file: an array of objects, or JSON lines under the .json name."""
    if not text.lstrip().startswith("["):
        return _json_lines(text, path)
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _malformed(path, f"line {exc.lineno}", exc.msg) from None
    records = [(f"item {number}", item) for number, item in enumerate(items, start=1)]
    return _json_columns(records, path), iter(records)


def _json_columns(records: list[tuple[str, object]], path: Path) -> list[str]:
    """The keys of the first record stand for the file's columns."""
    if not records:
        raise UserError(f"{path} has no records; pass a file with labeled texts")
    where, first = records[0]
    if not isinstance(first, dict):
        raise UserError(
            f"{path} {where}: a record must be a JSON object, got {type(first).__name__}; "
            'write one object per record, such as {"text": ..., "label": ...}'
        )
    return list(first)


TABLE_FORMATS: dict[str, TableReader] = {
    "csv": _delimited(","),
    "tsv": _delimited("\t"),
    "jsonl": _json_lines,
    "json": _json_document,
}
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}


def _table_format(path: Path, file_format: str | None) -> str:
    if file_format is not None:
        if file_format not in TABLE_FORMATS:
            raise UserError(
                f"unknown format {file_format!r}; pass --format as one of: "
                f"{', '.join([*TABLE_FORMATS, 'imdb'])}"
            )
        return file_format
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise UserError(
            f"cannot tell the format of {path} from its extension; name the file .csv, .tsv, "
            ".jsonl or .json, or pass --format"
        )
    return fmt


def _choose_columns(
    columns: list[str], text_column: str | None, label_column: str | None, path: Path
) -> tuple[str, str]:
    found = set(columns)
    lecture_file = not found & set(DEFAULT_COLUMNS) and set(LECTURE_COLUMNS) <= found
    unnamed = text_column is None and label_column is None
    defaults = LECTURE_COLUMNS if unnamed and lecture_file else DEFAULT_COLUMNS
    chosen = (text_column or defaults[0], label_column or defaults[1])
    missing = [name for name in chosen if name not in found]
    if missing:
        raise UserError(
            f"{path} has no column {' or '.join(map(repr, missing))} (columns found: "
            f"{', '.join(columns)}); name the text and label columns with --text-column "
            "and --label-column"
        )
    return chosen


def _label_text(value: object) -> str:
    """A label as text: JSON true, 1 and 1.0 become "true", "1" and "1", as in a CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- shared checks -----------------------------------------------------------


def _check_on_empty(on_empty: str) -> None:
    if on_empty not in ON_EMPTY:
        raise UserError(f"on_empty must be one of {', '.join(ON_EMPTY)}, got {on_empty!r}")


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise UserError(f"file not found: {path}; check the path")
    if path.is_dir():
        raise UserError(
            f"{path} is a folder; pass a file, or an IMDb aclImdb folder (or its parent)"
        )
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise UserError(f"cannot read {path} ({exc.strerror}); check its permissions") from None


def _empty_text_error(where: str) -> UserError:
    return UserError(
        f"{where}: empty text; remove the row, or let rows with empty text be skipped "
        "(the default)"
    )


def _malformed(path: Path, where: str, problem: object) -> UserError:
    return UserError(f"{path} {where}: malformed record ({problem}); fix the file or its --format")
