"""Files of series to forecast: CSV, TSV or Parquet in the long or the wide layout, and JSON.

- Long layout (the default): a header row, then one row per value: the series' id, its time
  and the value, in the columns `id_column`, `time_column` and `value_column` (by default
  ``id``, ``time`` and ``value``, or Nixtla's ``unique_id``, ``ds`` and ``y`` when a file has
  those and no column was named). Rows are sorted by time within each series. A time is a
  year (2020), a quarter (2020-Q1), a month (2020-01), an ISO date or date-time, or a number.
  Without a `frequency`, dated rows give it (yearly, quarterly, monthly, weekly, daily, hourly)
  and a period with no row inside a series is a missing value; numbered times only order the
  rows. A file without the time column (when none was named) keeps the rows' order.
- Wide layout: a header row (not read), then one row per series: its id in the first column,
  its values oldest first in the others; a shorter series leaves its last cells empty, as in
  the M4 competition's files.
- Parquet (needs pyarrow: `pip install 'seqrnn[parquet]'`): the same two layouts, its column
  names the header; times may be dates, date-times, years or numbers, values any numeric
  type. Its rows are numbered as its CSV would be: the column names are line 1.
- JSON: a list of {"id": ..., "values": [...]} objects (without "id", a series is named by
  its position), or one object mapping each id to its list of values.

An empty cell, NA, NaN or null is a missing value: `series_set` drops those at a series' ends
and fills inner ones by linear interpolation (counted in SeriesSet.interpolated).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import numpy as np

from seqrnn.configs.forecast import LAYOUTS
from seqrnn.data.files import decode_bytes, read_input
from seqrnn.data.labels import check_readable
from seqrnn.data.series import SeriesSet, series_set
from seqrnn.errors import UserError, field_error

SERIES_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json",
                  ".parquet": "parquet"}
PARQUET_HINT = "pip install 'seqrnn[parquet]'"
DEFAULT_COLUMNS = ("id", "time", "value")
NIXTLA_COLUMNS = ("unique_id", "ds", "y")
MISSING = frozenset({"", "na", "nan", "null", "none"})
_DELIMITERS = {"csv": ",", "tsv": "\t"}
_COLUMN_FIELDS = ("id_column", "time_column", "value_column")


def read_series_file(path: str | Path, *, horizon: int, layout: str = "long",
                     id_column: str | None = None, time_column: str | None = None,
                     value_column: str | None = None, frequency: str | None = None,
                     season: int | None = None, min_length: int = 1,
                     file_format: str | None = None, encoding: str = "utf-8") -> SeriesSet:
    """The series of a CSV, TSV, Parquet or JSON file (this module's docstring: layouts,
    missing values).

    The format comes from the extension unless `file_format` (csv, tsv, parquet, json) names it.
    `frequency` defaults to the one the long layout's dates give, else "other"; `season` to
    the frequency's. Every problem is a one-line UserError naming the line or series and the fix.
    """
    path = Path(path)
    if layout not in LAYOUTS:
        raise field_error("layout", f"unknown layout {layout!r}; pass {{}} as long or wide")
    if path.is_dir():  # check_readable's own message offers IMDb's folder
        raise UserError(f"{path} is a folder; pass a file of series (.csv, .tsv, .parquet or "
                        ".json)")
    check_readable(path)
    fmt = _series_format(path, file_format)
    options = dict(horizon=horizon, season=season, min_length=min_length, name=str(path))
    if fmt == "parquet":
        return _from_rows(_parquet_rows(read_input(path), path), path, layout,
                          (id_column, time_column, value_column), frequency, options)
    text = decode_bytes(read_input(path), encoding, str(path)).removeprefix("\ufeff")
    if fmt == "json":
        if not text.strip():
            raise UserError(f"{path} is empty; pass a JSON list of series")
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path} line {exc.lineno}: malformed JSON ({exc.msg}); fix the "
                            "file") from None
        except RecursionError:
            raise UserError(f"{path}: JSON nested too deeply; fix the file") from None
        return series_from_json(document, frequency=frequency, **options)
    return _from_rows(_csv_rows(text, path, _DELIMITERS[fmt]), path, layout,
                      (id_column, time_column, value_column), frequency, options)


def _from_rows(rows: list[tuple[int, list[str]]], path: Path, layout: str,
               named: tuple[str | None, ...], frequency: str | None, options: dict
               ) -> SeriesSet:
    """The series of a table's (line, cells) rows, the header first, in `layout`."""
    if layout == "wide":
        ids, values = _wide(rows, path)
        return series_set(values, ids=ids, frequency=frequency or "other", **options)
    ids, values, frequency = _long(rows, path, named, frequency)
    return series_set(values, ids=ids, frequency=frequency, **options)


