import json

import pytest

from seqrnn.data import labels
from seqrnn.data.labels import LabelMap
from seqrnn.data.tables import TableOptions, read_table
from seqrnn.errors import UserError
from tests.wording import raises_as_cli


def test_missing_path(tmp_path):
    with pytest.raises(UserError, match="file not found"):
        read_table(tmp_path / "nope.csv")


def test_unreadable_file_or_a_folder_for_a_file(tmp_path, monkeypatch):
    path = tmp_path / "data.csv"
    path.write_text("text,label\na,0\n")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    # chmod cannot make a file unreadable for root, so the denial is simulated, in
    # seqrnn.data.labels: its check_readable opens the file.
    monkeypatch.setattr(labels, "open", denied, raising=False)
    with pytest.raises(UserError, match=r"cannot read .*data.csv \(Permission denied\)"):
        read_table(path)
    monkeypatch.undo()
    with pytest.raises(UserError, match="is a folder; pass a file"):
        read_table(tmp_path)


def test_lecture_csv(tmp_path):
    path = tmp_path / "movie_data.csv"
    path.write_text(
        'review,sentiment\n"In 1974, the teenager",1\n"OK... so, I really",0\n'
        '"Multi\nline review",1\n',
        encoding="utf-8",
    )
    data = read_table(path)
    assert data.texts == ["In 1974, the teenager", "OK... so, I really", "Multi\nline review"]
    assert data.labels.tolist() == [1, 0, 1]
    assert data.label_map == LabelMap("0", "1")


