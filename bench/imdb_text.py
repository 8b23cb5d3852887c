"""Write IMDb's training and unlabelled reviews (never its test reviews) as one plain text, a
review per line, for pretraining character language models (`charlm train --text FILE`).

    python bench/imdb_text.py --out runs/imdb.txt --chars 20000000

The reviews' HTML line breaks become spaces. Prints what it wrote as JSON.
"""

from __future__ import annotations

import argparse
import json
import re

from seqrnn.data.imdb import UNSUP, read_imdb
from seqrnn.data.locate import locate

BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="the text file to write")
    parser.add_argument("--chars", type=int, default=20_000_000,
                        help="stop after about this many characters (default: 20 million)")
    args = parser.parse_args()
    splits = read_imdb(locate("imdb"), unlabeled=True)
    written = reviews = 0
    with open(args.out, "w", encoding="utf-8") as out:
        for split in (UNSUP, "train"):
            for text in splits[split].texts:
                if written >= args.chars:
                    break
                line = " ".join(BREAK.sub(" ", text).split()) + "\n"
                out.write(line)
                written, reviews = written + len(line), reviews + 1
    print(json.dumps({"out": args.out, "reviews": reviews, "chars": written}))


if __name__ == "__main__":
    main()
