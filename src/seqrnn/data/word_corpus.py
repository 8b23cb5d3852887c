"""Prepared word corpora: text files tokenized once into a memory-mapped file of word ids.

The word model's text sources (`load_documents`) that can be of any size are prepared here
a chunk at a time: a ``.txt`` file (one document, its end the validation document, cut at
whitespace) and a folder's or a glob's ``.txt`` files (each file one document, the last ones
validation). A first pass counts the training tokens (the counts of a gigabyte of text fit
easily; the text need not), the vocabulary is chosen from the counts as `build_word_vocab`
chooses it, and a second pass writes each document's ids and `EOS` (`encode_documents`'
stream) into the cache (`seqrnn.data.prepared`). The text is tokenized in pieces cut where
no token and no HTML line break crosses, so the ids are those of the documents tokenized
whole. IMDb (a fixed 84 MB archive) and tables stay in memory, bounded by the input limit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from seqrnn.data.documents import EOS, held_out_count, with_eos
from seqrnn.data.files import is_pattern
from seqrnn.data.imdb import is_imdb_folder
from seqrnn.data.prepared import (
    MANIFEST,
    IdCounts,
    PreparedCorpus,
    cache_folder,
    narrowest_dtype,
    open_folder,
    write_folder,
    write_scratch,
)
from seqrnn.data.text import text_files
from seqrnn.data.text_stream import TextReader, changed_error, content_digest, file_stats
from seqrnn.data.tokenize import tokenize
from seqrnn.data.vocab import WordVocab
from seqrnn.errors import field_error

KIND = "words"
PreparedWords = PreparedCorpus[WordVocab]
# A text without a space, newline or tab for this many characters is cut where it is: one
# "word" longer than that would otherwise be held whole.
LONGEST_HELD = 1 << 24
_LINE_BREAK = re.compile(r"<br\s*/?\s*>", re.IGNORECASE)  # tokenize's, before it lowercases
_LINE_BREAK_BEGUN = re.compile(r"<(?:b(?:r\s*(?:/\s*)?)?)?\Z", re.IGNORECASE)  # not ended yet


def word_corpus_files(location: str) -> tuple[list[Path], bool] | None:
    """The files of a word-model source that is prepared, and whether it is one text (its
    end the validation document) rather than a document per file; None for IMDb, tables,
    dataset names and what does not exist (`load_documents` reads or refuses those)."""
    if is_pattern(location):
        return text_files(location), False
    path = Path(location).expanduser()
    if path.is_dir():
        if is_imdb_folder(path):
            return None
        files = sorted((f for f in path.iterdir() if f.suffix.lower() == ".txt" and f.is_file()),
                       key=lambda f: f.name)
        return (files, False) if files else None
    if path.is_file() and path.suffix.lower() == ".txt":
        return [path], True
    return None


def prepare_words(files: list[Path], *, one_text: bool, encoding: str = "utf-8",
                  val_fraction: float = 0.1, min_freq: int = 1, max_vocab: int | None = None,
                  progress: bool = False) -> PreparedWords:
    """The prepared corpus of `files`, from the cache or made now: one text (`one_text`)
    or a document per file, split and counted as `load_documents` and `build_word_vocab`."""
    settings = {"encoding": encoding, "val_fraction": val_fraction, "min_freq": min_freq,
                "max_vocab": max_vocab, "one_text": one_text}
    sources, digest = content_digest(files)
    folder = cache_folder(KIND, digest, settings)
    if (folder / MANIFEST).exists():
        return open_prepared(folder)
    stats = file_stats(files)
    reader = TextReader(files, encoding, progress=progress)
    if one_text:
        cut = _text_cut(reader, val_fraction, files[0], digest)
        n_docs = 2 if cut is not None else 1
        is_val = [False, True]
    else:
        cut, n_docs = None, len(files)
        n_val = held_out_count(n_docs, val_fraction, "files")
        is_val = [i >= n_docs - n_val for i in range(n_docs)]
    counts: Counter[str] = Counter()
    train_docs = sum(not v for v in is_val[:n_docs])
    for doc, tokens in _tokens(reader, "counting words", None, cut):
        if not is_val[doc]:
            counts.update(tokens)
    vocab = vocab_from_counts(counts, train_docs, min_freq, max_vocab)
    dtype = narrowest_dtype(len(vocab))

    def write_tokens(out) -> dict[str, Any]:
        written = _write_ids(reader, out, vocab, dtype, cut, is_val, n_docs)
        if file_stats(files) != stats:  # every pass read what the first one hashed
            raise changed_error(files)
        return written.manifest()

    manifest = {"kind": KIND, "settings": settings, "sources": sources, "blake2b": digest,
                "dtype": dtype.name, "documents": {"train": train_docs,
                                                   "val": n_docs - train_docs},
                "distinct_words": len(counts)}
    training_ids = sum(counts.values()) + train_docs  # known now; validation's are not
    write_folder(folder, vocab.to_dict(), manifest, training_ids * dtype.itemsize, write_tokens)
    return open_prepared(folder, reused=False)


def open_prepared(folder: Path, *, reused: bool = True) -> PreparedWords:
    """The prepared word corpus in `folder`, memory-mapped; UserError when damaged."""
    return open_folder(folder, KIND, WordVocab.from_dict, len, reused=reused)


def encode_text_file(path: Path, vocab: WordVocab, folder: Path, *, encoding: str = "utf-8",
                     progress: bool = False) -> np.ndarray:
    """A text file read as one document after a document's end, as a trained model scores it
    (`EOS`, its ids, `EOS`), written a chunk at a time to `folder`/tokens.bin and
    memory-mapped: for scoring a text of any size."""
    reader = TextReader([path], encoding, progress=progress)
    dtype = narrowest_dtype(len(vocab))

    def write(out) -> IdCounts:
        out.write(np.array([vocab.id_of(EOS)], dtype=dtype).tobytes())
        return _write_ids(reader, out, vocab, dtype, None, [False], 1)

    return write_scratch(folder, dtype, write)[0]


def vocab_from_counts(counts: Counter[str], documents: int, min_freq: int,
                      max_vocab: int | None) -> WordVocab:
    """`build_word_vocab`'s vocabulary from the training tokens' counts and number of
    documents (each ends with one `EOS`)."""
    return with_eos(WordVocab.from_counts(counts + Counter({EOS: documents}),
                                          min_freq=min_freq, max_vocab=max_vocab), max_vocab)


def _text_cut(reader: TextReader, val_fraction: float, path: Path, digest: str) -> int | None:
    """Where one text's validation document begins (`_text_documents`' cut: the last space,
    newline or tab at or before the target); None with no validation. Two quick passes: the
    text's length, then the cut; UserError when a side would have no words."""
    if val_fraction == 0:
        return None
    length = sum(len(text) for _, text in reader.pieces("measuring", digest))
    target = length - held_out_count(length, val_fraction, "characters")
    cut, position, words = 0, 0, [False, False]  # whether train, val have non-space text
    for _, text in reader.pieces("finding the validation text"):
        upto = target + 1 - position
        if upto > 0:
            found = max(text.rfind(space, 0, upto) for space in (" ", "\n", "\t"))
            if found >= 0:
                cut = position + found
        position += len(text)
    position = 0
    for _, text in reader.pieces("checking the split"):
        split = min(max(cut - position, 0), len(text))
        words[0] = words[0] or bool(text[:split].strip())
        words[1] = words[1] or bool(text[split:].strip())
        position += len(text)
    if not all(words):
        raise field_error("val_fraction", f"{{}} {val_fraction} of {path} leaves no "
                          f"{'training' if words[1] else 'validation'} words; pass a longer "
                          "text or another {}")
    return cut


