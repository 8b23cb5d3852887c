import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from seqrnn.data import reviews
from seqrnn.data.reviews import (
    IMDB_LABEL_MAP,
    LabeledTexts,
    LabelMap,
    load_sentiment,
    read_imdb,
    read_table,
    split_balanced,
)
from seqrnn.errors import UserError

# (split, label) -> [(review id, rating, text)]; ids out of order on purpose.
REVIEWS = {
    ("train", "pos"): [(10, 9, "Great<br />film"), (2, 8, "Loved it"), (1, 10, "Superb")],
    ("train", "neg"): [(3, 1, "Awful"), (0, 2, "Dull, dull.")],
    ("test", "pos"): [(5, 7, "Nice")],
    ("test", "neg"): [(4, 3, "Bad"), (7, 4, "Meh")],
}


def make_imdb_folder(parent: Path, reviews=REVIEWS, encoding: str = "utf-8") -> Path:
    """An aclImdb folder like the official one, with unsup reviews and url lists to ignore."""
    root = parent / "aclImdb"
    for (split, label), items in reviews.items():
        folder = root / split / label
        folder.mkdir(parents=True, exist_ok=True)
        for review_id, rating, text in items:
            (folder / f"{review_id}_{rating}.txt").write_bytes(text.encode(encoding))
    (root / "train" / "unsup").mkdir(parents=True, exist_ok=True)
    (root / "train" / "unsup" / "0_0.txt").write_text("unlabeled review")
    (root / "train" / "urls_pos.txt").write_text("http://example.com\n")
    (root / "imdb.vocab").write_text("the\n")
    return root


def make_imdb_archive(tmp_path: Path, reviews=REVIEWS, encoding: str = "utf-8") -> Path:
    root = make_imdb_folder(tmp_path / "src", reviews, encoding)
    archive = tmp_path / "aclImdb_v1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root, arcname="aclImdb")
    return archive


def test_archive_gives_official_splits_in_fixed_order(tmp_path):
    splits = read_imdb(make_imdb_archive(tmp_path))
    assert set(splits) == {"train", "test"}
    train, test = splits["train"], splits["test"]
    # Negative then positive, each by numeric review id; unsup and url lists ignored.
    assert train.texts == ["Dull, dull.", "Awful", "Superb", "Loved it", "Great<br />film"]
    assert train.labels.tolist() == [0, 0, 1, 1, 1]
    assert train.labels.dtype == np.int64
    assert test.texts == ["Bad", "Meh", "Nice"]
    assert train.class_counts() == (2, 3) and test.class_counts() == (2, 1)
    assert train.label_map == IMDB_LABEL_MAP == LabelMap("neg", "pos")
    assert train.skipped_empty == 0


def test_url_lists_give_each_review_its_movie(tmp_path):
    folder = make_imdb_folder(tmp_path / "folder")
    # Line i names the movie of review i; train reviews 0 (neg) and 10 (pos) share movie "a".
    movies = {("train", "neg"): "a b c d", ("train", "pos"): "x b y z z z z z z z a",
              ("test", "neg"): "p p p p q q q q", ("test", "pos"): "p p p p p x"}
    for (split, label), names in movies.items():
        (folder / split / f"urls_{label}.txt").write_text(names.replace(" ", "\n") + "\n")
    archive = tmp_path / "with_urls.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="aclImdb")
    for source in (folder, archive):
        train, test = read_imdb(source)["train"], read_imdb(source)["test"]
        # train order: neg 0, 3; pos 1, 2, 10 -> movies a, d, b, y, a
        g = train.groups.tolist()
        assert g[0] == g[4] and len(set(g)) == 4 and g[2] != g[0]
        assert test.groups.tolist() == [test.groups[0]] * 2 + [test.groups[2]]  # q, q, x
        assert test.groups[0] != test.groups[2]


def test_without_complete_url_lists_reviews_have_no_movie(tmp_path):
    splits = read_imdb(make_imdb_archive(tmp_path))  # urls_pos.txt has one line, for id 0
    assert splits["train"].groups is None and splits["test"].groups is None


