import json

import numpy as np
import pytest
import torch

from seqrnn.data.text import (
    CharVocab,
    drop_unknown,
    load_text,
    normalize_newlines,
    prepare_hamlet,
    read_text,
    split_sizes,
    split_text,
)
from seqrnn.errors import UserError, flag
from tests.wording import raises_as_cli

GUTENBERG_LIKE = (
    "Project Gutenberg Etext of The Tragedie of Hamlet\r\n"
    "\r\n"
    "The Tragedie of Hamlet\r\n"
    "\r\n"
    "by William Shakespeare\r\n"
    "\r\n"
    "The Tragedie of Hamlet\r\n"
    "\r\n"
    "Actus Primus. Scoena Prima.\r\n"
    "\r\n"
    "Enter Barnardo and Francisco two Centinels.\r\n"
)


@pytest.fixture
def offline_datasets(tmp_path, monkeypatch):
    """A $SEQRNN_DATA folder in tmp_path, and an empty cache, so names never download."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("SEQRNN_DATA", str(data))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return data


# --- reading ---------------------------------------------------------------


def test_crlf_and_lone_cr_become_lf(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"one\r\ntwo\rthree\nfour\r\n\r\n")
    assert read_text(path) == "one\ntwo\nthree\nfour\n\n"
    assert normalize_newlines("a\r\r\nb") == "a\n\nb"


def test_utf8_text_is_read_as_is(tmp_path):
    path = tmp_path / "u.txt"
    path.write_text("Ophélie — ψ\n", encoding="utf-8")
    assert read_text(path) == "Ophélie — ψ\n"


def test_byte_order_mark_is_not_text(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfhi\n")
    assert read_text(path) == "hi\n"


def test_other_encoding_is_read_with_encoding_option(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("café\n".encode("latin-1"))
    assert read_text(path, encoding="latin-1") == "café\n"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "--encoding"),
        (b"ok\x00\x00\x00text", "NUL"),
        ("caf\u00e9".encode("latin-1"), "--encoding latin-1"),
        ("hi".encode("utf-16"), "--encoding"),
    ],
    ids=["empty", "png", "nul-bytes", "latin-1", "utf-16"],
)
def test_bad_files_raise_one_line_user_errors(tmp_path, content, fragment):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with raises_as_cli(fragment) as info:
        read_text(path)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_latin1_error_names_the_byte_and_offset(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("abcé".encode("latin-1"))
    with pytest.raises(UserError, match=r"byte 0xe9 at offset 3"):
        read_text(path)


def test_directory_and_missing_file_and_unknown_encoding(tmp_path):
    with pytest.raises(UserError, match="is a directory"):
        read_text(tmp_path)
    with pytest.raises(UserError, match="not found"):
        read_text(tmp_path / "absent.txt")
    with pytest.raises(UserError, match="no such file or dataset"):
        load_text(tmp_path / "absent.txt")
    path = tmp_path / "t.txt"
    path.write_text("x")
    with pytest.raises(UserError, match="unknown encoding 'klingon'"):
        read_text(path, encoding="klingon")


# --- Hamlet ----------------------------------------------------------------


def test_hamlet_starts_at_title_before_act_one_not_at_first_title():
    text = prepare_hamlet(normalize_newlines(GUTENBERG_LIKE))
    assert text == (
        "The Tragedie of Hamlet\n\nActus Primus. Scoena Prima.\n\n"
        "Enter Barnardo and Francisco two Centinels.\n"
    )


def test_hamlet_without_marker_is_a_clear_error():
    with pytest.raises(UserError, match="'The Tragedie of Hamlet' followed by 'Actus Primus'"):
        prepare_hamlet("The Tragedie of Hamlet\n\nby William Shakespeare\n")


def test_dataset_name_gets_its_preparation_but_a_path_is_used_as_is(offline_datasets):
    (offline_datasets / "pg2265.txt").write_bytes(GUTENBERG_LIKE.encode())
    assert load_text("hamlet").startswith("The Tragedie of Hamlet\n\nActus Primus.")
    assert load_text(offline_datasets / "pg2265.txt") == normalize_newlines(GUTENBERG_LIKE)


def test_named_hamlet_without_marker_fails(offline_datasets):
    (offline_datasets / "pg2265.txt").write_text("just some text\n")
    with pytest.raises(UserError, match="Gutenberg header"):
        load_text("hamlet")


def test_real_hamlet_has_65_characters(real_data_dir, monkeypatch):
    monkeypatch.setenv("SEQRNN_DATA", str(real_data_dir))
    text = load_text("hamlet")
    assert text.startswith("The Tragedie of Hamlet\n\nActus Primus. Scoena Prima.\n")
    assert "\r" not in text
    assert len(text) == 162_850
    assert len(CharVocab.from_text(text)) == 65


def test_real_tinyshakespeare_is_used_as_is(real_data_dir, monkeypatch):
    monkeypatch.setenv("SEQRNN_DATA", str(real_data_dir))
    text = load_text("tinyshakespeare")
    assert text == (real_data_dir / "tinyshakespeare.txt").read_text(encoding="utf-8")
    assert text.startswith("First Citizen:\n")
    assert len(CharVocab.from_text(text)) == 65


# --- vocabulary --------------------------------------------------------------


def test_vocab_is_sorted_and_does_not_depend_on_text_order():
    a = CharVocab.from_text("hello world\n")
    b = CharVocab.from_text("\nworld hello")
    assert a == b
    assert a.chars == ("\n", " ", "d", "e", "h", "l", "o", "r", "w")
    assert len(a) == 9


def test_encode_decode_round_trip():
    vocab = CharVocab.from_text("abc\n")
    ids = vocab.encode("cab\nba")
    assert ids.dtype == np.int64
    assert ids.tolist() == [3, 1, 2, 0, 2, 1]
    assert vocab.decode(ids) == "cab\nba"
    assert vocab.decode(torch.tensor([[1, 2], [3, 0]])) == "abc\n"
    assert vocab.decode([]) == ""
    assert vocab.encode("").tolist() == []


def test_non_ascii_encode_matches_a_plain_dict_lookup():
    text = "Ophélie ψ 日本 \U0001f600 é"
    vocab = CharVocab.from_text(text)
    lookup = {c: i for i, c in enumerate(vocab.chars)}
    assert vocab.encode(text).tolist() == [lookup[c] for c in text]


def test_unknown_chars_are_named():
    vocab = CharVocab.from_text("abc")
    assert vocab.unknown_chars("zab!xz") == ["!", "x", "z"]
    assert vocab.unknown_chars("cab") == []
    with pytest.raises(UserError, match=r"'!xz'"):
        vocab.encode("zab!xz")
    with pytest.raises(ValueError, match="ids must be in"):
        vocab.decode([3])


def test_drop_unknown_removes_and_lists_characters_outside_the_vocabulary():
    vocab = CharVocab.from_text("abc ")
    assert drop_unknown(vocab, "a cab") == ("a cab", [])
    assert drop_unknown(vocab, "a\tcab!x!") == ("acab", ["\t", "!", "x"])


def test_vocab_json_round_trip_and_a_reordered_one_is_refused():
    vocab = CharVocab.from_text("ba\n")  # stored order is what a trained model's ids mean
    loaded = CharVocab.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert loaded == vocab and loaded.encode("ab\n").tolist() == [1, 2, 0]
    assert CharVocab.from_dict(vocab.to_dict()) == vocab
    # The builder sorts: another order would shift every id the weights were trained on.
    with pytest.raises(UserError, match=r"invalid character vocabulary \(the characters are "
                                        r"not in sorted order\); the vocab.json is damaged"):
        CharVocab.from_dict({"chars": ["b", "\n", "a"]})


@pytest.mark.parametrize("data", [{}, {"chars": "abc"}, {"chars": ["a", "a"]}, {"chars": ["ab"]}])
def test_damaged_vocab_is_a_user_error(data):
    with pytest.raises(UserError, match="vocab.json is damaged"):
        CharVocab.from_dict(data)


# --- splits --------------------------------------------------------------------


def test_default_split_is_last_tenth_for_validation():
    text = "".join(chr(ord("a") + i % 26) for i in range(1000))
    splits = split_text(text)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (900, 100, 0)
    assert splits.train == text[:900]
    assert splits.val == text[900:]


def test_test_split_is_last_and_validation_just_before_it():
    text = "".join(chr(ord("a") + i % 26) for i in range(1003))
    splits = split_text(text, val_fraction=0.1, test_fraction=0.05)
    assert split_sizes(1003, 0.1, 0.05) == (853, 100, 50)
    assert splits.train + splits.val + splits.test == text
    assert splits.val == text[853:953]
    assert splits.test == text[953:]


def test_zero_validation_fraction_keeps_everything_for_training():
    assert split_text("abcdef", val_fraction=0.0) == split_text("abcdef", 0.0, 0.0)
    assert split_text("abcdef", val_fraction=0.0).train == "abcdef"


@pytest.mark.parametrize(
    ("val", "test", "fragment"),
    [
        (1.0, 0.0, "--val-fraction must be at least 0 and below 1"),
        (-0.1, 0.0, "--val-fraction must be"),
        (0.1, 1.5, "--test-fraction must be"),
        (float("nan"), 0.0, "--val-fraction must be"),
        (0.6, 0.4, "leave no training text"),
    ],
)
def test_bad_fractions_are_user_errors(val, test, fragment):
    with pytest.raises(UserError) as error:
        split_sizes(1000, val, test)
    assert fragment in error.value.render(flag)  # as the command line words it
    assert error.value.field in ("val_fraction", "test_fraction")


def test_fraction_of_less_than_one_character_is_an_error():
    with pytest.raises(UserError, match="less than one character"):
        split_text("abcde", val_fraction=0.1)


def test_a_folder_or_a_glob_is_read_as_its_files_in_sorted_order(tmp_path):
    from seqrnn.data.text import load_text

    books = tmp_path / "books"
    (books / "b").mkdir(parents=True)
    (books / "a.txt").write_text("first\n")
    (books / "b" / "c.txt").write_text("second, no newline")
    (books / "notes.md").write_text("# not text for the folder\n")
    assert load_text(str(books)) == "first\nsecond, no newline\n"
    assert load_text(str(books / "**" / "*.md")) == "# not text for the folder\n"
    assert load_text(str(books / "*.txt")) == "first\n"


def test_a_folder_without_text_or_a_glob_matching_nothing_is_one_line(tmp_path):
    from seqrnn.data.text import load_text

    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=r"holds no \.txt file: give a folder of text files"):
        load_text(str(tmp_path / "empty"))
    with pytest.raises(UserError, match="matches no file: check it"):
        load_text(str(tmp_path / "*.nothing"))
