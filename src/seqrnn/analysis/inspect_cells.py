"""Which cells of a character language model track something a reader can see.

After Karpathy, Johnson and Fei-Fei, "Visualizing and Understanding Recurrent Networks" (2015):
run the model over a text one character at a time, keep every cell's activation after each
character, and correlate each cell with simple features of the text. A cell whose activation
follows "inside brackets" or "position in the line" is a cell a person can read.

The features are computed from the characters alone, one number per position. Those that
count or track nesting describe the text read up to and including that character, which is
what the cell has seen when its activation is taken: an opening bracket is inside, a closing
one is not.

    position_in_line   characters of the line read so far: 1 on its first, 0 on a newline
    inside_word        1 on letters, 0 elsewhere
    inside_quotes      1 while a double quote is open
    inside_brackets    1 while a ( or [ is open
    speaker_name       1 on a speaker's name opening a line: Hamlet's "  Ham. ..." (one
                       capitalised word and a full stop, then a space) or tinyshakespeare's
                       "HAMLET:" alone on its line
    all_caps_word      1 inside a word of two or more letters, all capitals

The activation of an LSTM cell is tanh(c(t)), its cell state squashed as h(t) squashes it, so
it lies in [-1, 1] like h and colours the same way; for GRU and Elman cells it is h(t).

No I/O here: `inspect` returns data; seqrnn.analysis.inspect_page draws it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from seqrnn.api.charlm import LanguageModel
from seqrnn.data.text import drop_unknown
from seqrnn.errors import UserError
from seqrnn.models.charlm import CharLM

STATES = ("c", "h")
# Hamlet's speaker prefix "  Ham. " and tinyshakespeare's "HAMLET:" line.
_SPEAKER = re.compile(
    r"^[ \t]*([A-Z][A-Za-z]*\.)(?=[ \t])|^([A-Z][A-Za-z']*(?: [A-Z][A-Za-z']*)*:)[ \t]*$", re.M
)
_CAPS_WORD = re.compile(r"\b[A-Z]{2,}\b")


def _position_in_line(text: str) -> np.ndarray:
    positions = np.empty(len(text), dtype=np.float64)
    column = 0
    for i, ch in enumerate(text):
        column = 0 if ch == "\n" else column + 1
        positions[i] = column
    return positions


def _inside_word(text: str) -> np.ndarray:
    return np.array([ch.isalpha() for ch in text], dtype=np.float64)


def _spans(text: str, pattern: re.Pattern, *, groups: bool = False) -> np.ndarray:
    """1 on the characters matched by `pattern`, or with `groups` by whichever group matched."""
    marks = np.zeros(len(text), dtype=np.float64)
    for match in pattern.finditer(text):
        if not groups:
            marks[match.start() : match.end()] = 1
            continue
        for g in range(1, len(match.groups()) + 1):
            if match.group(g) is not None:
                marks[match.start(g) : match.end(g)] = 1
    return marks


def _inside_quotes(text: str) -> np.ndarray:
    marks = np.zeros(len(text), dtype=np.float64)
    inside = False
    for i, ch in enumerate(text):
        inside ^= ch == '"'
        marks[i] = inside
    return marks


def _inside_brackets(text: str) -> np.ndarray:
    marks = np.zeros(len(text), dtype=np.float64)
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)  # a stray closing bracket opens nothing
        marks[i] = depth > 0
    return marks


def _speaker_name(text: str) -> np.ndarray:
    return _spans(text, _SPEAKER, groups=True)


def _all_caps_word(text: str) -> np.ndarray:
    return _spans(text, _CAPS_WORD)


FEATURES: dict[str, tuple[Callable[[str], np.ndarray], str]] = {
    "position_in_line": (_position_in_line, "characters of the line read so far"),
    "inside_word": (_inside_word, "on a letter"),
    "inside_quotes": (_inside_quotes, "inside double quotes"),
    "inside_brackets": (_inside_brackets, "inside ( ) or [ ]"),
    "speaker_name": (_speaker_name, "in a speaker's name at the start of a line"),
    "all_caps_word": (_all_caps_word, "in a word written in capitals"),
}


def text_features(text: str) -> dict[str, np.ndarray]:
    """Every feature of `FEATURES` for each character of `text`: name -> (T,) float64."""
    return {name: compute(text) for name, (compute, _) in FEATURES.items()}


@torch.no_grad()
def cell_activations(model: CharLM, ids: torch.Tensor, state: str = "c") -> np.ndarray:
    """Activations (T, L*H) of every cell of every layer after reading each of ids (T,).

    The model is stepped one character at a time from a zero state: fused and explicit
    layers return only their final state, so each step's state is the final state of a
    one-step call. Columns are layer-major: cell j of layer l is column l*H + j.
    """
    if state not in STATES:
        raise UserError(f"unknown {{state}} {state!r}: use one of {', '.join(STATES)}",
                        fields=("state",))
    is_lstm = model.config.cell == "lstm"
    if state == "c" and not is_lstm:
        raise UserError(f"a {model.config.cell} cell has no cell state c: use {{state}} h",
                        fields=("state",))
    model.eval()
    carried, rows = None, []
    for t in range(len(ids)):
        _, carried = model(ids[t : t + 1].view(1, 1), carried)
        if is_lstm:
            h, c = carried  # each (L, 1, H)
            value = torch.tanh(c) if state == "c" else h
        else:
            value = carried  # (L, 1, H)
        rows.append(value[:, 0, :].reshape(-1))  # (L*H,)
    return torch.stack(rows).float().cpu().numpy().astype(np.float64)  # (T, L*H)


def correlations(activations: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Pearson r of each column of activations (T, N) with feature (T,); NaN where constant."""
    a = activations - activations.mean(axis=0)  # (T, N)
    f = feature - feature.mean()  # (T,)
    denominator = np.sqrt((a * a).sum(axis=0) * (f * f).sum())  # (N,)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a.T @ f) / denominator
    return np.where(denominator > 1e-12, r, np.nan)


