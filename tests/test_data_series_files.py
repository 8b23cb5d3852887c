"""Files of series: long and wide CSV and Parquet, JSON, and each bad input's one-line error."""

from __future__ import annotations

import csv
import json
import random

import numpy as np
import pytest

from seqrnn.data.series_files import read_series_file, series_from_json
from seqrnn.errors import UserError

SERIES = {"a": np.arange(1.0, 27.0) * 1.5, "b": np.sin(np.arange(20.0)) + 10}


def one_line(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def write_long(path, series: dict, columns=("id", "time", "value")):
    rows = [(name, f"{2000 + t // 12}-{t % 12 + 1:02d}-01", repr(float(v)))
            for name, values in series.items() for t, v in enumerate(values)]
    random.Random(0).shuffle(rows)  # the reader orders each series by time
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([columns, *rows])
    return path


def test_long_csv_round_trip_infers_monthly(tmp_path):
    made = read_series_file(write_long(tmp_path / "s.csv", SERIES), horizon=6)
    assert sorted(made.ids) == ["a", "b"]  # in order of first appearance
    for name, values in SERIES.items():
        np.testing.assert_array_equal(made.train[made.ids.index(name)], values)
    assert (made.frequency, made.season, made.horizon) == ("monthly", 12, 6)


def test_long_csv_with_nixtla_columns(tmp_path):
    made = read_series_file(write_long(tmp_path / "s.csv", SERIES, ("unique_id", "ds", "y")),
                            horizon=3, season=1)
    assert sorted(made.ids) == ["a", "b"] and made.season == 1


def test_wide_csv_round_trip_with_ragged_rows(tmp_path):
    lines = ["id,V1,V2,V3,V4"] + [f"{name},{','.join(repr(float(v)) for v in values)}"
                                  for name, values in SERIES.items()]
    made = read_series_file(write(tmp_path / "w.csv", "\n".join(lines)), layout="wide",
                            horizon=2)
    assert made.ids == ["a", "b"] and made.frequency == "other"
    for name, values in SERIES.items():
        np.testing.assert_array_equal(made.train[made.ids.index(name)], values)


def test_json_list_and_object_forms(tmp_path):
    listed = [{"id": "a", "values": [1, 2, None, 4]}, {"values": [5, 6]}]
    made = read_series_file(write(tmp_path / "s.json", json.dumps(listed)), horizon=1)
    assert made.ids == ["a", "1"] and made.interpolated == 1
    np.testing.assert_array_equal(made.train[0], [1, 2, 3, 4])
    made = series_from_json({"x": [1.5, 2.5], "y": [3, 4, 5]}, horizon=2)
    assert made.ids == ["x", "y"] and made.lengths.tolist() == [2, 3]


def test_missing_values_and_missing_periods_are_interpolated(tmp_path):
    text = ("id,time,value\n"
            "s,2020-01,1\ns,2020-02,\ns,2020-03,3\ns,2020-05,5\ns,2020-06,NA\ns,2020-07,7\n")
    made = read_series_file(write(tmp_path / "s.csv", text), horizon=1, season=1)
    np.testing.assert_array_equal(made.train[0], [1, 2, 3, 4, 5, 6, 7])
    assert made.interpolated == 3 and made.frequency == "monthly"


@pytest.mark.parametrize("times, frequency, season", [
    (["2019", "2020", "2021"], "yearly", 1),
    (["2020-Q1", "2020-Q2", "2020-Q3", "2020-Q4", "2021-Q1"], "quarterly", 4),
    ([f"2020-01-{d:02d}" for d in range(1, 10)], "daily", 7),
    (["3", "1", "2"], "other", 1),
])
def test_the_frequency_comes_from_the_times(tmp_path, times, frequency, season):
    rows = "".join(f"s,{t},{i}\n" for i, t in enumerate(times))
    made = read_series_file(write(tmp_path / "s.csv", "id,time,value\n" + rows), horizon=1)
    assert (made.frequency, made.season) == (frequency, season)
    assert len(made.train[0]) == len(times)


def test_without_a_time_column_rows_keep_their_order(tmp_path):
    made = read_series_file(write(tmp_path / "s.csv", "id,value\ns,3\ns,1\ns,2\n"), horizon=1)
    np.testing.assert_array_equal(made.train[0], [3, 1, 2])


@pytest.mark.parametrize("name, text, options, expected", [
    ("s.csv", "series,date,amount\na,2020,1\n", {},
     "has no column 'id' or 'value' (columns found: series, date, amount); name the columns "
     "with id_column and value_column, or pass layout wide"),
    ("s.csv", "id,time,value\na,2020,1\na,2021,1O\n", {},
     "line 3: value '1O' of series 'a' is not a number"),
    ("s.csv", "id,time,value\na,2020-01,1\na,2020-01,2\n", {},
     "series 'a' has two values at the same time ('2020-01' on line 2, '2020-01' on line 3)"),
    ("s.csv", "id,time,value\na,2020-01-01,1\na,2020-01-15,2\na,2020-02-01,2\n",
     {"frequency": "monthly"}, "two values at the same monthly period"),
    ("s.csv", "id,time,value\na,2020,1\na,2021,2\n", {"min_length": 3},
     "series 'a' has 2 values, fewer than min_length 3"),
    ("s.csv", "id,time,value\na,2020-Q1,1\na,2020-Q2,2\na,2020-Q3,3\n", {},
     "has 3 values: too short for season length 4"),
    ("s.csv", "", {}, "is empty"),
    ("s.json", "", {}, "is empty"),
    ("s.csv", "id,time,value\n", {}, "has a header but no rows"),
    ("s.csv", "id,time,value\na,yesterday,1\n", {}, "line 2: time 'yesterday' is not a year"),
    ("s.csv", "id,time,value\na,2020-01-01,1\na,2020-01-04,2\na,2020-01-07,2\n", {},
     "cannot tell the frequency"),
    ("s.csv", "id,time,value\na,2020,1\na,2022,2\na,2030,3\n", {},
     "3 values over 11 yearly periods: most are missing; pass the data's frequency"),
    ("s.json", '[{"id": "a", "values": [1, "2"]}]', {}, "series 'a' item 1: '2' is not a number"),
    ("s.json", '[{"id": "a", "values": [1, true]}]', {}, "item 1: True is not a number"),
    ("s.json", '[[1, 2]]', {}, 'item 0: a series must be an object with "values"'),
    ("s.json", '{"a": [1, 2', {}, "malformed JSON"),
    ("s.txt", "1,2", {}, "cannot tell the format"),
    ("s.csv", "id,1,2\na,1,2\n", {"layout": "diagonal"}, "unknown layout 'diagonal'"),
    ("s.csv", "id,V1\n,1\n", {"layout": "wide"}, "line 2: no series id in the first column"),
])
def test_bad_files_get_one_line_errors(tmp_path, name, text, options, expected):
    path = write(tmp_path / name, text)
    with pytest.raises(UserError) as excinfo:
        read_series_file(path, horizon=1, **options)
    assert expected in one_line(excinfo)


def test_a_folder_is_refused_as_a_file_of_series(tmp_path):
    with pytest.raises(UserError) as excinfo:
        read_series_file(tmp_path, horizon=1)
    expected = (f"{tmp_path} is a folder; pass a file of series (.csv, .tsv, .parquet or "
                ".json)")
    assert one_line(excinfo) == expected


def write_parquet(path, columns: dict):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), path)
    return path


