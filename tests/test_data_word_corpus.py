"""Prepared word corpora: the ids `load_documents`, `build_word_vocab` and `encode_documents`
give in memory, whatever the chunks; reused by content and settings; memory of the counts."""

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from seqrnn.data import prepared, text_stream
from seqrnn.data.documents import EOS, build_word_vocab, encode_documents, load_documents
from seqrnn.data.word_corpus import encode_text_file, prepare_words, word_corpus_files
from seqrnn.errors import UserError


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(prepared.CACHE_ENV, str(tmp_path / "cache"))


REVIEW = ("Great movie!<br />It was<BR/>fun, don't you think?\r\nYes  it\twas.<br  />"
          "SO GOOD... 10/10 <br\n/> would watch again; ")


@pytest.fixture
def sources(tmp_path):
    one = tmp_path / "one.txt"
    one.write_text("\ufeff" + REVIEW * 9 + "The end.", encoding="utf-8")
    folder = tmp_path / "docs"
    folder.mkdir()
    for i, text in enumerate(["Doc one, here.<br />More", "  ", REVIEW * 3, "last; val?"]):
        (folder / f"{i}.txt").write_text(text, encoding="utf-8")
    (folder / "ignored.md").write_text("not a document", encoding="utf-8")
    return {"one text": str(one), "folder": str(folder), "glob": str(folder / "*.txt")}


def assert_same(location, val_fraction=0.1, min_freq=1, max_vocab=None):
    files, one_text = word_corpus_files(location)
    corpus = prepare_words(files, one_text=one_text, val_fraction=val_fraction,
                           min_freq=min_freq, max_vocab=max_vocab)
    docs = load_documents(location, val_fraction=val_fraction)
    vocab = build_word_vocab(docs.train, min_freq=min_freq, max_vocab=max_vocab)
    assert corpus.vocab == vocab
    assert np.array_equal(corpus.train, encode_documents(docs.train, vocab))
    assert np.array_equal(corpus.val, encode_documents(docs.val, vocab))
    return corpus


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8, 13, 1 << 22])
@pytest.mark.parametrize("source", ["one text", "folder", "glob"])
def test_prepared_words_are_the_documents_tokenized_whole_whatever_the_chunks(
        sources, monkeypatch, chunk, source):
    # Chunks cut words, CRLFs and HTML line breaks (<br />, <BR/>, <br\n/>) in every place.
    monkeypatch.setattr(text_stream, "CHUNK_BYTES", chunk)
    assert_same(sources[source], val_fraction=0.3)


def test_the_vocabulary_cutoffs_and_eos_are_chosen_as_in_memory(sources):
    # max_vocab 3 drops EOS from the counted words: it takes the last place, as in memory.
    corpus = assert_same(sources["one text"], min_freq=2, max_vocab=3)
    assert corpus.vocab.words[-1] == EOS and len(corpus.vocab.words) == 3
    assert_same(sources["folder"], min_freq=3)


def test_a_second_preparation_reuses_it_and_other_settings_or_content_do_not(sources):
    files, one_text = word_corpus_files(sources["one text"])
    first = prepare_words(files, one_text=one_text)
    assert prepare_words(files, one_text=one_text).reused
    assert not prepare_words(files, one_text=one_text, min_freq=2).reused
    Path(files[0]).write_text(REVIEW * 5, encoding="utf-8")
    assert prepare_words(files, one_text=one_text).path != first.path


def test_a_split_leaving_no_words_is_refused_as_in_memory(tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("oneverylongword tail", encoding="utf-8")
    for reader in (lambda: prepare_words([path], one_text=True, val_fraction=0.9),
                   lambda: load_documents(str(path), val_fraction=0.9)):
        with pytest.raises(UserError, match="leaves no training words") as caught:
            reader()
        assert caught.value.field == "val_fraction"


def test_imdb_tables_and_names_stay_in_memory(tmp_path):
    (tmp_path / "aclImdb" / "train").mkdir(parents=True)
    table = tmp_path / "reviews.csv"
    table.write_text("text\nfine\n", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    for location in (tmp_path, table, "imdb", tmp_path / "empty", tmp_path / "missing.txt"):
        assert word_corpus_files(str(location)) is None


def _counting_peak(path: Path, megabytes: int) -> int:
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(megabytes * 2**20 // len(REVIEW)):
            f.write(REVIEW)
    tracemalloc.start()
    try:
        corpus = prepare_words([path], one_text=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(corpus.train) > megabytes * 2**20 // len(REVIEW) * 20
    return peak


def test_memory_while_preparing_is_the_counts_and_a_few_chunks(tmp_path, monkeypatch):
    chunk = 1 << 18
    monkeypatch.setattr(text_stream, "CHUNK_BYTES", chunk)
    small = _counting_peak(tmp_path / "small.txt", 2)
    large = _counting_peak(tmp_path / "large.txt", 8)
    assert large < 40 * chunk, large  # the text held whole, or its tokens, would be more
    assert large < small * 1.2, (small, large)


def test_a_text_to_score_is_one_document_after_a_documents_end(sources, tmp_path):
    files, _ = word_corpus_files(sources["one text"])
    vocab = build_word_vocab(["great movie it was fun"])
    ids = encode_text_file(files[0], vocab, tmp_path)
    text = load_documents(sources["one text"], val_fraction=0).train
    assert np.array_equal(ids, [vocab.id_of(EOS), *encode_documents(text, vocab)])