@dataclass(frozen=True)
class ChosenCell:
    """One cell picked for display: where it is, and the feature it follows best."""

    index: int  # column in cell_activations: layer * hidden_size + unit
    layer: int
    unit: int
    feature: str
    correlation: float  # signed Pearson r with the feature

    def to_dict(self) -> dict:
        return {"index": self.index, "layer": self.layer, "unit": self.unit,
                "feature": self.feature, "description": FEATURES[self.feature][1],
                "correlation": self.correlation}


def choose_cells(
    activations: np.ndarray,
    features: dict[str, np.ndarray],
    k: int,
    hidden_size: int,
    min_abs_r: float = 0.3,
) -> list[ChosenCell]:
    """Pick up to `k` cells, each with the feature it correlates with most.

    First the best cell of every feature whose best |r| reaches `min_abs_r`, strongest
    feature first, so one feature that many cells follow (being on a letter, say) does not
    crowd out the rest; then the remaining slots go to the strongest (cell, feature) pairs
    left. Features that do not vary in the text are skipped: their r is undefined.
    """
    if k < 1:
        raise UserError(f"the number of cells must be at least 1, got {k}", fields=("cells",))
    table = {name: correlations(activations, values) for name, values in features.items()}
    table = {name: r for name, r in table.items() if not np.isnan(r).all()}
    if not table:
        raise UserError("no feature varies in this text: give a longer text with several lines",
                        fields=("text",))
    names = list(table)
    strength = np.abs(np.nan_to_num(np.stack([table[n] for n in names])))  # (F, N)
    chosen: dict[int, str] = {}
    for f in np.argsort(-strength.max(axis=1), kind="stable"):
        cell = int(strength[f].argmax())
        if len(chosen) < k and strength[f, cell] >= min_abs_r and cell not in chosen:
            chosen[cell] = names[f]
    for flat in np.argsort(-strength, axis=None, kind="stable"):
        if len(chosen) >= k:
            break
        f, cell = np.unravel_index(flat, strength.shape)
        if not np.isnan(table[names[int(f)]][cell]):  # a constant cell follows no feature
            chosen.setdefault(int(cell), names[int(f)])
    return [ChosenCell(index=cell, layer=cell // hidden_size, unit=cell % hidden_size,
                       feature=name, correlation=float(table[name][cell]))
            for cell, name in chosen.items()]


@dataclass(frozen=True)
class Inspection:
    """The text that was read, the chosen cells, and their activations at each character."""

    text: str
    state: str
    chosen: list[ChosenCell]
    activations: np.ndarray = field(repr=False)  # (T, K): column i belongs to chosen[i]
    dropped_chars: list[str]  # characters the model never saw, left out of `text`

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "state": self.state,
            "dropped_chars": self.dropped_chars,
            "cells": [{**cell.to_dict(), "activations": self.activations[:, i].round(4).tolist()}
                      for i, cell in enumerate(self.chosen)],
        }


def default_state(lm: LanguageModel) -> str:
    """The LSTM's cell state when there is one, else the hidden state."""
    return "c" if lm.model.config.cell == "lstm" else "h"


def inspect(lm: LanguageModel, text: str, *, cells: int = 8, state: str | None = None,
            min_abs_r: float = 0.3) -> Inspection:
    """Read `text` with the model and pick the `cells` most readable cells.

    Characters the model never saw are left out (and listed), as in LanguageModel.evaluate.
    """
    state = state or default_state(lm)
    known, dropped = drop_unknown(lm.vocab, text)
    if len(known) < 2:
        raise UserError("the text to inspect needs at least 2 characters the model knows",
                        fields=("text",))
    ids = torch.as_tensor(lm.vocab.encode(known), dtype=torch.int64, device=lm.device)
    activations = cell_activations(lm.model, ids, state)
    chosen = choose_cells(activations, text_features(known), cells,
                          lm.model.config.hidden_size, min_abs_r)
    columns = activations[:, [cell.index for cell in chosen]]  # (T, K)
    return Inspection(known, state, chosen, columns, dropped)