def _tokens(reader: TextReader, what: str, digest: str | None,
            cut: int | None) -> Iterator[tuple[int, list[str]]]:
    """(document, tokens of a piece of it) in order: document i is file i, or with `cut`
    (one text), 0 before character `cut` and 1 from there."""
    for doc, text in _segments(reader, what, digest, cut):
        yield doc, tokenize(text)


def _segments(reader: TextReader, what: str, digest: str | None,
              cut: int | None) -> Iterator[tuple[int, str]]:
    """(document, piece of text) that tokenize, piece by piece, as each document whole."""
    held, held_doc, position = "", 0, 0  # text read but not yet given, from `position`
    for index, piece in reader.pieces(what, digest):
        if cut is None and index != held_doc:  # the next file: the next document
            if held:
                yield held_doc, held
            held, held_doc = "", index
        text, start = held + piece, position - len(held)
        position += len(piece)
        if cut is not None and held_doc == 0 and start <= cut < start + len(text):
            yield 0, text[:cut - start]
            text, start, held_doc = text[cut - start:], cut, 1
        end = _safe_end(text)
        if end:
            yield held_doc, text[:end]
        held = text[end:]
        if cut is not None and held_doc == 0 and position == cut:
            yield 0, held
            held, held_doc = "", 1
    if held:
        yield held_doc, held


def _safe_end(text: str) -> int:
    """How much of `text` to tokenize now: up to its last space, newline or tab, or to the
    start of an HTML line break across it; what follows may continue in the next piece."""
    end = max(text.rfind(space) for space in (" ", "\n", "\t")) + 1
    if end == 0:
        return len(text) if len(text) > LONGEST_HELD else 0
    begun = text.rfind("<")
    if 0 <= begun < end and _LINE_BREAK_BEGUN.match(text, begun):
        return begun  # a line break may end in the next piece
    for match in _LINE_BREAK.finditer(text, max(0, end - 64), end + 64):
        if match.start() < end < match.end():
            return match.start()
    return end


def _write_ids(reader: TextReader, out, vocab: WordVocab, dtype: np.dtype, cut: int | None,
               is_val: list[bool], n_docs: int) -> IdCounts:
    """Each document's ids, then `EOS`'s: training documents first (they come first)."""
    eos = np.array([vocab.id_of(EOS)], dtype=dtype)
    counts = IdCounts(len(vocab))
    current = 0

    def end_document(doc: int) -> None:
        out.write(eos.tobytes())
        counts.add("val" if is_val[doc] else "train", eos)

    for doc, tokens in _tokens(reader, "writing", None, cut):
        while current < doc:  # a document (file) ends: its EOS
            end_document(current)
            current += 1
        ids = np.array(vocab.encode(tokens), dtype=dtype)
        out.write(ids.tobytes())
        counts.add("val" if is_val[doc] else "train", ids)
    while current < n_docs:
        end_document(current)
        current += 1
    return counts