def test_progress_bar_while_reading(tmp_path, capsys):
    archive = make_imdb_archive(tmp_path / "a")
    read_imdb(archive, progress=True)
    assert "reading aclImdb_v1.tar.gz" in capsys.readouterr().err
    read_imdb(make_imdb_folder(tmp_path / "b"), progress=True)
    assert "files" in capsys.readouterr().err
    read_imdb(archive)
    assert capsys.readouterr().err == ""


def test_folder_itself_or_its_parent_equals_the_archive(tmp_path):
    from_archive = read_imdb(make_imdb_archive(tmp_path / "a"))
    root = make_imdb_folder(tmp_path / "b")
    for path in (root, root.parent):
        from_folder = read_imdb(path)
        for split in ("train", "test"):
            assert from_folder[split].texts == from_archive[split].texts
            assert from_folder[split].labels.tolist() == from_archive[split].labels.tolist()


def test_archive_under_any_top_folder(tmp_path):
    root = make_imdb_folder(tmp_path / "src")
    archive = tmp_path / "copy.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root, arcname="./imdb-copy")
    assert len(read_imdb(archive)["train"]) == 5


def test_missing_group_is_named(tmp_path):
    reviews = {key: items for key, items in REVIEWS.items() if key != ("test", "neg")}
    with pytest.raises(UserError, match=r"no reviews in test/neg/.*aclImdb/\{train,test\}"):
        read_imdb(make_imdb_archive(tmp_path, reviews))
    root = make_imdb_folder(tmp_path / "folder", reviews)
    with pytest.raises(UserError, match="lacks the folders test/neg/"):
        read_imdb(root)


def test_folder_without_layout(tmp_path):
    (tmp_path / "stuff").mkdir()
    with pytest.raises(UserError, match="is not an IMDb folder.*aclImdb_v1.tar.gz"):
        read_imdb(tmp_path / "stuff")


def test_archive_that_is_not_gzip(tmp_path):
    fake = tmp_path / "aclImdb_v1.tar.gz"
    fake.write_text("not an archive")
    with pytest.raises(UserError, match=r"cannot read .* as a \.tar\.gz archive"):
        read_imdb(fake)


def test_missing_path(tmp_path):
    with pytest.raises(UserError, match="file not found: .*check the path"):
        read_imdb(tmp_path / "nope.tar.gz")
    with pytest.raises(UserError, match="file not found"):
        read_table(tmp_path / "nope.csv")


def test_unreadable_file_or_a_folder_for_a_file(tmp_path, monkeypatch):
    path = tmp_path / "data.csv"
    path.write_text("text,label\na,0\n")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    # chmod cannot make a file unreadable for root, so the denial is simulated.
    monkeypatch.setattr(reviews, "open", denied, raising=False)
    with pytest.raises(UserError, match=r"cannot read .*data.csv \(Permission denied\)"):
        read_table(path)
    monkeypatch.undo()
    with pytest.raises(UserError, match="is a folder; pass a file"):
        read_table(tmp_path)


def test_non_utf8_review_names_encoding_option(tmp_path):
    reviews = dict(REVIEWS)
    reviews["train", "pos"] = [(1, 10, "Très bien")]
    archive = make_imdb_archive(tmp_path, reviews, encoding="latin-1")
    with pytest.raises(UserError, match=r"train/pos/1_10\.txt is not valid utf-8.*--encoding"):
        read_imdb(archive)
    assert read_imdb(archive, encoding="latin-1")["train"].texts[-1] == "Très bien"


def test_empty_reviews_skipped_and_counted_or_an_error(tmp_path):
    reviews = dict(REVIEWS)
    reviews["train", "neg"] = [*REVIEWS["train", "neg"], (8, 1, "  \n")]
    archive = make_imdb_archive(tmp_path, reviews)
    splits = read_imdb(archive)
    assert len(splits["train"]) == 5
    assert (splits["train"].skipped_empty, splits["test"].skipped_empty) == (1, 0)
    with pytest.raises(UserError, match="train/neg/8_1.txt: empty text"):
        read_imdb(archive, on_empty="error")


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
    data = read_table(path, text_column="body", label_column="stars")
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
    array = read_table(tmp_path / "a.json", text_column="t", label_column="y")
    assert array.labels.tolist() == [1, 0] and array.label_map == LabelMap("1", "2")
    assert read_table(tmp_path / "lines.json").labels.tolist() == [0, 1]


