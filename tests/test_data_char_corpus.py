"""Prepared character corpora: the same ids as the text in memory, reused by content,
refused when damaged, nothing half-written left behind, memory bounded by the chunk."""

import tracemalloc
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from seqrnn.data import char_corpus, prepared, text_stream
from seqrnn.data.char_corpus import encode_files, prepare_text
from seqrnn.data.text import CharVocab, drop_unknown, load_text, split_text
from seqrnn.errors import UserError
from tests.test_data_prepared import leftovers


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(prepared.CACHE_ENV, str(tmp_path / "cache"))


def in_memory(location, val_fraction=0.1, test_fraction=0.0):
    """What the character model trained on before corpora were prepared."""
    splits = split_text(load_text(str(location)), val_fraction, test_fraction)
    vocab = CharVocab.from_text(splits.train)
    return vocab, vocab.encode(splits.train), vocab.encode(drop_unknown(vocab, splits.val)[0])


def assert_same(prepared, location, **fractions):
    vocab, train, val = in_memory(location, **fractions)
    assert prepared.vocab == vocab
    assert prepared.train.dtype == vocab.dtype
    assert np.array_equal(prepared.train, train) and np.array_equal(prepared.val, val)


TRICKY = ("\ufeffFirst line\r\nsecond\rthird\r\n" + "ü" * 7 + "🙂\r" + "plain " * 9
          + "\r\nend ß\r\n").encode("utf-8")


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 22])
def test_a_prepared_file_has_the_ids_of_the_text_in_memory_whatever_the_chunks(
        tmp_path, monkeypatch, chunk):
    # Chunks cut a CRLF, a multi-byte character and the byte order mark in every place.
    monkeypatch.setattr(text_stream, "CHUNK_BYTES", chunk)
    path = tmp_path / "text.txt"
    path.write_bytes(TRICKY)
    prepared = prepare_text([path], val_fraction=0.3, test_fraction=0.1)
    assert_same(prepared, path, val_fraction=0.3, test_fraction=0.1)
    assert not prepared.reused


