"""Time the IMDb data preparation: read, tokenize, count the vocabulary, encode, batch.

    python bench/imdb_prep.py [ARCHIVE_OR_FOLDER]    # default: the dataset named "imdb"

Prints one JSON object: each phase's seconds, the counts, the vocabulary size,
and the share of padding in the lecture's fixed-length rows and in
length-bucketed batches. Tokenizing is timed on its own, then again inside
the vocabulary count (train only) and the encoding (all 50,000 reviews),
because the pipeline streams tokens rather than keep tens of millions of them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Iterator

import numpy as np
import torch

from seqrnn.data.imdb import read_imdb
from seqrnn.data.locate import locate
from seqrnn.data.sequences import LengthBatches, encode_texts, fixed_length, padding_fraction
from seqrnn.data.tokenize import iter_tokenized
from seqrnn.data.vocab import PAD_ID, UNK_ID, WordVocab


class Phases:
    """Wall-clock and CPU seconds of named phases: CPU time shows the cost on a busy machine."""

    def __init__(self) -> None:
        self.seconds: dict[str, dict[str, float]] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.seconds[name] = {
            "wall": round(time.perf_counter() - wall, 3),
            "cpu": round(time.process_time() - cpu, 3),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source", nargs="?", default="imdb", help="IMDb archive, folder, or dataset name"
    )
    parser.add_argument("--seq-len", type=int, default=200, help="fixed length, as the lecture")
    parser.add_argument("--batch-size", type=int, default=64, help="batch size for bucketing")
    args = parser.parse_args()
    torch.set_num_threads(2)
    phase = Phases()

    with phase("read"):
        splits = read_imdb(locate(args.source))
    train, test = splits["train"], splits["test"]
    texts = train.texts + test.texts
    labels = np.concatenate([train.labels, test.labels])
    with phase("tokenize_all"):
        n_tokens = sum(len(tokens) for tokens in iter_tokenized(texts))
    with phase("vocab_train"):  # tokenize and count the training split
        vocab = WordVocab.build(iter_tokenized(train.texts))
    with phase("encode_all"):  # tokenize and look up all 50,000 reviews
        encoded = encode_texts(texts, vocab, labels)
    with phase("fixed_length"):
        fixed = fixed_length(encoded, args.seq_len)
    batches = LengthBatches(encoded, args.batch_size, max_len=args.seq_len, seed=0)
    with phase("bucket_epoch"):
        bucketed = list(batches)

    test_ids = encoded.ids[encoded.offsets[len(train)] :]
    print(
        json.dumps(
            {
                "seconds": phase.seconds,
                "train": len(train),
                "test": len(test),
                "train_class_counts": train.class_counts(),
                "tokens": n_tokens,
                "median_length": int(np.median(encoded.lengths)),
                "max_length": int(encoded.lengths.max()),
                "vocab_size": len(vocab),
                "unknown_share_test": round(float(np.mean(test_ids == UNK_ID)), 4),
                "padding_fixed": round(float((fixed == PAD_ID).float().mean()), 4),
                "padding_bucketed": round(padding_fraction(bucketed), 4),
                "batches": len(bucketed),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
