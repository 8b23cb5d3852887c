"""The corpora of a word language model: documents split into train and validation.

`load_documents` reads a named data set or a path; there is never a test set:

- IMDb ("imdb", its archive or extracted folder): the labelled training reviews
  and the 50,000 unlabelled ones. The classifier's validation movies are held
  out, drawn exactly as `load_sentiment` draws them (the same `split_balanced`
  with the same seed and val_fraction), so a language model pretrained here has
  never read the reviews the classifier validates on: validation is the
  classifier's validation reviews plus the unlabelled reviews of those movies
  (on the real archive there are none: its unlabelled reviews are of other
  movies); training is all the other training and unlabelled reviews. The test
  reviews are in neither.
- a folder of ``.txt`` files: each file one document, sorted by name; the last
  files are validation. A glob pattern ("books/**/*.md") likewise, its files sorted
  by path.
- a ``.txt`` file: one document; its end is validation, cut at whitespace so
  that no word is split.
- any other file, a table's text column (`read_table_texts`; no label column
  needed): each row one document, validation drawn at random with the seed.

`build_word_vocab` and `encode_documents` then turn documents into one id
stream for `StreamBatches`, each document followed by `EOS`.

With a `condition` (a conditioned language model), each document also carries its value:
IMDb's "rating" (from the file name `<id>_<rating>.txt`) or "label" (neg, pos), None for the
unlabelled reviews; a table's column of that name, None where blank. Other sources carry none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np

from seqrnn.data.conditions import IMDB_CONDITIONS
from seqrnn.data.files import is_pattern
from seqrnn.data.imdb import UNSUP, is_imdb, is_imdb_folder, read_imdb
from seqrnn.data.labels import LabeledTexts, split_balanced
from seqrnn.data.tables import read_table_texts, read_table_values
from seqrnn.data.text import read_text, text_files
from seqrnn.data.tokenize import iter_tokenized
from seqrnn.data.vocab import WordVocab
from seqrnn.errors import UserError, field_error

# Ends every document. `tokenize` never gives it: it splits "<eos>" into "<", "eos", ">".
EOS = "<eos>"


@dataclass(frozen=True)
class DocumentSplits:
    """The training and validation documents of one source."""

    train: list[str]
    val: list[str]
    # IMDb: the movies (`read_imdb` groups) of the classifier's validation set, none of
    # whose reviews is in `train`; None for the other sources.
    held_out_movies: frozenset[int] | None = None
    # With a condition: each document's value (None: it has none), parallel to train and val.
    train_conditions: list[str | None] | None = None
    val_conditions: list[str | None] | None = None


def load_documents(
    source: str | Path,
    *,
    val_fraction: float = 0.1,
    seed: int = 0,
    text_column: str | None = None,
    encoding: str = "utf-8",
    progress: bool = False,
    condition: str | None = None,
) -> DocumentSplits:
    """Read a named data set ("imdb") or a path as train and validation documents, each with
    its value of `condition` if one is named.

    On IMDb, pass the classifier's `seed` and `val_fraction` to hold out its
    validation movies. A `val_fraction` of 0 gives no validation documents.
    """
    from seqrnn.data.locate import locate  # may download: import only when data is wanted

    if not 0.0 <= val_fraction < 1.0:
        raise field_error("val_fraction",
                          f"{{}} must be at least 0 and below 1, got {val_fraction}")
    if is_pattern(source):
        _refuse_condition(condition, source)
        return _file_documents(text_files(source), val_fraction, encoding)
    try:
        path = locate(source)
    except UserError as exc:  # name the field the source came from
        raise UserError(f"{{data}}: {exc.template}", fields=("data", *exc.fields)) from None
    if is_imdb_folder(path) if path.is_dir() else is_imdb(path):
        return _imdb_documents(path, val_fraction, seed, encoding, progress, condition)
    if path.is_dir() or path.suffix.lower() == ".txt":
        _refuse_condition(condition, source)
    if path.is_dir():
        return _folder_documents(path, val_fraction, encoding)
    if path.suffix.lower() == ".txt":
        return _text_documents(read_text(path, encoding), val_fraction, path)
    return _table_documents(path, val_fraction, seed, text_column, encoding, condition)


def _refuse_condition(condition: str | None, source: str | Path) -> None:
    if condition is not None:
        raise UserError(f"{source} holds plain text files, whose documents carry no "
                        f"{condition!r}: give {{data}} imdb or a table with that column, or "
                        "drop {condition}", fields=("data", "condition"))


def build_word_vocab(
    train_docs: Sequence[str],
    *,
    min_freq: int = 1,
    max_vocab: int | None = None,
    progress: bool = False,
) -> WordVocab:
    """The vocabulary of the training documents' tokens and one `EOS` per document.

    `EOS` always gets an id: where `min_freq` or `max_vocab` would drop it, it
    takes the last place (in place of the least frequent word when `max_vocab`
    is full).
    """
    tokenized = iter_tokenized(train_docs, progress=progress, desc="counting words")
    vocab = WordVocab.build(chain(tokenized, [[EOS] * len(train_docs)]),
                            min_freq=min_freq, max_vocab=max_vocab)
    return with_eos(vocab, max_vocab)


def with_eos(vocab: WordVocab, max_vocab: int | None) -> WordVocab:
    """`vocab`, with `EOS` in the last place where the cutoffs dropped it (in place of the
    least frequent word when `max_vocab` is full)."""
    if EOS in vocab:
        return vocab
    keep = None if max_vocab is None else max_vocab - 1
    return WordVocab((*vocab.words[:keep], EOS))


def encode_documents(docs: Sequence[str], vocab: WordVocab, *,
                     progress: bool = False) -> np.ndarray:
    """One int64 stream: the ids of each document's tokens, then the id of `EOS`.

    Words not in `vocab` get `UNK_ID`. Each document becomes one small array and
    the stream one concatenation: no Python list ever holds every id.
    """
    return encode_counted(docs, vocab, progress=progress)[0]


def encode_counted(docs: Sequence[str], vocab: WordVocab, *,
                   progress: bool = False) -> tuple[np.ndarray, list[int]]:
    """encode_documents' stream, and how many of its ids each document gave (its EOS too)."""
    if EOS not in vocab:
        raise UserError(f"the vocabulary has no {EOS} token, so it is not a word language "
                        "model's; use the vocab.json of a word language model run, or retrain")
    eos = [vocab.id_of(EOS)]
    parts = [np.array(vocab.encode(tokens) + eos, dtype=np.int64)
             for tokens in iter_tokenized(docs, progress=progress, desc="encoding")]
    stream = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return stream, [len(part) for part in parts]