def test_validation_characters_unseen_in_training_are_dropped_as_in_memory(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("abab" * 20 + "xyz ab Ω", encoding="utf-8")
    prepared = prepare_text([path], val_fraction=0.1)
    assert prepared.vocab.chars == ("a", "b")
    assert prepared.vocab.decode(prepared.val) == "ab"  # of the last 8: "xyz ab Ω"
    assert_same(prepared, path)


def test_a_folder_is_its_files_in_order_each_ending_with_a_newline(tmp_path):
    folder = tmp_path / "books"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.txt").write_text("second book, no final newline", encoding="utf-8")
    (folder / "a.txt").write_text("first book\r\n", encoding="utf-8")
    (folder / "sub" / "c.txt").write_text("third\n", encoding="utf-8")
    files = sorted(folder.rglob("*.txt"))
    prepared = prepare_text(files, newline_per_file=True, val_fraction=0.2)
    assert_same(prepared, folder, val_fraction=0.2)


@pytest.mark.parametrize("distinct, dtype", [(200, np.uint8), (3000, np.uint16),
                                             (70_000, np.uint32)])
def test_ids_take_the_narrowest_type_the_vocabulary_allows(tmp_path, distinct, dtype):
    chars = [chr(c) for c in range(0x21, 0x21 + distinct + 2048)
             if not 0xD800 <= c < 0xE000][:distinct]
    path = tmp_path / "text.txt"
    path.write_text("".join(chars) * 2, encoding="utf-8")
    prepared = prepare_text([path], val_fraction=0.4)
    assert prepared.train.dtype == dtype and len(prepared.vocab) == distinct
    assert_same(prepared, path, val_fraction=0.4)


def test_a_second_preparation_of_the_same_content_reuses_it_and_a_change_is_noticed(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("the same text " * 50, encoding="utf-8")
    first = prepare_text([path])
    again = prepare_text([path])
    assert again.reused and again.path == first.path
    assert not prepare_text([path], val_fraction=0.2).reused  # other settings, other ids
    path.write_text("the same text " * 49 + "but changed ", encoding="utf-8")
    changed = prepare_text([path])
    assert not changed.reused and changed.path != first.path
    assert_same(changed, path)


def test_a_text_changed_during_preparation_is_refused_and_nothing_is_kept(tmp_path, monkeypatch):
    path = tmp_path / "text.txt"
    path.write_text("a text that grows " * 100, encoding="utf-8")
    reads = []
    chunks = text_stream.file_chunks

    def growing(file):
        reads.append(file)
        if len(reads) == 2:  # after the content was hashed, before it is counted
            with open(file, "a", encoding="utf-8") as f:
                f.write("more")
        yield from chunks(file)

    monkeypatch.setattr(text_stream, "file_chunks", growing)
    with pytest.raises(UserError, match="changed while it was being prepared"):
        prepare_text([path])
    assert leftovers(tmp_path / "cache") == []


def test_corpus_files_names_what_is_prepared_and_leaves_names_and_pipes_in_memory(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("x", encoding="utf-8")
    assert char_corpus.corpus_files(str(path)) == ([path], False)
    assert char_corpus.corpus_files(str(tmp_path)) == ([path], True)
    assert char_corpus.corpus_files(str(tmp_path / "*.txt")) == ([path], True)
    assert char_corpus.corpus_files("hamlet") is None
    assert char_corpus.corpus_files("/dev/zero") is None  # refused by the in-memory reader
    with pytest.raises(UserError, match="matches no file"):
        char_corpus.corpus_files(str(tmp_path / "*.md"))


def _preparation_peak(path: Path, megabytes: int) -> int:
    line = "All the world's a stage, and all the men and women merely players; ü\n"
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(megabytes * 2**20 // len(line)):
            f.write(line)
    tracemalloc.start()
    try:
        prepared = prepare_text([path])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(prepared.train) + len(prepared.val) > (megabytes - 1) * 2**20
    return peak


def test_memory_while_preparing_is_a_few_chunks_whatever_the_text_size(tmp_path, monkeypatch):
    chunk = 1 << 18
    monkeypatch.setattr(text_stream, "CHUNK_BYTES", chunk)
    # numpy's and Python's allocations are traced: the text held whole would be 4 or 16 MB.
    small = _preparation_peak(tmp_path / "small.txt", 4)
    large = _preparation_peak(tmp_path / "large.txt", 16)
    assert large < 24 * chunk, large
    assert large < small * 1.1, (small, large)


def test_encode_files_scores_any_text_with_a_given_vocabulary(tmp_path):
    path = tmp_path / "eval.txt"
    path.write_text("abc\r\nxyz ab\n", encoding="utf-8")
    vocab = CharVocab(tuple("\nabc"))
    ids, length, dropped = encode_files([path], vocab, tmp_path)
    assert length == 11 and dropped == " xyz"
    assert vocab.decode(ids) == "abc\nab\n"


@pytest.mark.parametrize("reverse", [False, True])
def test_the_counts_give_the_unigram_loss_without_reading_the_ids(tmp_path, reverse):
    from seqrnn.metrics import unigram_loss
    from seqrnn.recipes.stream import prepared_sets

    path = tmp_path / "text.txt"
    path.write_bytes(TRICKY * 3)
    corpus = prepare_text([path], val_fraction=0.3)
    for ids, counts in ((corpus.train, corpus.train_counts), (corpus.val, corpus.val_counts)):
        assert np.array_equal(np.bincount(ids, minlength=len(corpus.vocab)), counts)
    if reverse:  # as the recipe reads a backward model's splits
        corpus = replace(corpus, train=corpus.train[::-1], val=corpus.val[::-1])
    sets = prepared_sets(corpus)
    assert sets.unigram == pytest.approx(unigram_loss(sets.train, sets.val[1:]), rel=1e-12)
