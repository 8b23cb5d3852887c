import numpy as np
import pytest

from seqrnn.data.documents import (
    EOS,
    DocumentSplits,
    build_word_vocab,
    encode_documents,
    load_documents,
)
from seqrnn.data.imdb import read_imdb
from seqrnn.data.labels import split_balanced
from seqrnn.data.sentiment_sets import load_sentiment
from seqrnn.data.stream import StreamBatches
from seqrnn.data.tokenize import tokenize
from seqrnn.data.vocab import UNK_ID, WordVocab
from seqrnn.errors import UserError
from tests.test_imdb import MOVIE_REVIEWS, archive_of, make_imdb_with_movies
from tests.wording import raises_as_cli

MOVIE_OF = {text: movie for items in MOVIE_REVIEWS.values() for *_, text, movie in items}
TEST_TEXTS = {text for (split, _), items in MOVIE_REVIEWS.items() if split == "test"
              for _, _, text, _ in items}


@pytest.mark.parametrize("seed", range(4))
def test_imdb_holds_out_the_classifiers_validation_movies(tmp_path, seed):
    root = make_imdb_with_movies(tmp_path)
    docs = load_documents(root, val_fraction=0.5, seed=seed)
    classifier = load_sentiment(root, val_fraction=0.5, seed=seed)
    assert docs.held_out_movies == set(classifier.val.groups.tolist())
    val_movies = {MOVIE_OF[text] for text in classifier.val.texts}
    assert len(val_movies) == 2  # each training movie has one review of each class
    # Validation: the classifier's validation reviews, then the unlabelled ones of its movies.
    assert docs.val[: len(classifier.val)] == classifier.val.texts
    unsup = [text for *_, text, movie in sorted(MOVIE_REVIEWS["train", "unsup"])
             if movie in val_movies]
    assert docs.val[len(classifier.val):] == unsup and unsup
    assert not {MOVIE_OF[text] for text in docs.train} & val_movies
    # Everything else of train and unsup is training; no test review is anywhere.
    assert len(docs.train) + len(docs.val) == 8 + 6
    assert set(classifier.train.texts) <= set(docs.train)
    assert not (set(docs.train) | set(docs.val)) & TEST_TEXTS


def test_imdb_archive_and_folder_give_the_same_documents(tmp_path):
    root = make_imdb_with_movies(tmp_path / "folder")
    archive = archive_of(root, tmp_path / "aclImdb_v1.tar.gz")
    assert load_documents(archive, seed=3, val_fraction=0.5) == load_documents(
        root.parent, seed=3, val_fraction=0.5)


def test_imdb_without_movie_lists(tmp_path):
    root = make_imdb_with_movies(tmp_path)
    (root / "train" / "urls_unsup.txt").unlink()
    with pytest.raises(UserError, match=r"lacks complete movie lists.*urls_\{neg,pos,unsup\}"):
        load_documents(root, val_fraction=0.5)


def test_imdb_validation_too_small(tmp_path):
    with raises_as_cli(r"--val-fraction 0\.01 of the 4 examples .* holds out none"):
        load_documents(make_imdb_with_movies(tmp_path), val_fraction=0.01)


def test_folder_of_text_files(tmp_path):
    for name, text in [("b.txt", "two"), ("a.txt", "one"), ("c.TXT", "three"),
                       ("notes.md", "ignored"), ("d.txt", "four")]:
        (tmp_path / name).write_text(text)
    (tmp_path / "sub.txt").mkdir()
    assert load_documents(tmp_path, val_fraction=0.3) == DocumentSplits(
        train=["one", "two", "three"], val=["four"])  # by name; round(0.3 * 4) = 1
    assert load_documents(tmp_path, val_fraction=0.1).val == ["four"]  # at least one
    assert load_documents(tmp_path, val_fraction=0).val == []


def test_text_file_is_one_document_cut_between_words(tmp_path):
    text = "alpha beta\ngamma delta epsilon\nzeta eta"
    (tmp_path / "corpus.txt").write_text(text)
    docs = load_documents(tmp_path / "corpus.txt", val_fraction=0.2)
    assert len(docs.train) == len(docs.val) == 1 and docs.held_out_movies is None
    assert docs.train[0] + docs.val[0] == text
    assert tokenize(docs.train[0]) + tokenize(docs.val[0]) == tokenize(text)  # no word split
    assert tokenize(docs.val[0]) == ["zeta", "eta"]