def _imdb_documents(path: Path, val_fraction: float, seed: int, encoding: str,
                    progress: bool, condition: str | None = None) -> DocumentSplits:
    if condition is not None and condition not in IMDB_CONDITIONS:
        raise UserError(f"IMDb's reviews carry no {condition!r}: give {{condition}} "
                        f"{' or '.join(IMDB_CONDITIONS)}", fields=("condition",))
    splits = read_imdb(path, encoding=encoding, progress=progress, unlabeled=True)
    labeled, unlabeled = splits["train"], splits[UNSUP]
    if labeled.groups is None or unlabeled.groups is None:
        raise UserError(
            f"{path} lacks complete movie lists train/urls_{{neg,pos,unsup}}.txt, so the "
            "classifier's validation movies cannot be held out of the language model's "
            "training; pass the full IMDb archive aclImdb_v1.tar.gz"
        )
    # Exactly `load_sentiment`'s draw: the same function, data, seed and fraction.
    rest, val = split_balanced(labeled, val_fraction, seed=seed)
    held_out = np.unique(val.groups)
    in_val = np.isin(unlabeled.groups, held_out)
    unsup_train, unsup_val = _partition(unlabeled.texts, in_val)
    conditions = {}
    if condition is not None:  # the unlabelled reviews have none
        conditions = {"train_conditions": _imdb_values(rest, condition)
                      + [None] * len(unsup_train),
                      "val_conditions": _imdb_values(val, condition) + [None] * len(unsup_val)}
    return DocumentSplits(train=rest.texts + unsup_train, val=val.texts + unsup_val,
                          held_out_movies=frozenset(held_out.tolist()), **conditions)


