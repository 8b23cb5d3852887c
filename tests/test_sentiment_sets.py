import json

from seqrnn.data.imdb import IMDB_LABEL_MAP
from seqrnn.data.sentiment_sets import load_sentiment
from tests.test_imdb import make_imdb_archive


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