def test_csv_with_custom_columns_and_bom(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("\ufeffid,body,stars\n1,good one,pos\n2,bad one,neg\n", encoding="utf-8")
    data = read_table(path, TableOptions(text_column="body", label_column="stars"))
    assert data.texts == ["good one", "bad one"]
    assert data.labels.tolist() == [1, 0]


def test_tsv_jsonl_and_json(tmp_path):
    (tmp_path / "a.tsv").write_text("label\ttext\nnegative\tawful, really\npositive\tfine\n")
    (tmp_path / "a.jsonl").write_text(
        '{"text": "loved", "label": true}\n\n{"text": "hated", "label": false}\n'
    )
    (tmp_path / "a.json").write_text(json.dumps([{"t": "ok", "y": 2}, {"t": "no", "y": 1}]))
    (tmp_path / "lines.json").write_text('{"text": "x", "label": 0}\n{"text": "y", "label": 1}\n')
    tsv = read_table(tmp_path / "a.tsv")
    assert tsv.texts == ["awful, really", "fine"] and tsv.labels.tolist() == [0, 1]
    jsonl = read_table(tmp_path / "a.jsonl")
    assert jsonl.texts == ["loved", "hated"] and jsonl.labels.tolist() == [1, 0]
    assert jsonl.label_map == LabelMap("false", "true")
    array = read_table(tmp_path / "a.json", TableOptions(text_column="t", label_column="y"))
    assert array.labels.tolist() == [1, 0] and array.label_map == LabelMap("1", "2")
    assert read_table(tmp_path / "lines.json").labels.tolist() == [0, 1]


def test_explicit_format_for_another_extension(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_text("text\tlabel\nyes\t1\nno\t0\n")
    with pytest.raises(UserError, match="cannot tell the format.*--format"):
        read_table(path)
    assert read_table(path, TableOptions(file_format="tsv")).labels.tolist() == [1, 0]
    with pytest.raises(UserError, match="unknown format 'xml'"):
        read_table(path, TableOptions(file_format="xml"))


def test_missing_columns_name_the_columns_found(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("body,stars\nx,1\ny,0\n")
    found = r"no column 'text' or 'label' \(columns found: body, stars\)"
    with pytest.raises(UserError, match=found):
        read_table(path)
    with raises_as_cli(r"no column 'label'.*--label-column"):
        read_table(path, TableOptions(text_column="body"))


def test_missing_columns_message_names_both_flags(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("body,stars\nx,1\ny,0\n")
    with raises_as_cli(r"name the text and label columns with --text-column and --label-column$"):
        read_table(path)


@pytest.mark.parametrize("extension, header", [("csv", "review,review,sentiment"),
                                                ("tsv", "text\tlabel\tlabel")])
def test_a_header_naming_a_column_twice_is_refused(tmp_path, extension, header):
    path = tmp_path / f"data.{extension}"
    sep = "," if extension == "csv" else "\t"
    path.write_text(header + "\n" + sep.join(["a", "b", "1"]) + "\n" + sep.join(["c", "d", "0"]))
    with pytest.raises(UserError, match=r"line 1: the header names '(review|label)' more than "
                       "once; give each column its own name"):
        read_table(path)


def test_json_record_without_the_fields(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"text": "a", "label": 1}\n{"body": "b", "label": 0}\n')
    with pytest.raises(UserError, match=r"line 2: no 'text' and 'label' fields \(found: body"):
        read_table(path)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("a,pos\nb,neg\nc,neutral\n", r"3 distinct label values \('neg', 'neutral', 'pos'\)"),
        ("a,pos\nb,pos\n", r"1 distinct label values \('pos'\).*exactly two"),
    ],
)
def test_not_two_label_values(tmp_path, rows, message):
    path = tmp_path / "data.csv"
    path.write_text("text,label\n" + rows)
    with pytest.raises(UserError, match=message):
        read_table(path)


def test_explicit_label_map_overrides_and_checks_values(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("text,label\nyay,happy\nboo,sad\n")
    assert read_table(path).labels.tolist() == [0, 1]  # sorted: happy < sad
    override = LabelMap(negative="sad", positive="happy")
    assert read_table(path, TableOptions(label_map=override)).labels.tolist() == [1, 0]
    with pytest.raises(UserError, match=r"label values 'happy' besides 'sad' \(negative\)"):
        read_table(path, TableOptions(label_map=LabelMap(negative="sad", positive="glad")))
    with pytest.raises(UserError, match="both 'x'"):
        LabelMap("x", "x")


def test_empty_text_rows_skipped_and_counted_or_an_error(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text('text,label\ngood,1\n"  ",0\nbad,0\n,1\n')
    data = read_table(path)
    assert data.texts == ["good", "bad"] and data.skipped_empty == 2
    path.write_text('text,label\ngood,1\n"  ",0\nbad,0\n')
    with pytest.raises(UserError, match="line 3: empty text"):
        read_table(path, TableOptions(on_empty="error"))
    with pytest.raises(UserError, match="on_empty"):
        read_table(path, TableOptions(on_empty="ignore"))


def test_row_without_label_is_a_third_label_value(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("text,label\ngood,1\nbad,0\nshort\n")
    with pytest.raises(UserError, match=r"3 distinct label values \('', '0', '1'\)"):
        read_table(path)


def test_non_utf8_table_names_encoding_option(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes("text,label\nTrès bon,1\nmauvais,0\n".encode("latin-1"))
    with raises_as_cli(r"not valid utf-8 text \(byte 0xe8.*--encoding latin-1"):
        read_table(path)
    assert read_table(path, TableOptions(encoding="latin-1")).texts[0] == "Très bon"
    with pytest.raises(UserError, match="unknown encoding 'nope'"):
        read_table(path, TableOptions(encoding="nope"))


def test_malformed_and_empty_files(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"text": "a", "label": 1}\n{"text": \n')
    with pytest.raises(UserError, match="bad.jsonl line 2: malformed record"):
        read_table(tmp_path / "bad.jsonl")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(UserError, match="empty.csv is empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("text,label\n")
    with pytest.raises(UserError, match="no rows with text"):
        read_table(tmp_path / "header.csv")


def test_deeply_nested_json_is_a_malformed_record_not_a_crash(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    (tmp_path / "deep.jsonl").write_text('{"text": "a", "label": 1}\n' + deep + "\n")
    with pytest.raises(UserError, match="deep.jsonl line 2: malformed record .arrays or objects "
                                        "nested too deeply"):
        read_table(tmp_path / "deep.jsonl")
    (tmp_path / "deep.json").write_text(deep)
    with pytest.raises(UserError, match="deep.json its start: malformed record"):
        read_table(tmp_path / "deep.json")