def _imdb_values(reviews: LabeledTexts, condition: str) -> list[str | None]:
    """Each labelled review's rating or label, as text."""
    if condition == "label":
        return [reviews.label_map.decode(label) for label in reviews.labels.tolist()]
    return [str(rating) if rating else None for rating in reviews.ratings.tolist()]


def _folder_documents(path: Path, val_fraction: float, encoding: str) -> DocumentSplits:
    files = sorted((f for f in path.iterdir() if f.suffix.lower() == ".txt" and f.is_file()),
                   key=lambda f: f.name)
    if not files:
        raise UserError(f"{path} has no .txt files; pass {{data}} a folder of .txt files (each "
                        "one document), a .txt file, a table or imdb", fields=("data",))
    return _file_documents(files, val_fraction, encoding)


def _file_documents(files: list[Path], val_fraction: float, encoding: str) -> DocumentSplits:
    """Each file one document, in the order given; the last files held out."""
    docs = [read_text(file, encoding) for file in files]
    n_train = len(docs) - held_out_count(len(docs), val_fraction, "files")
    return DocumentSplits(train=docs[:n_train], val=docs[n_train:])


def _text_documents(text: str, val_fraction: float, path: Path) -> DocumentSplits:
    if val_fraction == 0:
        return DocumentSplits(train=[text], val=[])
    target = len(text) - held_out_count(len(text), val_fraction, "characters")
    # At the last whitespace up to the target, else at 0 (which leaves no training words).
    cut = max(0, *(text.rfind(space, 0, target + 1) for space in (" ", "\n", "\t")))
    train, val = text[:cut], text[cut:]
    if not (train.strip() and val.strip()):
        raise field_error("val_fraction", f"{{}} {val_fraction} of {path} leaves no "
                          f"{'training' if val.strip() else 'validation'} words; pass a longer "
                          "text or another {}")
    return DocumentSplits(train=[train], val=[val])


def _table_documents(path: Path, val_fraction: float, seed: int, text_column: str | None,
                     encoding: str, condition: str | None = None) -> DocumentSplits:
    if condition is None:
        docs = read_table_texts(path, text_column=text_column, encoding=encoding)
    else:
        docs, values = read_table_values(path, condition, text_column=text_column,
                                         encoding=encoding)
    n_val = held_out_count(len(docs), val_fraction, "rows")
    in_val = np.zeros(len(docs), dtype=bool)
    in_val[np.random.default_rng(seed).permutation(len(docs))[:n_val]] = True
    train, val = _partition(docs, in_val)
    if condition is None:
        return DocumentSplits(train=train, val=val)
    train_values, val_values = _partition(values, in_val)
    return DocumentSplits(train=train, val=val, train_conditions=train_values,
                          val_conditions=val_values)


def _partition(items: list[str], chosen: np.ndarray) -> tuple[list[str], list[str]]:
    """(items not chosen, items chosen), each in the order of `items`."""
    flags = chosen.tolist()
    return ([item for item, c in zip(items, flags, strict=True) if not c],
            [item for item, c in zip(items, flags, strict=True) if c])


def held_out_count(n: int, fraction: float, unit: str) -> int:
    """How many of `n` units validation takes: ``round(fraction * n)``, at least one when the
    fraction is above 0, and never all of them."""
    n_val = max(1, round(fraction * n)) if fraction > 0 else 0
    if n_val >= n:
        raise field_error("val_fraction", f"{{}} {fraction} of {n} {unit} leaves none for "
                          "training; use more data or a smaller {}")
    return n_val
