"""A sentiment data set by name or path, split into train, validation and test.

`load_sentiment` tells the sources apart (`is_imdb`): the IMDb archive or
folder (`seqrnn.data.imdb`), or a CSV, TSV, JSON-lines or JSON table
(`seqrnn.data.tables`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqrnn.data.imdb import is_imdb, read_imdb
from seqrnn.data.labels import LabeledTexts, SentimentSplits, split_balanced
from seqrnn.data.tables import DEFAULT_TABLE, TableOptions, read_table


def load_sentiment(
    source: str | Path,
    options: TableOptions = DEFAULT_TABLE,
    *,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    seed: int = 0,
    progress: bool = False,
) -> SentimentSplits:
    """Read a named data set ("imdb") or a path, and split it into train/val/test.

    IMDb keeps its official train and test sets (25,000 each); validation is
    `val_fraction` of train, whole movies at a time. A table has no test set:
    `test_fraction` of it becomes the test set, then `val_fraction` of the
    rest the validation set. Both splits are class-balanced and drawn with
    `seed`. IMDb reads only the options' encoding and on_empty.
    """
    from seqrnn.data.locate import locate  # may download: import only when data is wanted

    path = locate(source, datasets=("imdb",))
    if is_imdb(path, options.file_format):
        splits = read_imdb(path, encoding=options.encoding, on_empty=options.on_empty,
                           progress=progress)
        train_all, test = splits["train"], splits["test"]
        skipped = train_all.skipped_empty + test.skipped_empty
    else:
        table = read_table(path, options)
        train_all, test = split_balanced(table, test_fraction, seed=seed, field="test_fraction")
        skipped = table.skipped_empty
    train, val = split_balanced(train_all, val_fraction, seed=seed)
    return SentimentSplits(
        train=train, val=val, test=test, label_map=train.label_map, skipped_empty=skipped
    )


def load_all_rows(source: str | Path, options: TableOptions = DEFAULT_TABLE) -> LabeledTexts:
    """Every labelled row of a data set, unsplit: for scoring a model on data it never saw.

    IMDb gives its training reviews, then its test reviews.
    """
    from seqrnn.data.locate import locate

    path = locate(source, datasets=("imdb",))
    if not is_imdb(path, options.file_format):
        return read_table(path, options)
    parts = read_imdb(path, encoding=options.encoding, on_empty=options.on_empty, progress=False)
    train, test = parts["train"], parts["test"]
    return LabeledTexts(texts=[*train.texts, *test.texts],
                        labels=np.concatenate([train.labels, test.labels]),
                        label_map=train.label_map,
                        skipped_empty=train.skipped_empty + test.skipped_empty)
