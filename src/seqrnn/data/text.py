"""Plain text for the character language model: loading, vocabulary, splits.

`load_text` reads any UTF-8 (or `--encoding`) text file, or a named dataset
found by `seqrnn.data.locate`; a named dataset then gets its own preparation
from `PREPARATIONS` (Hamlet drops its Project Gutenberg header). `CharVocab`
maps characters to ids in sorted order, so the same text always gives the same
ids (the lecture's `set()` order changes from run to run). `split_text` cuts
validation and test text off the end of the stream.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqrnn.configs import require_fractions
from seqrnn.data.files import decode_bytes, is_pattern, matching_files, read_input
from seqrnn.errors import UserError, field_error

# The play begins at this title line when the next non-blank line opens Act I;
# the same title also appears in the Gutenberg header, so the title alone is not enough.
_HAMLET_START = re.compile(r"^The Tragedie of Hamlet[ \t]*\n(?:[ \t]*\n)*Actus Primus", re.M)


def normalize_newlines(text: str) -> str:
    """CRLF and lone CR become LF, so Windows and old Mac files give the same characters."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: str | os.PathLike, encoding: str = "utf-8") -> str:
    """Read a text file with LF line endings; raise UserError on anything that is not text."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a directory, not a text file; pass the path of a file")
    try:
        raw = read_input(path)
    except FileNotFoundError:
        raise UserError(f"text file not found: {path}; check the path") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}; check the file") from None
    text = decode_bytes(raw, encoding, str(path))
    if "\x00" in text:
        raise UserError(
            f"{path} contains NUL characters: it is binary, or text in another encoding "
            "(such as UTF-16); pass a text file, or its encoding with --encoding"
        )
    # A byte order mark says how the file is encoded; it is not part of the text.
    text = normalize_newlines(text.removeprefix("\ufeff"))
    if not text:
        raise UserError(f"{path} is empty; pass a file that contains text")
    return text


def prepare_hamlet(text: str) -> str:
    """Drop the Project Gutenberg header of pg2265.txt: the play starts at its title line."""
    start = _HAMLET_START.search(text)
    if start is None:
        raise UserError(
            "the hamlet text has no line 'The Tragedie of Hamlet' followed by 'Actus Primus', "
            "so its Gutenberg header cannot be found; use Project Gutenberg's pg2265.txt, "
            "or pass another file by its path to use it as is"
        )
    return text[start.start() :]


def _as_is(text: str) -> str:
    return text


# How each named dataset becomes training text; a name missing here is used as is.
PREPARATIONS: dict[str, Callable[[str], str]] = {
    "hamlet": prepare_hamlet,
    "tinyshakespeare": _as_is,
}
TEXT_DATASETS = tuple(PREPARATIONS)  # the named datasets that are a text (imdb is reviews)


def text_files(location: str | os.PathLike) -> list[Path] | None:
    """The files a folder (its *.txt, at any depth) or a glob pattern names, sorted; None for
    anything else (a file, a dataset name). UserError when they name no file."""
    path = Path(location).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.txt") if p.is_file())
        if not files:
            raise UserError(f"{location} holds no .txt file: give a folder of text files "
                            "(*.txt), a glob such as 'books/*.md', or one file")
        return files
    if is_pattern(location):
        files = matching_files(location)
        if not files:
            raise UserError(f"the pattern {location} matches no file: check it (quote it, so "
                            "the shell does not expand it)")
        return files
    return None


def load_text(name_or_path: str | os.PathLike, encoding: str = "utf-8") -> str:
    """Return the text of a file, of a folder's or a glob's files (in sorted order, each
    ending with a newline), or of a named dataset after its preparation.

    A path that exists is read as is, even when it is a copy of a named
    dataset's file; only a dataset name (`hamlet`, `tinyshakespeare`) gets
    the preparation registered in `PREPARATIONS`.
    """
    from seqrnn.data.locate import locate  # may download: import only when text is wanted

    files = text_files(name_or_path)
    if files is not None:
        texts = (read_text(file, encoding) for file in files)
        return "".join(text if text.endswith("\n") else text + "\n" for text in texts)

    path = locate(name_or_path, datasets=TEXT_DATASETS)
    text = read_text(path, encoding)
    is_name = not Path(name_or_path).expanduser().exists()
    prepare = PREPARATIONS.get(str(name_or_path), _as_is) if is_name else _as_is
    return prepare(text)


ENCODE_CHUNK = 1 << 22  # characters encoded at once (their UTF-32 codes are 4 bytes each)


@dataclass(frozen=True)
class CharVocab:
    """Characters and their ids: id i stands for `chars[i]`.

    `from_text` sorts the characters, so a text always gives the same vocabulary;
    `from_dict` keeps the stored order, which is what a trained model's ids mean.
    """

    chars: tuple[str, ...]
    # Code points sorted for np.searchsorted, and the id of each: encoding a
    # million characters is then one vectorised lookup, not a Python loop.
    _sorted_codes: np.ndarray = field(init=False, repr=False, compare=False)
    _sorted_ids: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        chars = tuple(self.chars)
        if not chars:
            raise ValueError("a character vocabulary needs at least one character")
        if any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise ValueError("a character vocabulary must list single characters")
        if len(set(chars)) != len(chars):
            raise ValueError("a character vocabulary must not list a character twice")
        codes = np.array([ord(c) for c in chars], dtype=np.int64)
        order = np.argsort(codes)
        object.__setattr__(self, "chars", chars)
        object.__setattr__(self, "_sorted_codes", codes[order])
        object.__setattr__(self, "_sorted_ids", order.astype(np.int64))

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        return cls(tuple(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def unknown_chars(self, text: str) -> list[str]:
        """The distinct characters of `text` that have no id, sorted."""
        return sorted(set(text).difference(self.chars))

    @property
    def dtype(self) -> np.dtype:
        """The narrowest unsigned integer type that holds every id."""
        return np.dtype(np.uint8 if len(self.chars) <= 256 else
                        np.uint16 if len(self.chars) <= 65536 else np.uint32)

    def encode(self, text: str, dtype: np.dtype | type = np.int64) -> np.ndarray:
        """Ids of the characters of `text`, shape (len(text),), encoded a chunk at a time;
        int64, or `dtype` (a corpus held in `self.dtype` costs a byte a character)."""
        out = np.empty(len(text), dtype=dtype)
        for start in range(0, len(text), ENCODE_CHUNK):
            piece = text[start:start + ENCODE_CHUNK]
            # surrogatepass: a lone surrogate (possible in a str) is a code point like any other
            codes = np.frombuffer(piece.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            pos = np.searchsorted(self._sorted_codes, codes).clip(max=len(self.chars) - 1)
            if not np.array_equal(self._sorted_codes[pos], codes):
                unknown = "".join(self.unknown_chars(text))
                raise UserError(
                    f"characters not in the vocabulary: {unknown!r}; remove them from the "
                    "text, or train on text that contains them"
                )
            out[start:start + len(piece)] = self._sorted_ids[pos]
        return out

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        """The text of a sequence of ids (a list, numpy array or CPU tensor)."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.chars)):
            raise ValueError(f"ids must be in [0, {len(self.chars)}), got {ids.min()}..{ids.max()}")
        return "".join([self.chars[i] for i in ids.tolist()])

    def to_dict(self) -> dict:
        return {"chars": list(self.chars)}

    @classmethod
    def from_dict(cls, data: dict) -> CharVocab:
        """The vocabulary `to_dict` stored, in its stored order; UserError if it is damaged."""
        chars = data.get("chars") if isinstance(data, dict) else None
        try:
            vocab = cls(tuple(chars) if isinstance(chars, list) else ())
            if list(vocab.chars) != sorted(vocab.chars):  # as from_text builds it: reordered,
                raise ValueError("the characters are not in sorted order")  # ids would shift
            return vocab
        except ValueError as exc:
            raise UserError(
                f"invalid character vocabulary ({exc}); the vocab.json is damaged: "
                "restore it or retrain"
            ) from None


