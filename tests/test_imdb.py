import tarfile
from pathlib import Path

import numpy as np
import pytest

from seqrnn.data.imdb import IMDB_LABEL_MAP, UNLABELED, UNSUP, read_imdb
from seqrnn.data.labels import LabelMap, split_balanced
from seqrnn.errors import UserError
from tests.wording import raises_as_cli

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


def test_a_folder_asks_for_the_memory_budget_once_not_once_per_review(tmp_path, monkeypatch):
    """The budget reads /proc/meminfo and cgroup files: once per review was ~100k reads of them
    for the real folder."""
    from seqrnn import budget

    asked = []
    monkeypatch.setattr(budget, "memory_limit", lambda device=None: asked.append(1) or 2**30)
    data = read_imdb(make_imdb_folder(tmp_path))
    assert len(data["train"].texts) + len(data["test"].texts) == 8
    assert len(asked) == 1


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


def test_non_utf8_review_names_encoding_option(tmp_path):
    reviews = dict(REVIEWS)
    reviews["train", "pos"] = [(1, 10, "Très bien")]
    archive = make_imdb_archive(tmp_path, reviews, encoding="latin-1")
    with raises_as_cli(r"train/pos/1_10\.txt is not valid utf-8.*--encoding"):
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


# (split, folder) -> [(review id, rating, text, movie)]: every review has its movie, unlabelled
# ones too. Each training movie has one review of each class, so a held-out movie keeps the
# classes balanced; unsup ids out of order on purpose, some of labelled movies, some not.
MOVIE_REVIEWS = {
    ("train", "neg"): [(i, 1 + i, f"train neg {i}", f"m{i}") for i in range(4)],
    ("train", "pos"): [(i, 7 + i, f"train pos {i}", f"m{i}") for i in range(4)],
    ("test", "neg"): [(0, 1, "test neg 0", "t0"), (1, 2, "test neg 1", "t1")],
    ("test", "pos"): [(0, 9, "test pos 0", "t0"), (1, 8, "test pos 1", "m0")],
    ("train", "unsup"): [(10, 0, "unsup 10", "u1"), (2, 0, "unsup 2", "m1"),
                         (0, 0, "unsup 0", "m0"), (1, 0, "unsup 1", "u0"),
                         (3, 0, "unsup 3", "m2"), (4, 0, "unsup 4", "m3")],
}


def make_imdb_with_movies(parent: Path, reviews=MOVIE_REVIEWS) -> Path:
    """An aclImdb folder whose urls lists name the movie of every review, unsup ones too."""
    root = parent / "aclImdb"
    for (split, label), items in reviews.items():
        folder = root / split / label
        folder.mkdir(parents=True, exist_ok=True)
        movies = ["http://example.com/none"] * (1 + max(i for i, *_ in items))
        for review_id, rating, text, movie in items:
            (folder / f"{review_id}_{rating}.txt").write_text(text)
            movies[review_id] = f"http://www.imdb.com/title/{movie}/usercomments"
        (root / split / f"urls_{label}.txt").write_text("\n".join(movies) + "\n")
    return root


def archive_of(root: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root, arcname="aclImdb")
    return archive


def test_unlabeled_reviews_with_their_movies(tmp_path):
    root = make_imdb_with_movies(tmp_path / "folder")
    for source in (root, archive_of(root, tmp_path / "a.tar.gz")):
        labelled = read_imdb(source)
        splits = read_imdb(source, unlabeled=True)
        assert set(labelled) == {"train", "test"} and set(splits) == {"train", "test", UNSUP}
        for split in ("train", "test"):  # the labelled entries do not change
            assert splits[split].texts == labelled[split].texts
            assert np.array_equal(splits[split].groups, labelled[split].groups)
        unsup, train = splits[UNSUP], splits["train"]
        assert unsup.texts == [f"unsup {i}" for i in (0, 1, 2, 3, 4, 10)]  # by review id
        assert unsup.labels.tolist() == [UNLABELED] * 6 and unsup.skipped_empty == 0
        movie = dict(zip(train.texts, train.groups.tolist(), strict=True))
        g = unsup.groups.tolist()  # movies m0, u0, m1, m2, m3, u1: one numbering with train's
        assert g[0] == movie["train neg 0"]
        assert g[2:5] == [movie[f"train pos {i}"] for i in (1, 2, 3)]
        assert len({g[1], g[5], *movie.values()}) == 6


def test_unlabeled_reviews_missing(tmp_path):
    root = make_imdb_with_movies(tmp_path / "folder", {
        key: items for key, items in MOVIE_REVIEWS.items() if key != ("train", UNSUP)})
    for source in (root, archive_of(root, tmp_path / "a.tar.gz")):
        assert UNSUP not in read_imdb(source)
        with pytest.raises(UserError, match=r"no reviews in train/unsup/.*train/unsup/<id>_0\.txt"):
            read_imdb(source, unlabeled=True)


@pytest.mark.slow
def test_real_imdb_archive_unlabeled(real_data_dir):
    archive = real_data_dir / "aclImdb_v1.tar.gz"
    if not archive.exists():
        pytest.skip(f"{archive} not found")
    splits = read_imdb(archive, unlabeled=True)
    train, unsup = splits["train"], splits[UNSUP]
    assert (len(train), len(splits["test"]), len(unsup)) == (25_000, 25_000, 50_000)
    assert len(set(train.groups)) == 3456 and unsup.skipped_empty == 0
    # The unlabelled reviews are of 7091 movies, none of them a labelled review's.
    labelled_movies = set(train.groups) | set(splits["test"].groups)
    assert len(set(unsup.groups)) == 7091 and not set(unsup.groups) & labelled_movies