def series_from_json(document: object, *, horizon: int, frequency: str | None = None,
                     season: int | None = None, min_length: int = 1, name: str = "series"
                     ) -> SeriesSet:
    """A SeriesSet of parsed JSON: a list of {"id", "values"} objects or an {id: values}
    object (this module's docstring); values are numbers or null (missing)."""
    if isinstance(document, dict):
        pairs = list(document.items())
    elif isinstance(document, list):
        pairs = []
        for number, item in enumerate(document):
            if not isinstance(item, dict) or "values" not in item:
                raise UserError(f"{name} item {number}: a series must be an object with "
                                '"values" (and "id"); write {"id": "a", "values": [1, 2]}')
            pairs.append((item.get("id", number), item["values"]))
    else:
        raise UserError(f"{name} must be a JSON list of series or an object of id: values, "
                        f"not {type(document).__name__}")
    for series_id, values in pairs:
        if not isinstance(values, list):
            raise UserError(f"{name} series {str(series_id)!r}: values must be a list of "
                            f"numbers, not {type(values).__name__}")
        for index, value in enumerate(values):
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, int | float)):
                raise UserError(f"{name} series {str(series_id)!r} item {index}: {value!r} is "
                                "not a number; give numbers, or null for a missing value")
    return series_set([values for _, values in pairs], ids=[str(i) for i, _ in pairs],
                      horizon=horizon, frequency=frequency or "other", season=season,
                      min_length=min_length, name=name)


def _series_format(path: Path, file_format: str | None) -> str:
    formats = sorted(set(SERIES_FORMATS.values()))
    if file_format is not None:
        if file_format not in formats:
            raise field_error("format", f"unknown format {file_format!r}; pass {{}} as one "
                              f"of: {', '.join(formats)}")
        return file_format
    if path.suffix.lower() not in SERIES_FORMATS:
        raise UserError(f"cannot tell the format of {path} from its extension; name the file "
                        ".csv, .tsv, .parquet or .json, or pass {format}", fields=("format",))
    return SERIES_FORMATS[path.suffix.lower()]


def _csv_rows(text: str, path: Path, delimiter: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of each non-blank row, the header first."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise UserError(f"{path} line {reader.line_num}: malformed row ({exc}); fix the file "
                        "or its {format}", fields=("format",)) from None
    if not rows:
        raise UserError(f"{path} is empty; pass a file with a header row and the series' "
                        "values")
    _refuse_repeated_columns(rows[0][1], path, rows[0][0])
    return rows


def _refuse_repeated_columns(header: list[str], path: Path, line: int) -> None:
    repeated = sorted({name for name in header if header.count(name) > 1 and name})
    if repeated:
        raise UserError(f"{path} line {line}: the header names {', '.join(map(repr, repeated))} "
                        "more than once; give each column its own name")


