"""Labeled texts from a table: a CSV, TSV, JSON-lines or JSON file.

Each record has a text column and a label column: ``text`` and ``label`` by
default, or the lecture's ``review`` and ``sentiment`` when a file has those
and no ``text``/``label``. The format comes from the file's extension unless
it is named.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from seqrnn.data.files import decode_bytes, read_input
from seqrnn.data.labels import (
    LabeledTexts,
    LabelMap,
    check_on_empty,
    check_readable,
    empty_text_error,
)
from seqrnn.errors import UserError

DEFAULT_COLUMNS = ("text", "label")
# When a file has neither `text` nor `label` but both of these: the lecture's movie_data.csv.
LECTURE_COLUMNS = ("review", "sentiment")


@dataclass(frozen=True)
class TableOptions:
    """How to read labeled rows: a table's columns and format, and for any source (IMDb too)
    its encoding, its label values and what a row with empty text does."""

    text_column: str | None = None
    label_column: str | None = None
    file_format: str | None = None  # None: from the file's extension
    encoding: str = "utf-8"
    label_map: LabelMap | None = None  # None: inferred from the two values that occur
    on_empty: str = "skip"  # or "error"


DEFAULT_TABLE = TableOptions()  # the file decides: default columns, format, label values


def read_table(path: Path, options: TableOptions = DEFAULT_TABLE) -> LabeledTexts:
    """All labeled rows of a CSV, TSV, JSON-lines or JSON file, in file order.

    The format comes from the extension (`TABLE_FORMATS`: .csv, .tsv, .jsonl,
    .json) unless `options.file_format` names it. Columns default to ``text`` and
    ``label``, or the lecture's ``review`` and ``sentiment`` when the file has
    those instead. Without `options.label_map`, the file must have exactly two label
    values and `LabelMap.infer` assigns 0 and 1.
    """
    check_on_empty(options.on_empty)
    path = Path(path)
    columns, rows, _ = read_records(path, options.file_format, options.encoding)
    text_col, label_col = _choose_columns(columns, options.text_column, options.label_column,
                                          path)
    texts, raw_labels = [], []
    records = _TextRecords(rows, path, text_col, (text_col, label_col), options.on_empty)
    for body, row in records:
        texts.append(body)
        raw_labels.append(_label_text(row[label_col]))
    skipped = records.skipped
    if not texts:
        raise UserError(f"{path} has no rows with text; pass a file with labeled texts")
    where = f"{path} column {label_col!r}"
    label_map = options.label_map
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


def read_table_texts(
    path: Path,
    *,
    text_column: str | None = None,
    file_format: str | None = None,
    encoding: str = "utf-8",
) -> list[str]:
    """The non-blank texts of a table's text column, in file order: no label column needed.

    The column defaults to ``text``, or the lecture's ``review`` when the file has that instead.
    """
    return [text for text, _ in _texts_with(path, text_column, None, file_format, encoding)]


def read_table_values(
    path: Path,
    column: str,
    *,
    text_column: str | None = None,
    file_format: str | None = None,
    encoding: str = "utf-8",
) -> tuple[list[str], list[str | None]]:
    """read_table_texts' texts and each row's value of `column` (a condition), as text; None
    where it is blank."""
    pairs = _texts_with(path, text_column, column, file_format, encoding)
    return [text for text, _ in pairs], [value or None for _, value in pairs]


def _texts_with(path: Path, text_column: str | None, column: str | None,
                file_format: str | None, encoding: str) -> list[tuple[str, str]]:
    """(text, value of `column` as text, or "" without one) of each row with text."""
    path = Path(path)
    columns, rows, _ = read_records(path, file_format, encoding)
    if text_column is None:
        text_column = next((name for name in (DEFAULT_COLUMNS[0], LECTURE_COLUMNS[0])
                            if name in columns), DEFAULT_COLUMNS[0])
    if text_column not in columns:
        raise UserError(f"{path} has no column {text_column!r} (columns found: "
                        f"{', '.join(columns)}); name the text column with {{text_column}}",
                        fields=("text_column",))
    if column is not None and column not in columns:
        raise UserError(f"{path} has no column {column!r} to condition on (columns found: "
                        f"{', '.join(columns)}); give {{condition}} one of them",
                        fields=("condition",))
    pairs = [(body, "" if column is None else _label_text(row.get(column)))
             for body, row in _TextRecords(rows, path, text_column, (text_column,), "skip")]
    if not pairs:
        raise UserError(f"{path} has no rows with text in column {text_column!r}; pass a file "
                        "with texts")
    return pairs


class _TextRecords:
    """The (text, record) of each record with a non-blank text; counts the blank ones skipped.

    `needed` is the text column, then the label column if any: a record without one of them
    is a UserError naming the flags that choose them.
    """

    def __init__(self, rows: Rows, path: Path, text_col: str, needed: tuple[str, ...],
                 on_empty: str):
        self.rows, self.path, self.text_col = rows, path, text_col
        self.needed, self.on_empty, self.skipped = needed, on_empty, 0

    def __iter__(self) -> Iterator[tuple[str, dict]]:
        fields = ("text_column", "label_column")[:len(self.needed)]
        for where, row in self.rows:
            if not isinstance(row, dict) or not all(name in row for name in self.needed):
                found = (", ".join(map(str, row)) if isinstance(row, dict)
                         else type(row).__name__)
                raise UserError(
                    f"{self.path} {where}: no {' and '.join(map(repr, self.needed))} fields "
                    f"(found: {found}); give every record "
                    f"{'both' if len(fields) > 1 else 'one'}, or name "
                    f"{'them' if len(fields) > 1 else 'it'} with "
                    f"{' and '.join('{' + name + '}' for name in fields)}", fields=fields)
            value = row[self.text_col]
            body = "" if value is None else str(value)
            if not body.strip():
                if self.on_empty == "error":
                    raise empty_text_error(f"{self.path} {where}")
                self.skipped += 1
                continue
            yield body, row


Rows = Iterator[tuple[str, object]]  # (where in the file, for messages; the record)


class Table(NamedTuple):
    columns: list[str]
    rows: Rows
    headerless: bool = False  # the first line was no header but a record (read_records)


TableReader = Callable[[str, Path], Table]  # (text, path) -> the table


def _delimited(delimiter: str) -> TableReader:
    def read(text: str, path: Path, headerless: tuple[str, ...] = ()) -> Table:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            columns = reader.fieldnames
        except csv.Error as exc:
            raise _malformed(path, "line 1", exc) from None
        if not columns:
            raise UserError(f"{path} is empty; pass a file with a header row and labeled rows")
        first_is_record = (bool(headerless) and len(columns) >= len(headerless)
                           and not set(headerless) & set(columns))
        if first_is_record:  # no header: the first line is a record, its fields named by position
            reader = csv.DictReader(io.StringIO(text, newline=""), fieldnames=list(headerless),
                                    delimiter=delimiter)
            columns = list(headerless)
        repeated = sorted({name for name in columns if columns.count(name) > 1})
        if repeated:  # a record would keep only the last column of each such name
            raise UserError(f"{path} line 1: the header names {', '.join(map(repr, repeated))} "
                            "more than once; give each column its own name")

        def rows() -> Rows:
            try:
                for row in reader:
                    yield f"line {reader.line_num}", row
            except csv.Error as exc:
                raise _malformed(path, f"line {reader.line_num}", exc) from None

        return Table(list(columns), rows(), first_is_record)

    return read


TOO_DEEP = "arrays or objects nested too deeply to be a record"


def _json_lines(text: str, path: Path) -> Table:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                records.append((f"line {number}", json.loads(line)))
            except json.JSONDecodeError as exc:
                raise _malformed(path, f"line {number}", exc.msg) from None
            except RecursionError:
                raise _malformed(path, f"line {number}", TOO_DEEP) from None
    return Table(_json_columns(records, path), iter(records))


def _json_document(text: str, path: Path) -> Table:
    """A .json file: an array of objects, or JSON lines under the .json name."""
    if not text.lstrip().startswith("["):
        return _json_lines(text, path)
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _malformed(path, f"line {exc.lineno}", exc.msg) from None
    except RecursionError:
        raise _malformed(path, "its start", TOO_DEEP) from None
    records = [(f"item {number}", item) for number, item in enumerate(items, start=1)]
    return Table(_json_columns(records, path), iter(records))


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


_DELIMITED = ("csv", "tsv")
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


def read_records(path: Path, file_format: str | None, encoding: str, *,
                 headerless: tuple[str, ...] = ()) -> Table:
    """The column names of a table file and its records, each with where it is (for errors).

    With `headerless` names, a CSV or TSV whose first line names none of them and has at least
    as many fields has no header: every line is a record, its fields named `headerless`, and
    the table says so (`Table.headerless`), for the caller to tell the user.
    """
    check_readable(path)
    fmt = _table_format(path, file_format)
    text = decode_bytes(read_input(path), encoding, str(path)).removeprefix("\ufeff")
    if fmt in _DELIMITED:
        return TABLE_FORMATS[fmt](text, path, headerless)
    return TABLE_FORMATS[fmt](text, path)


def _table_format(path: Path, file_format: str | None) -> str:
    if file_format is not None:
        if file_format not in TABLE_FORMATS:
            raise UserError(
                f"unknown format {file_format!r}; pass {{format}} as one of: "
                f"{', '.join(TABLE_FORMATS)} (IMDb's archive is --data imdb)", fields=("format",),
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
            f"{', '.join(columns)}); name the text and label columns with {{text_column}} "
            "and {label_column}", fields=("text_column", "label_column"),
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


def _malformed(path: Path, where: str, problem: object) -> UserError:
    return UserError(f"{path} {where}: malformed record ({problem}); fix the file or its "
                     "{format}", fields=("format",))
