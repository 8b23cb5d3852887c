import io
import os
import threading

import pytest

from seqrnn.data.files import decode_bytes, read_bounded, read_input
from seqrnn.errors import UserError
from tests.wording import raises_as_cli


def test_decode_bytes_names_the_place_and_the_fix():
    assert decode_bytes("café".encode(), "utf-8", "x") == "café"
    with pytest.raises(UserError, match=r"r\.txt is not valid utf-8 text \(byte 0xe9 at offset 3"):
        decode_bytes("café".encode("latin-1"), "utf-8", "r.txt")
    with raises_as_cli("unknown encoding 'nope'.*--encoding"):
        decode_bytes(b"x", "nope", "r.txt")


def test_read_input_refuses_a_device_before_reading_it():
    with pytest.raises(UserError, match="/dev/zero is a device, not a file"):
        read_input("/dev/zero")  # would never end


def test_read_input_refuses_a_file_over_the_limit_by_its_size(tmp_path, monkeypatch):
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 2000)
    assert read_input(path) == b"x" * 2000
    monkeypatch.setenv("SEQRNN_MEMORY_LIMIT", "10K")  # inputs up to 1 KiB
    with pytest.raises(UserError, match=r"big\.txt holds more than 1\.0 KiB, the most an input "
                       r"may have \(a tenth of the memory budget\).*SEQRNN_MEMORY_LIMIT"):
        read_input(path)
    assert read_input(path, limit=None) == b"x" * 2000  # a caller's own limit, asked once
    with pytest.raises(UserError, match=r"big\.txt holds more than 1\.0 KiB"):
        read_input(path, limit=1024)
    with pytest.raises(FileNotFoundError):  # worded by each caller, with its own field
        read_input(tmp_path / "missing.txt")


def test_read_input_reads_a_pipe_up_to_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQRNN_MEMORY_LIMIT", "10M")  # inputs up to 1 MiB
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def write(count: int) -> None:
        try:
            with open(fifo, "wb") as f:
                f.write(b"y" * count)
        except BrokenPipeError:  # the reader stopped at its limit
            pass

    for count, fits in ((1000, True), (3 * 2**20, False)):
        writer = threading.Thread(target=write, args=(count,))
        writer.start()
        if fits:
            assert read_input(fifo) == b"y" * count
        else:
            with pytest.raises(UserError, match="holds more than 1.0 MiB"):
                read_input(fifo)
        writer.join()


def test_read_bounded_reads_text_and_bytes_streams():
    assert read_bounded(io.StringIO("abc"), "x", 3) == "abc"
    assert read_bounded(io.BytesIO(b""), "x", 3) == b""
    assert read_bounded(io.BytesIO(b"abc"), "x", None) == b"abc"
    with pytest.raises(UserError, match="standard input holds more than"):
        read_bounded(io.StringIO("abcd"), "standard input", 3)
