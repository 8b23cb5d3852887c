"""A toy tagging language for the tagger's tests: names (PER) and places (LOC, some of two words)
in short template sentences, tagged in IOB2, with a part of speech column."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

PEOPLE = [["John"], ["Mary"], ["Ada", "Lovelace"]]
PLACES = [["Paris"], ["Rome"], ["New", "York"]]
FILLER = ["the", "cat", "saw", "a", "dog", "near", "and", "quietly"]


def toy_sentences(count: int, seed: int = 0) -> list[tuple[list[str], list[str], list[str]]]:
    """`count` sentences as (tokens, IOB2 tags, parts of speech)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        tokens, tags, pos = [], [], []
        for _ in range(int(rng.integers(2, 6))):
            choice = rng.random()
            if choice < 0.25:
                name, kind = PEOPLE[rng.integers(len(PEOPLE))], "PER"
            elif choice < 0.5:
                name, kind = PLACES[rng.integers(len(PLACES))], "LOC"
            else:
                word = FILLER[rng.integers(len(FILLER))]
                tokens.append(word)
                tags.append("O")
                pos.append("DT" if word in ("the", "a") else "NN")
                continue
            tokens += name
            tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(name) - 1)
            pos += ["NNP"] * len(name)
        tokens.append(".")
        tags.append("O")
        pos.append(".")
        out.append((tokens, tags, pos))
    return out


def write_conll(path: Path, sentences) -> Path:
    """word POS tag columns, a blank line after each sentence."""
    lines = []
    for tokens, tags, pos in sentences:
        lines += [f"{w} {p} {t}" for w, p, t in zip(tokens, pos, tags, strict=True)] + [""]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_jsonl(path: Path, sentences) -> Path:
    path.write_text("".join(json.dumps({"tokens": t, "tags": g, "pos": p}) + "\n"
                            for t, g, p in sentences), encoding="utf-8")
    return path


def train_char_lms(root: Path, sentences, **options) -> tuple[Path, Path]:
    """A tiny forward and backward character language model (charlm runs) of the sentences'
    text, a few steps each: what a tagger's --char-lm and --char-lm-backward read."""
    import seqrnn

    root.mkdir(parents=True, exist_ok=True)
    text = root / "lm.txt"
    text.write_text("".join(" ".join(tokens) + "\n" for tokens, *_ in sentences) * 3,
                    encoding="utf-8")
    settings = {"text": str(text), "hidden_size": 12, "batch_size": 4, "num_steps": 16,
                "max_steps": 6, "progress": False, "seed": 1, **options}
    seqrnn.train("charlm", root / "forward", **settings)
    seqrnn.train("charlm", root / "backward", reverse=True, **settings)
    return root / "forward", root / "backward"
