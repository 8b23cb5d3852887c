"""A tagger's character language models, read from their `charlm` runs (Akbik et al. 2018):
the forward one trained on text as written, the backward one with `charlm train --reverse`.

A new tagging run copies their configs and shared characters into its own model config and
their best weights into its own, so it never reads their folders again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from seqrnn.configs import CharLMConfig
from seqrnn.configs.tagger import TaggerData
from seqrnn.data.conll import TaggedSentence
from seqrnn.data.text import CharVocab
from seqrnn.errors import UserError
from seqrnn.kinds import VOCAB_FILE
from seqrnn.run import BEST_WEIGHTS, RunConfig, RunFolder

# data field -> (its model-config field, whether that model must have read text reversed)
DIRECTIONS = {"char_lm": ("forward_lm", False), "char_lm_backward": ("backward_lm", True)}
SHOWN_MISSING = 12  # characters a refusal names


@dataclass(frozen=True)
class CharLMs:
    """The language models' shared characters, their configs as model fields (forward_lm,
    backward_lm, lm_chars) and their weights under the tagger's names ("forward_lm.rnn...")."""

    chars: CharVocab
    fields: dict
    weights: dict[str, torch.Tensor]


def read_char_lms(data: TaggerData) -> CharLMs | None:
    """The runs `data.char_lm` and `data.char_lm_backward` name (either or both), or None."""
    fields: dict = {}
    weights: dict[str, torch.Tensor] = {}
    chars: CharVocab | None = None
    first_path = ""
    for data_field, (model_field, reverse) in DIRECTIONS.items():
        path = getattr(data, data_field)
        if path is None:
            continue
        run, saved = _charlm_run(path, data_field)
        if bool((saved.data or {}).get("reverse")) != reverse:
            raise UserError(f"{{{data_field}}} {path} was trained on text "
                            f"{'as written' if reverse else 'reversed'}: give one trained "
                            f"{'with' if reverse else 'without'} charlm train --reverse",
                            fields=(data_field,))
        vocab = CharVocab.from_dict(run.read_json(VOCAB_FILE))
        if chars is not None and vocab != chars:
            raise UserError(f"the character language models {first_path} and {path} know "
                            "different characters: pretrain both on the same text",
                            fields=(data_field,))
        chars, first_path = vocab, path
        fields[model_field] = run.build_config(CharLMConfig, saved.model)
        best, _ = run.load_weights(BEST_WEIGHTS)
        weights.update({f"{model_field}.{name}": value for name, value in best.items()})
    if chars is None:
        return None
    return CharLMs(chars, {**fields, "lm_chars": "".join(chars.chars)}, weights)


def _charlm_run(path: str, data_field: str) -> tuple[RunFolder, RunConfig]:
    """The charlm run `path` and its config, or one line naming the field that gave it."""
    run = RunFolder(path)
    try:
        return run, run.read_config("charlm")
    except UserError as exc:
        raise UserError(f"{{{data_field}}}: {exc.template}",
                        fields=(data_field, *exc.fields)) from None


def check_coverage(chars: CharVocab, sentences: list[TaggedSentence], data: TaggerData) -> None:
    """The language models must know every character of the training words, and the space."""
    text = " " + "".join(word for s in sentences for word in s.tokens)
    missing = chars.unknown_chars(text)
    if missing:
        shown = "".join(missing[:SHOWN_MISSING]) + ("..." if len(missing) > SHOWN_MISSING else "")
        named = " and ".join(f"{{{name}}} {getattr(data, name)}" for name in DIRECTIONS
                             if getattr(data, name) is not None)
        raise UserError(f"the character language models ({named}) lack {len(missing)} "
                        f"character(s) of {data.data}: {shown!r}; pretrain them on text that "
                        "has them", fields=tuple(n for n in DIRECTIONS if getattr(data, n)))


def sentence_text(tokens: tuple[str, ...] | list[str]) -> tuple[str, list[int], list[int]]:
    """The string the language models read, " " + the words joined by spaces + " ", and each
    word's first and last character's position in it."""
    first, last, position = [], [], 1
    for word in tokens:
        first.append(position)
        last.append(position + len(word) - 1)
        position += len(word) + 1
    return " " + " ".join(tokens) + " ", first, last


def encode_known(chars: CharVocab, text: str) -> np.ndarray:
    """Ids of `text`, a character the models never saw read as a space (new text at predict
    time; training refuses such data)."""
    unknown = set(chars.unknown_chars(text))
    if unknown:
        text = "".join(" " if c in unknown else c for c in text)
    return chars.encode(text)