def drop_unknown(vocab: CharVocab, text: str) -> tuple[str, list[str]]:
    """The text without characters outside the vocabulary, and those characters."""
    unknown = vocab.unknown_chars(text)
    if not unknown:
        return text, []
    dropped = set(unknown)
    return "".join(ch for ch in text if ch not in dropped), unknown


@dataclass(frozen=True)
class TextSplits:
    """Three contiguous pieces of one text, in stream order: train, validation, test."""

    train: str
    val: str
    test: str


def split_sizes(
    length: int, val_fraction: float = 0.1, test_fraction: float = 0.0
) -> tuple[int, int, int]:
    """(train, val, test) lengths of a contiguous split; fractions are rounded down."""
    require_fractions(val_fraction, test_fraction)
    n_val = int(length * val_fraction)
    n_test = int(length * test_fraction)
    for name, fraction, size in (
        ("val_fraction", val_fraction, n_val),
        ("test_fraction", test_fraction, n_test),
    ):
        if fraction > 0 and size == 0:
            raise field_error(name, f"{{}} {fraction} of {length} characters is less than one "
                              "character; pass a longer text or a larger {}")
    return length - n_val - n_test, n_val, n_test


def split_text(text: str, val_fraction: float = 0.1, test_fraction: float = 0.0) -> TextSplits:
    """Cut the text into train, then validation, then test at its very end.

    Contiguous pieces, not random lines: a character model must not validate on
    text whose neighbouring characters it trained on.
    """
    n_train, n_val, _ = split_sizes(len(text), val_fraction, test_fraction)
    return TextSplits(
        train=text[:n_train],
        val=text[n_train : n_train + n_val],
        test=text[n_train + n_val :],
    )
