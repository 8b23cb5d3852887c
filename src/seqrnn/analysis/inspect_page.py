"""Draw an Inspection as one self-contained HTML page: the text coloured by each chosen cell.

Red is a positive activation, blue a negative one, the stronger the more saturated, as in
Karpathy, Johnson and Fei-Fei (2015). Activations are binned into 21 shades so that runs of
characters with the same shade share one <span>, which keeps long texts small.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from seqrnn.analysis.inspect_cells import Inspection
from seqrnn.atomic import atomic_open, write_json
from seqrnn.outputs import check_folder_files

PAGE_FILE = "index.html"
DATA_FILE = "cells.json"
OUTPUT_FILES = (PAGE_FILE, DATA_FILE)
_SHADES = 10  # per sign; bin 10 is zero


def shade_css() -> str:
    """CSS classes .s0 (-1, deep blue) .. .s10 (0, no colour) .. .s20 (+1, deep red)."""
    rules = []
    for b in range(2 * _SHADES + 1):
        strength = abs(b - _SHADES) / _SHADES
        rgb = "214,39,40" if b > _SHADES else "31,119,180"
        rules.append(f".s{b}{{background:rgba({rgb},{strength:.2f})}}")
    return "\n".join(rules)


def _shade_bins(values: np.ndarray) -> np.ndarray:
    return np.rint((np.clip(values, -1, 1) + 1) * _SHADES).astype(int)


def coloured_text(text: str, values: np.ndarray) -> str:
    """The text as <span class="sB"> runs, B the shade of each character's activation."""
    bins = _shade_bins(values)
    parts, start = [], 0
    for i in range(1, len(text) + 1):
        if i == len(text) or bins[i] != bins[start]:
            parts.append(f'<span class="s{bins[start]}">{html.escape(text[start:i])}</span>')
            start = i
    return "".join(parts)


def render_page(inspection: Inspection, title: str) -> str:
    """The whole page: a table of the chosen cells, then the text once per cell."""
    rows, sections = [], []
    for i, cell in enumerate(inspection.chosen):
        name = f"layer {cell.layer + 1}, cell {cell.unit}"
        about = html.escape(cell.to_dict()["description"])
        rows.append(f"<tr><td><a href='#cell{i}'>{name}</a></td><td>{cell.feature}</td>"
                    f"<td>{about}</td><td>{cell.correlation:+.3f}</td></tr>")
        sections.append(
            f"<h2 id='cell{i}'>{name}: {cell.feature} (r = {cell.correlation:+.3f})</h2>"
            f"<div class='text'>{coloured_text(inspection.text, inspection.activations[:, i])}"
            "</div>"
        )
    dropped = ""
    if inspection.dropped_chars:
        shown = html.escape(json.dumps("".join(inspection.dropped_chars)))
        dropped = f"<p>Left out, never seen in training: {shown}</p>"
    state = "tanh(c), the cell state" if inspection.state == "c" else "h, the hidden state"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
.text{{font-family:ui-monospace,monospace;white-space:pre-wrap;line-height:1.5;
border:1px solid #ccc;padding:.5rem}}
table{{border-collapse:collapse}}td,th{{padding:.2rem .6rem;border-bottom:1px solid #ddd}}
{shade_css()}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Each character is coloured by one cell's activation after reading it ({state}):
<span class="s20">positive</span>, <span class="s0">negative</span>. Cells were picked by
their correlation r with simple features of the text.</p>{dropped}
<table><tr><th>cell</th><th>feature</th><th>meaning</th><th>r</th></tr>
{"".join(rows)}</table>
{"".join(sections)}
</body></html>
"""


def write_page(inspection: Inspection, out_dir: str | Path, title: str, *,
               overwrite: bool = False) -> Path:
    """Write index.html and cells.json (the same data) into `out_dir`; return the page's path.

    Either file already there is replaced only with `overwrite`."""
    out_dir = check_folder_files(out_dir, OUTPUT_FILES, overwrite=overwrite)
    page = out_dir / PAGE_FILE
    with atomic_open(page, "w", encoding="utf-8") as f:
        f.write(render_page(inspection, title))
    write_json(out_dir / DATA_FILE, inspection.to_dict())
    return page
