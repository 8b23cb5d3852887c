"""The cache of prepared corpora: damaged folders refused, nothing half-written reused."""

import errno
from pathlib import Path

import numpy as np
import pytest

from seqrnn.data import char_corpus, prepared
from seqrnn.data.char_corpus import open_prepared, prepare_text
from seqrnn.errors import UserError


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(prepared.CACHE_ENV, str(tmp_path / "cache"))


def test_a_damaged_or_foreign_prepared_corpus_is_refused_in_one_line(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("some text to prepare " * 40, encoding="utf-8")
    corpus = prepare_text([path])
    tokens = corpus.path / prepared.TOKENS
    data = tokens.read_bytes()
    del corpus
    tokens.write_bytes(data[:-5])  # truncated
    with pytest.raises(UserError, match="damaged .*tokens.bin holds .*delete that folder"):
        prepare_text([path])
    tokens.write_bytes(data)
    manifest = tokens.parent / prepared.MANIFEST
    manifest.write_text(manifest.read_text().replace('"kind": "chars"', '"kind": "words"'))
    with pytest.raises(UserError, match="not a seqrnn chars corpus") as caught:
        open_prepared(tokens.parent)
    assert "\n" not in str(caught.value)
    manifest.write_text("not json")
    with pytest.raises(UserError, match="damaged"):
        open_prepared(tokens.parent)

def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "corpora").iterdir()) if root.exists() else []

def test_a_full_disk_leaves_nothing_that_a_later_run_would_reuse(tmp_path, monkeypatch):
    path = tmp_path / "text.txt"
    path.write_text("text for a disk that fills " * 100, encoding="utf-8")

    def full(reader, out, *args, **kwargs):
        out.write(b"\0" * 10)  # half-written
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(char_corpus, "write_ids", full)
        with pytest.raises(UserError, match="is full: free space there, or set SEQRNN_CACHE"):
            prepare_text([path])
    assert leftovers(tmp_path / "cache") == []
    corpus = prepare_text([path])  # prepared anew, whole
    assert not corpus.reused
    assert corpus.vocab.decode(np.concatenate([corpus.train, corpus.val])) == path.read_text()

def test_an_unwritable_cache_is_named_with_the_fix(tmp_path, monkeypatch):
    path = tmp_path / "text.txt"
    path.write_text("some text " * 30, encoding="utf-8")
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv(prepared.CACHE_ENV, str(blocker))
    with pytest.raises(UserError, match="set SEQRNN_CACHE to a writable folder"):
        prepare_text([path])


def test_a_folder_another_process_finished_first_is_kept(tmp_path):
    folder = tmp_path / "cache" / "corpora" / "chars-same"

    def write(content: bytes):
        counts = prepared.IdCounts(1)
        counts.add("train", np.zeros(len(content), dtype=np.uint8))
        return lambda out: (out.write(content), counts.manifest())[1]

    manifest = {"kind": "chars", "dtype": "uint8"}
    prepared.write_folder(folder, {"chars": ["a"]}, manifest, 1, write(b"\0"))
    prepared.write_folder(folder, {"chars": ["a"]}, manifest, 2, write(b"\0\0"))  # the loser
    assert (folder / prepared.TOKENS).read_bytes() == b"\0"
    assert leftovers(tmp_path / "cache") == ["chars-same"]
    assert len(open_prepared(folder).train) == 1