def test_explicit_format_for_another_extension(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_text("text\tlabel\nyes\t1\nno\t0\n")
    with pytest.raises(UserError, match="cannot tell the format.*--format"):
        read_table(path)
    assert read_table(path, file_format="tsv").labels.tolist() == [1, 0]
    with pytest.raises(UserError, match="unknown format 'xml'"):
        read_table(path, file_format="xml")


def test_missing_columns_name_the_columns_found(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("body,stars\nx,1\ny,0\n")
    found = r"no column 'text' or 'label' \(columns found: body, stars\)"
    with pytest.raises(UserError, match=found):
        read_table(path)
    with pytest.raises(UserError, match=r"no column 'label'.*--label-column"):
        read_table(path, text_column="body")


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


@pytest.mark.parametrize(
    ("values", "negative"),
    [
        (["pos", "neg"], "neg"),
        (["Positive", "NEGATIVE"], "NEGATIVE"),
        (["1", "0"], "0"),
        (["1", "-1"], "-1"),
        (["true", "false"], "false"),
        (["good", "bad"], "bad"),
        (["2", "10"], "2"),  # numbers by value, not as strings
        (["4", "0"], "0"),
        (["spam", "ham"], "ham"),  # anything else in sorted order
        (["happy", "sad"], "happy"),
    ],
)
def test_label_map_inference(values, negative):
    label_map = LabelMap.infer(values * 3, where="data")
    assert label_map.negative == negative
    assert set(label_map.names) == set(values)
    assert label_map.encode(negative) == 0 and label_map.decode(1) == label_map.positive


def test_explicit_label_map_overrides_and_checks_values(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("text,label\nyay,happy\nboo,sad\n")
    assert read_table(path).labels.tolist() == [0, 1]  # sorted: happy < sad
    override = LabelMap(negative="sad", positive="happy")
    assert read_table(path, label_map=override).labels.tolist() == [1, 0]
    with pytest.raises(UserError, match=r"label values 'happy' besides 'sad' \(negative\)"):
        read_table(path, label_map=LabelMap(negative="sad", positive="glad"))
    with pytest.raises(UserError, match="both 'x'"):
        LabelMap("x", "x")


def test_label_map_json_round_trip():
    label_map = LabelMap(negative="bad", positive="good")
    assert LabelMap.from_dict(json.loads(json.dumps(label_map.to_dict()))) == label_map
    with pytest.raises(UserError, match="label map"):
        LabelMap.from_dict({"negative": "bad"})


def test_empty_text_rows_skipped_and_counted_or_an_error(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text('text,label\ngood,1\n"  ",0\nbad,0\n,1\n')
    data = read_table(path)
    assert data.texts == ["good", "bad"] and data.skipped_empty == 2
    path.write_text('text,label\ngood,1\n"  ",0\nbad,0\n')
    with pytest.raises(UserError, match="line 3: empty text"):
        read_table(path, on_empty="error")
    with pytest.raises(UserError, match="on_empty"):
        read_table(path, on_empty="ignore")


def test_row_without_label_is_a_third_label_value(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("text,label\ngood,1\nbad,0\nshort\n")
    with pytest.raises(UserError, match=r"3 distinct label values \('', '0', '1'\)"):
        read_table(path)


def test_non_utf8_table_names_encoding_option(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes("text,label\nTrès bon,1\nmauvais,0\n".encode("latin-1"))
    with pytest.raises(UserError, match=r"not valid utf-8 text \(byte 0xe8.*--encoding latin-1"):
        read_table(path)
    assert read_table(path, encoding="latin-1").texts[0] == "Très bon"
    with pytest.raises(UserError, match="unknown encoding 'nope'"):
        read_table(path, encoding="nope")


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


def labeled(n_negative: int, n_positive: int) -> LabeledTexts:
    labels = np.array([0] * n_negative + [1] * n_positive, dtype=np.int64)
    return LabeledTexts(
        texts=[f"review {i}" for i in range(len(labels))],
        labels=labels,
        label_map=LabelMap("0", "1"),
    )


def test_split_balanced_sizes_balance_and_determinism():
    data = labeled(300, 100)
    rest, held = split_balanced(data, 0.1, seed=3)
    assert held.class_counts() == (30, 10) and rest.class_counts() == (270, 90)
    assert sorted(rest.texts + held.texts) == sorted(data.texts)
    assert not set(rest.texts) & set(held.texts)
    # Both parts keep the order of the data, and texts keep their labels.
    numbers = [int(text.split()[1]) for text in held.texts]
    assert numbers == sorted(numbers)
    assert held.labels.tolist() == [int(n >= 300) for n in numbers]
    _, held_again = split_balanced(data, 0.1, seed=3)
    assert held_again.texts == held.texts
    assert split_balanced(data, 0.1, seed=4)[1].texts != held.texts
    assert held.skipped_empty == 0


def test_split_balanced_holds_out_whole_groups():
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 31, 200)  # like IMDb: up to 30 reviews of one movie
    groups = np.repeat(np.arange(200), sizes)
    labels = rng.integers(0, 2, len(groups))
    data = LabeledTexts(texts=[f"review {i}" for i in range(len(groups))], labels=labels,
                        label_map=LabelMap("0", "1"), groups=groups)
    rest, held = split_balanced(data, 0.1, seed=3)
    assert not set(held.groups) & set(rest.groups)
    targets = [round(0.1 * n) for n in data.class_counts()]
    assert all(0.9 * t <= n <= t for n, t in zip(held.class_counts(), targets, strict=True))
    assert len(rest) + len(held) == len(data)
    assert split_balanced(data, 0.1, seed=3)[1].texts == held.texts


def test_split_balanced_edge_cases():
    data = labeled(5, 5)
    rest, held = split_balanced(data, 0.0)
    assert len(rest) == 10 and len(held) == 0
    with pytest.raises(UserError, match="--val-fraction must be at least 0 and below 1"):
        split_balanced(data, 1.0)
    with pytest.raises(UserError, match=r"--test-fraction 0.05 of the 5 examples labeled '0'"):
        split_balanced(data, 0.05, flag="--test-fraction")


def test_load_sentiment_imdb_by_name_keeps_official_test(tmp_path, monkeypatch):
    reviews = {
        (split, label): [(i, 7 if label == "pos" else 2, f"{split} {label} {i}") for i in range(20)]
        for split in ("train", "test")
        for label in ("neg", "pos")
    }
    make_imdb_archive(tmp_path, reviews)
    monkeypatch.setenv("SEQRNN_DATA", str(tmp_path))
    monkeypatch.chdir(tmp_path / "src")  # no file named "imdb" in the working directory
    splits = load_sentiment("imdb", val_fraction=0.1, seed=1)
    assert splits.train.class_counts() == (18, 18)
    assert splits.val.class_counts() == (2, 2)
    assert splits.test.class_counts() == (20, 20)
    assert all(t.startswith("test") for t in splits.test.texts)
    assert splits.label_map == IMDB_LABEL_MAP


def test_load_sentiment_table_carves_test_then_val(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text(
        "".join(json.dumps({"text": f"r{i}", "label": i % 2}) + "\n" for i in range(100))
        + '{"text": "", "label": 1}\n'
    )
    splits = load_sentiment(path, test_fraction=0.2, val_fraction=0.25, seed=0)
    assert splits.test.class_counts() == (10, 10)
    assert splits.val.class_counts() == (10, 10)
    assert splits.train.class_counts() == (30, 30)
    assert splits.skipped_empty == 1
    texts = splits.train.texts + splits.val.texts + splits.test.texts
    assert sorted(texts) == sorted(f"r{i}" for i in range(100))


@pytest.mark.slow
def test_real_imdb_archive(real_data_dir):
    archive = real_data_dir / "aclImdb_v1.tar.gz"
    if not archive.exists():
        pytest.skip(f"{archive} not found")
    splits = read_imdb(archive)
    train, test = splits["train"], splits["test"]
    assert (len(train), len(test)) == (25_000, 25_000)
    assert train.class_counts() == (12_500, 12_500)
    assert test.class_counts() == (12_500, 12_500)
    assert train.skipped_empty == test.skipped_empty == 0
    assert all(text.strip() for text in train.texts[:100])
    # Every review has its movie; IMDb's test movies are (but for one) not its training movies.
    assert len(set(train.groups)) == 3456 and len(set(test.groups) & set(train.groups)) == 1
    rest, val = split_balanced(train, 0.1, seed=1)
    assert val.class_counts() == (1250, 1250) and not set(val.groups) & set(rest.groups)
