import pytest

from seqrnn.data.files import decode_bytes, read_vocabulary_json
from seqrnn.errors import UserError
from tests.wording import raises_as_cli


def test_decode_bytes_names_the_place_and_the_fix():
    assert decode_bytes("café".encode(), "utf-8", "x") == "café"
    with pytest.raises(UserError, match=r"r\.txt is not valid utf-8 text \(byte 0xe9 at offset 3"):
        decode_bytes("café".encode("latin-1"), "utf-8", "r.txt")
    with raises_as_cli("unknown encoding 'nope'.*--encoding"):
        decode_bytes(b"x", "nope", "r.txt")


def test_read_vocabulary_json(tmp_path):
    (tmp_path / "v.json").write_text('{"chars": ["a"]}')
    assert read_vocabulary_json(tmp_path / "v.json") == {"chars": ["a"]}
    with pytest.raises(UserError, match="not found"):
        read_vocabulary_json(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(UserError, match="cannot read vocabulary"):
        read_vocabulary_json(tmp_path / "bad.json")