def test_table_rows_split_at_random_with_the_seed(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("review,sentiment\n" + "".join(f"row {i},{i % 2}\n" for i in range(10)))
    docs = load_documents(path, val_fraction=0.3, seed=5)
    assert len(docs.val) == 3 and sorted(docs.train + docs.val) == sorted(
        f"row {i}" for i in range(10))
    assert docs.train == sorted(docs.train, key=lambda r: int(r.split()[1]))  # file order
    assert load_documents(path, val_fraction=0.3, seed=5) == docs
    assert {tuple(load_documents(path, val_fraction=0.3, seed=s).val) for s in range(5)} != {
        tuple(docs.val)}


def test_a_table_needs_only_its_text_column(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("id,body\n" + "".join(f"{i},doc {i}\n" for i in range(10)) + "10,  \n")
    docs = load_documents(path, val_fraction=0.2, seed=1, text_column="body")
    assert sorted(docs.train + docs.val) == sorted(f"doc {i}" for i in range(10))
    with raises_as_cli(r"no column 'text' \(columns found: id, body\); name the text column "
                       r"with --text-column$"):
        load_documents(path, val_fraction=0.2)


@pytest.mark.parametrize("files, source, pattern", [
    ({}, "missing.txt", r"^--data: no such file or dataset: .*missing\.txt"),
    ({}, ".", r"has no \.txt files; pass --data a folder"),
    ({"one.txt": "only"}, ".", r"--val-fraction 0\.5 of 1 files leaves none for training"),
    ({"w.txt": "word"}, "w.txt", r"--val-fraction 0\.5 of .*w\.txt leaves no training words"),
])
def test_bad_inputs_name_the_field(tmp_path, files, source, pattern):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with raises_as_cli(pattern) as info:
        load_documents(tmp_path / source, val_fraction=0.5)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("fraction", [1.0, -0.1])
def test_val_fraction_out_of_range(tmp_path, fraction):
    (tmp_path / "a.txt").write_text("a b c")
    with raises_as_cli(r"--val-fraction must be at least 0 and below 1"):
        load_documents(tmp_path / "a.txt", val_fraction=fraction)


def test_tokenizer_never_gives_eos():
    assert EOS not in tokenize(f"the end {EOS} <EOS> <eos>")


def test_vocab_counts_training_documents_and_one_eos_each(tmp_path):
    for name, text in [("1.txt", "the cat sat"), ("2.txt", "the dog"), ("3.txt", "the cat"),
                       ("4.txt", "the zebra zebra zebra")]:
        (tmp_path / name).write_text(text)
    docs = load_documents(tmp_path, val_fraction=0.25)
    vocab = build_word_vocab(docs.train, min_freq=2)
    assert vocab.words == (EOS, "the", "cat")  # EOS: 3, "the": 3, "cat": 2; ties by name
    assert build_word_vocab(docs.train, max_vocab=2).words == (EOS, "the")
    assert "zebra" not in build_word_vocab(docs.train)  # a validation word


def test_eos_always_gets_an_id():
    assert build_word_vocab(["a a a b b b"], min_freq=2).words == ("a", "b", EOS)
    assert build_word_vocab(["a a a b b b"], max_vocab=2).words == ("a", EOS)


def test_encode_puts_eos_after_every_document():
    vocab = build_word_vocab(["a b", "b c"])
    ids = encode_documents(["a b", "zebra", "", "c!"], vocab)
    eos = vocab.id_of(EOS)
    a, b, c = (vocab.id_of(w) for w in "abc")
    assert ids.dtype == np.int64
    assert ids.tolist() == [a, b, eos, UNK_ID, eos, eos, c, UNK_ID, eos]
    assert encode_documents([], vocab).tolist() == []
    assert len(StreamBatches(ids, batch_size=2, num_steps=2)) == 2  # the char model's layout


def test_encode_needs_a_language_model_vocabulary():
    with raises_as_cli(r"has no <eos> token"):
        encode_documents(["a"], WordVocab(("a",)))


def test_no_output_without_progress(tmp_path, capsys):
    root = make_imdb_with_movies(tmp_path)
    docs = load_documents(root, val_fraction=0.5)
    encode_documents(docs.train, build_word_vocab(docs.train))
    assert capsys.readouterr() == ("", "")


@pytest.mark.slow
def test_real_imdb(real_data_dir):
    archive = real_data_dir / "aclImdb_v1.tar.gz"
    if not archive.exists():
        pytest.skip(f"{archive} not found")
    docs = load_documents(archive, val_fraction=0.1, seed=1)
    _, val = split_balanced(read_imdb(archive)["train"], 0.1, seed=1)
    assert docs.held_out_movies == set(val.groups.tolist()) and len(docs.held_out_movies) == 348
    # The unlabelled reviews are of other movies, so they are all training.
    assert (len(docs.train), len(docs.val)) == (22_500 + 50_000, 2_500)
    assert docs.val == val.texts
    vocab = build_word_vocab(docs.train[:2000], min_freq=2, max_vocab=5000)
    ids = encode_documents(docs.val[:100], vocab)
    assert (ids == vocab.id_of(EOS)).sum() == 100


def test_a_glob_of_files_gives_one_document_each_in_path_order(tmp_path):
    (tmp_path / "b").mkdir()
    for name, text in [("b/2.md", "two"), ("a.md", "one"), ("b/3.md", "three"),
                       ("skip.txt", "ignored")]:
        (tmp_path / name).write_text(text)
    assert load_documents(str(tmp_path / "**" / "*.md"), val_fraction=0.3) == DocumentSplits(
        train=["one", "two"], val=["three"])
    with pytest.raises(UserError, match="matches no file"):
        load_documents(str(tmp_path / "*.nothing"), val_fraction=0.3)
