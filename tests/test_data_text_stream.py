"""Text files read a chunk at a time, refused as reading them whole refuses them."""

import pytest

from seqrnn.data import prepared, text_stream
from seqrnn.data.char_corpus import prepare_text
from seqrnn.data.text import load_text
from seqrnn.errors import UserError


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(prepared.CACHE_ENV, str(tmp_path / "cache"))


@pytest.mark.parametrize("content, message", [
    (b"", "is empty; pass a file that contains text"),
    (b"text\x00with a NUL", "contains NUL characters"),
    (b"valid start \xff\xfe", r"is not valid utf-8 text \(byte 0xff at offset 12\)"),
])
def test_bad_text_is_refused_as_reading_it_in_memory_refuses_it(tmp_path, monkeypatch,
                                                                content, message):
    monkeypatch.setattr(text_stream, "CHUNK_BYTES", 5)  # the bad byte is past the first chunk
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        prepare_text([path])
    with pytest.raises(UserError, match=message):
        load_text(str(path))
    with pytest.raises(UserError, match="unknown encoding 'nope'"):
        prepare_text([path], encoding="nope")

def test_pieces_are_the_text_as_read_whole_with_line_ends_as_lf(tmp_path, monkeypatch):
    monkeypatch.setattr(text_stream, "CHUNK_BYTES", 2)
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_bytes("\ufeffone\r\ntwo\rthree".encode("utf-8"))
    second.write_bytes("four ü\r".encode())
    reader = text_stream.TextReader([first, second], newline_per_file=True)
    pieces = list(reader.pieces("reading"))
    assert "".join(text for _, text in pieces) == load_text(str(tmp_path))
    assert [index for index, _ in pieces] == sorted(index for index, _ in pieces)