def test_a_long_parquet_file_reads_as_its_csv(tmp_path):
    from datetime import date

    pytest.importorskip("pyarrow")
    rows = list(csv.reader(write_long(tmp_path / "s.csv", SERIES).open()))[1:]
    path = write_parquet(tmp_path / "s.parquet", {
        "id": [r[0] for r in rows],
        "time": [date.fromisoformat(r[1]) for r in rows],  # a date column, not text
        "value": [float(r[2]) for r in rows]})
    made, want = read_series_file(path, horizon=6), read_series_file(tmp_path / "s.csv", horizon=6)
    assert made.ids == want.ids and (made.frequency, made.season) == ("monthly", 12)
    for got, expected in zip(made.train, want.train, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_a_wide_parquet_file_with_nulls_and_integer_values(tmp_path):
    path = write_parquet(tmp_path / "w.parquet", {
        "id": ["a", "b"], "V1": [1, 4], "V2": [None, 5], "V3": [3, None]})
    made = read_series_file(path, layout="wide", horizon=1, season=1)
    np.testing.assert_array_equal(made.train[0], [1.0, 2.0, 3.0])  # the inner null filled
    np.testing.assert_array_equal(made.train[1], [4.0, 5.0])  # the trailing one dropped
    assert made.interpolated == 1


def test_bad_parquet_files_get_one_line_errors(tmp_path, monkeypatch):
    path = write_parquet(tmp_path / "s.parquet", {"id": ["a", "a"], "time": [2020, 2021],
                                                 "value": ["1", "x"]})
    with pytest.raises(UserError) as excinfo:
        read_series_file(path, horizon=1)
    assert "line 3: value 'x' of series 'a' is not a number" in one_line(excinfo)
    broken = write(tmp_path / "b.parquet", "not parquet")
    with pytest.raises(UserError) as excinfo:
        read_series_file(broken, horizon=1)
    assert "is not a readable Parquet file" in one_line(excinfo)
    monkeypatch.setitem(__import__("sys").modules, "pyarrow", None)  # as if not installed
    with pytest.raises(UserError) as excinfo:
        read_series_file(path, horizon=1)
    assert one_line(excinfo) == (f"reading {path} needs pyarrow, which is not installed; "
                                 "install it with pip install 'seqrnn[parquet]', or give the "
                                 "series as CSV")
