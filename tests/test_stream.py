import numpy as np
import pytest
import torch

from seqrnn.data.stream import StreamBatches
from seqrnn.data.text import CharVocab, load_text
from seqrnn.errors import UserError, flag
from tests.wording import raises_as_cli


def test_exact_windows_of_the_docstring_picture():
    batches = StreamBatches(torch.arange(25), batch_size=3, num_steps=3)
    assert len(batches) == 2
    x0, y0 = batches[0]
    x1, y1 = batches[1]
    assert x0.tolist() == [[0, 1, 2], [6, 7, 8], [12, 13, 14]]
    assert y0.tolist() == [[1, 2, 3], [7, 8, 9], [13, 14, 15]]
    assert x1.tolist() == [[3, 4, 5], [9, 10, 11], [15, 16, 17]]
    assert y1.tolist() == [[4, 5, 6], [10, 11, 12], [16, 17, 18]]
    assert x0.dtype == y0.dtype == torch.int64
    assert x0.is_contiguous() and y1.is_contiguous()  # the loss may .view(-1) them


def test_targets_are_inputs_shifted_by_one_and_rows_continue_across_windows():
    stream = np.arange(1000) * 7 % 101  # not a range, so a shifted index would show
    batches = StreamBatches(stream, batch_size=4, num_steps=5)
    assert len(batches) == 999 // 20
    windows = list(batches)
    for x, y in windows:
        assert x.shape == y.shape == (4, 5)
        assert torch.equal(x[:, 1:], y[:, :-1])
    for i in range(len(windows) - 1):
        assert torch.equal(windows[i][1][:, -1], windows[i + 1][0][:, 0])
    rows = torch.cat([x for x, _ in windows], dim=1)  # (4, row_len): each row is a text piece
    row_len = len(windows) * 5
    for r in range(4):
        assert rows[r].tolist() == stream[r * row_len : (r + 1) * row_len].tolist()


def test_remainder_is_dropped_and_exact_fit_needs_one_extra_id():
    assert len(StreamBatches(torch.arange(2 * 3 * 4 + 1), 2, 3)) == 4
    assert len(StreamBatches(torch.arange(2 * 3 * 4), 2, 3)) == 3
    assert len(StreamBatches(torch.arange(2 * 3 * 4 + 6), 2, 3)) == 4


def test_window_index_out_of_range():
    batches = StreamBatches(torch.arange(100), 2, 3)
    with pytest.raises(IndexError):
        batches[len(batches)]


def test_too_short_text_says_how_long_it_must_be():
    with pytest.raises(UserError) as info:
        StreamBatches(torch.arange(64), batch_size=8, num_steps=8)
    message = info.value.render(flag)  # as the command line words it
    assert info.value.fields == ("batch_size", "num_steps")
    assert "64 characters" in message
    assert "at least 65" in message
    assert "--batch-size" in message and "--num-steps" in message
    assert len(StreamBatches(torch.arange(65), batch_size=8, num_steps=8)) == 1


def test_bad_sizes():
    with raises_as_cli("--batch-size must be at least 1"):
        StreamBatches(torch.arange(10), 0, 2)
    with raises_as_cli("--num-steps must be at least 1"):
        StreamBatches(torch.arange(10), 2, 0)


def test_lecture_layout_on_real_hamlet(real_data_dir, monkeypatch):
    monkeypatch.setenv("SEQRNN_DATA", str(real_data_dir))
    text = load_text("hamlet")
    vocab = CharVocab.from_text(text)
    ids = vocab.encode(text)
    assert len(StreamBatches(ids, 64, 10)) * 10 == 2540  # the lecture's (64, 2540) arrays
    batches = StreamBatches(ids, 64, 15)
    assert [vocab.decode(batches[i][0][0]) for i in range(3)] == [
        "The Tragedie of",
        " Hamlet\n\nActus ",
        "Primus. Scoena ",
    ]
    assert vocab.decode(batches[1][1][0]) == "Hamlet\n\nActus P"


def test_all_of_a_short_validation_stream_is_cut_as_training_cuts_it():
    from seqrnn.data.stream import evaluation_rows

    ids = np.arange(26)
    rows = evaluation_rows(ids, rows=3, num_steps=4)  # 25 predictions: 3 rows of 8
    assert rows.tolist() == [list(range(0, 9)), list(range(8, 17)), list(range(16, 25))]
    assert evaluation_rows(ids, rows=50, num_steps=4).shape == (6, 5)  # rows of a window at least


def test_a_long_validation_stream_is_sampled_the_same_at_every_evaluation():
    from seqrnn.data import stream

    ids = np.arange(1_000_001)
    rows = stream.evaluation_rows(ids, rows=8, num_steps=100, tokens=4000)
    assert rows.shape == (8, 501)
    assert np.array_equal(rows, stream.evaluation_rows(ids, 8, 100, tokens=4000))
    assert (np.diff(rows, axis=1) == 1).all()  # each row a contiguous span
    part = 1_000_000 // 8
    assert [int(r[0]) // part for r in rows] == list(range(8))  # one span in each eighth
    assert (rows[:, -1] // part == np.arange(8)).all()
    assert stream.evaluation_rows(ids, 8, 100, tokens=0).shape == (8, part + 1)  # all of it
    # Automatic: all of a stream up to AUTO_EVAL_TOKENS, a sample of that many beyond.
    assert stream.evaluation_rows(ids, 8, 100).size == 8 * (part + 1)
    small = stream.AUTO_EVAL_TOKENS
    stream.AUTO_EVAL_TOKENS = 1000
    try:
        assert stream.evaluation_rows(ids, 8, 100).shape == (8, 126)
    finally:
        stream.AUTO_EVAL_TOKENS = small


def test_the_evaluation_budget_is_checked():
    from seqrnn.configs import CharLMData, WordLMData

    for cls in (CharLMData, WordLMData):
        assert cls(eval_tokens=0).eval_tokens == 0
        with pytest.raises(UserError) as caught:
            cls(eval_tokens=-5)
        assert caught.value.field == "eval_tokens"
        assert "0 (all of validation) or positive, got -5" in str(caught.value)


def test_windows_read_a_memory_mapped_stream_of_a_narrow_type_as_a_list_gives_them(tmp_path):
    ids = (np.arange(1001) * 7) % 300
    path = tmp_path / "ids.u16"
    ids.astype(np.uint16).tofile(path)
    mapped = StreamBatches(np.memmap(path, dtype=np.uint16, mode="r"), 4, 10)
    listed = StreamBatches(ids.tolist(), 4, 10)
    assert len(mapped) == len(listed) == 25
    for i in (0, 13, 24, -1):
        for a, b in zip(mapped[i], listed[i], strict=True):
            assert a.dtype == torch.int64 and a.is_contiguous() and torch.equal(a, b)


def test_a_corpus_encodes_to_a_byte_a_character_and_the_same_ids():
    vocab = CharVocab.from_text("hello world ñ")
    text = "hello world ñ" * 1000
    compact = vocab.encode(text, vocab.dtype)
    assert compact.dtype == np.uint8 and vocab.encode(text).dtype == np.int64
    assert np.array_equal(compact, vocab.encode(text))
    assert CharVocab(tuple(chr(0x100 + i) for i in range(300))).dtype == np.uint16