def _parquet_rows(data: bytes, path: Path) -> list[tuple[int, list[str]]]:
    """A Parquet file's rows as a CSV reader gives them: (line, cells as text), the column
    names first (line 1); a null is an empty cell, a date or date-time its ISO form."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise UserError(f"reading {path} needs pyarrow, which is not installed; install it "
                        f"with {PARQUET_HINT}, or give the series as CSV") from None
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise UserError(f"{path} is not a readable Parquet file ({exc}); fix the file, or "
                        "give the series as CSV") from None
    header = [str(name) for name in table.column_names]
    _refuse_repeated_columns(header, path, 1)
    columns = [[_cell(value) for value in column.to_pylist()] for column in table.columns]
    return [(1, header), *((number + 2, list(cells))
                           for number, cells in enumerate(zip(*columns, strict=True)))]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "isoformat"):  # date, datetime
        return value.isoformat()
    return str(value)


def _value(cell: str, path: Path, line: int, series_id: str) -> float:
    text = cell.strip()
    if text.lower() in MISSING:
        return np.nan
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{path} line {line}: value {text!r} of series {series_id!r} is not a "
                        "number; fix it, or leave the cell empty for a missing value") from None
    if not np.isfinite(value):
        raise UserError(f"{path} line {line}: value {text!r} of series {series_id!r} is not "
                        "finite; fix it, or leave the cell empty for a missing value")
    return value


def _wide(rows: list[tuple[int, list[str]]], path: Path) -> tuple[list[str], list[list[float]]]:
    ids, values = [], []
    for line, cells in rows[1:]:
        series_id = cells[0].strip()
        if not series_id:
            raise UserError(f"{path} line {line}: no series id in the first column; give each "
                            "row its series' id (the wide layout: id, then the values)")
        ids.append(series_id)
        values.append([_value(cell, path, line, series_id) for cell in cells[1:]])
    if not ids:
        raise UserError(f"{path} has a header but no series; pass one row per series")
    return ids, values


def _long(rows: list[tuple[int, list[str]]], path: Path, named: tuple[str | None, ...],
          frequency: str | None) -> tuple[list[str], list[np.ndarray], str]:
    header = [name.strip() for name in rows[0][1]]
    id_col, time_col, value_col = _choose_columns(header, named, path)
    where = {name: header.index(name) for name in (id_col, time_col, value_col) if name}
    groups: dict[str, list[tuple[str, float, int]]] = {}
    for line, cells in rows[1:]:
        cells = cells + [""] * (len(header) - len(cells))
        series_id = cells[where[id_col]].strip()
        if not series_id:
            raise UserError(f"{path} line {line}: no series id in column {id_col!r}; give "
                            "every row its series' id")
        time = cells[where[time_col]].strip() if time_col else ""
        value = _value(cells[where[value_col]], path, line, series_id)
        groups.setdefault(series_id, []).append((time, value, line))
    if not groups:
        raise UserError(f"{path} has a header but no rows; pass one row per value")
    if not time_col:
        return list(groups), [np.array([v for _, v, _ in g]) for g in groups.values()], (
            frequency or "other")
    times = _TimeAxis(path, groups, frequency)
    return list(groups), [times.values(series_id, g) for series_id, g in groups.items()], (
        times.frequency)


def _choose_columns(header: list[str], named: tuple[str | None, ...], path: Path
                    ) -> tuple[str, str | None, str]:
    found = set(header)
    nixtla = (not any(named) and not found & set(DEFAULT_COLUMNS)
              and set(NIXTLA_COLUMNS) <= found)
    id_col, time_col, value_col = (name or default for name, default in
                                   zip(named, NIXTLA_COLUMNS if nixtla else DEFAULT_COLUMNS,
                                       strict=True))
    if named[1] is None and time_col not in found:
        time_col = None  # no time column, none named: the rows' order is the series' order
    missing = [(name, field) for name, field in zip((id_col, time_col, value_col),
                                                    _COLUMN_FIELDS, strict=True)
               if name and name not in found]
    if missing:
        fields = tuple(field for _, field in missing)
        raise UserError(
            f"{path} has no column {' or '.join(repr(name) for name, _ in missing)} (columns "
            f"found: {', '.join(header)}); name the columns with "
            f"{' and '.join('{' + f + '}' for f in fields)}, or pass {{layout}} wide for one "
            "row per series", fields=(*fields, "layout"))
    return id_col, time_col, value_col


_YEAR = re.compile(r"\d{4}")
_QUARTER = re.compile(r"(\d{4})[-\s]?[Qq]([1-4])")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
# A frequency's period number of a date-time: consecutive periods differ by one.
_PERIOD = {
    "yearly": lambda t: t.year,
    "quarterly": lambda t: t.year * 4 + (t.month - 1) // 3,
    "monthly": lambda t: t.year * 12 + t.month - 1,
    "weekly": lambda t: (t.toordinal() - 1) // 7,
    "daily": lambda t: t.toordinal(),
    "hourly": lambda t: t.toordinal() * 24 + t.hour,
}
# The most common step between dates, in days -> their frequency.
_STEPS = (((1 / 24, 1 / 24), "hourly"), ((1, 1), "daily"), ((7, 7), "weekly"),
          ((28, 31), "monthly"), ((89, 92), "quarterly"), ((365, 366), "yearly"))


class _TimeAxis:
    """The long layout's times: parsed for the whole file at once (one kind for all rows), the
    frequency inferred from dates, and each series ordered (and, for dates, gaps made NaN)."""

    def __init__(self, path: Path, groups: dict, frequency: str | None):
        self.path = path
        stamps = [(time, line) for g in groups.values() for time, _, line in g]
        self.kind, implied = self._kind(stamps)
        self.parsed = {line: self._parse(time, line) for time, line in stamps}
        if frequency is None:
            frequency = implied or self._infer(groups)
        self.frequency = frequency
        self.period = _PERIOD.get(frequency) if self.kind != "number" else None

    def _kind(self, stamps: list[tuple[str, int]]) -> tuple[str, str | None]:
        for kind, pattern, implied in (("year", _YEAR, "yearly"), ("quarter", _QUARTER,
                                        "quarterly"), ("month", _MONTH, "monthly")):
            if all(pattern.fullmatch(time) for time, _ in stamps):
                return kind, implied
        try:
            [float(time) for time, _ in stamps]
            return "number", None
        except ValueError:
            return "datetime", None

    def _parse(self, time: str, line: int) -> float | datetime:
        if self.kind == "number":
            return float(time)
        if self.kind in ("year", "quarter", "month"):
            match = {"year": _YEAR, "quarter": _QUARTER, "month": _MONTH}[self.kind].fullmatch(
                time)
            year = int(match[1] if self.kind != "year" else match[0])
            month = (1 if self.kind == "year" else 3 * int(match[2]) - 2
                     if self.kind == "quarter" else int(match[2]))
            if 1 <= month <= 12:
                return datetime(year, month, 1)
        else:
            try:
                value = datetime.fromisoformat(time)
                return value.replace(tzinfo=None)
            except ValueError:
                pass
        raise UserError(f"{self.path} line {line}: time {time!r} is not a year (2020), quarter "
                        "(2020-Q1), month (2020-01), ISO date (2020-01-31) or number; fix it, or "
                        "name the time column with {time_column}", fields=("time_column",))

    def _infer(self, groups: dict) -> str:
        if self.kind == "number":
            return "other"
        steps = []
        for g in groups.values():
            stamps = sorted({self.parsed[line] for _, _, line in g})
            steps += [(b - a).total_seconds() / 86400 for a, b in pairwise(stamps)]
        if not steps:
            return "other"
        values, counts = np.unique(np.round(steps, 4), return_counts=True)
        common = float(values[counts.argmax()])
        for (low, high), frequency in _STEPS:
            if low - 1e-3 <= common <= high + 1e-3:
                return frequency
        raise UserError(f"cannot tell the frequency of {self.path} from its times (their most "
                        f"common step is {common:g} days); pass {{frequency}}",
                        fields=("frequency",))

    def values(self, series_id: str, group: list[tuple[str, float, int]]) -> np.ndarray:
        """The series' values by time; with dates, a period without a row is NaN."""
        keyed = sorted(((self._key(line), time, value, line) for time, value, line in group),
                       key=lambda item: item[0])
        for (k1, t1, _, l1), (k2, t2, _, l2) in pairwise(keyed):
            if k1 == k2:
                same = "the same time" if t1 == t2 else f"the same {self.frequency} period"
                raise UserError(f"{self.path} series {series_id!r} has two values at {same} "
                                f"({t1!r} on line {l1}, {t2!r} on line {l2}); keep one")
        if self.period is None:
            return np.array([value for _, _, value, _ in keyed])
        first, span = keyed[0][0], keyed[-1][0] - keyed[0][0] + 1
        if span > 2 * len(keyed):  # more periods without a row than with: a wrong frequency
            raise UserError(f"{self.path} series {series_id!r} has {len(keyed)} values over "
                            f"{span} {self.frequency} periods: most are missing; pass the "
                            "data's {frequency}", fields=("frequency",))
        values = np.full(span, np.nan)
        values[[key - first for key, *_ in keyed]] = [value for _, _, value, _ in keyed]
        return values

    def _key(self, line: int) -> float | int | datetime:
        stamp = self.parsed[line]
        return stamp if self.period is None else self.period(stamp)

