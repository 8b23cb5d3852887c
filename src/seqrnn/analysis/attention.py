"""Pictures of an encoder-decoder's attention: where the decoder looked to write each token.

For each source, a PNG (a heat map, output tokens down, source tokens across) and an HTML page
(the same weights as a shaded table, readable without an image viewer), plus attention.json
with every weight. Written atomically into one folder.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np

from seqrnn.atomic import atomic_open, atomic_path, write_json
from seqrnn.outputs import check_folder_files

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
SUMMARY_FILE = "attention.json"


def _name(index: int, source: str) -> str:
    return f"{index + 1:02d}-{_UNSAFE.sub('_', source)[:40] or 'source'}"


def _png(path: Path, source: list[str], output: list[str], weights: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1 + 0.45 * len(source), 1 + 0.4 * len(output)))
    ax.imshow(weights, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(source)), source)
    ax.set_yticks(range(len(output)), output)
    ax.set_xlabel("source")
    ax.set_ylabel("output, as written")
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def _html(source_text: str, source: list[str], output: list[str], weights: np.ndarray) -> str:
    head = "".join(f"<th>{html.escape(token)}</th>" for token in source)
    rows = []
    for token, row in zip(output, weights, strict=True):
        cells = "".join(
            f'<td style="background: rgba(0,0,0,{w:.3f}); color: {"#fff" if w > 0.5 else "#000"}"'
            f' title="{w:.3f}">{w:.2f}</td>' for w in row)
        rows.append(f"<tr><th>{html.escape(token)}</th>{cells}</tr>")
    title = html.escape(f"Attention: {source_text}")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body {{ font-family: sans-serif; }} td, th {{ padding: 4px 6px; text-align: center; }}
td {{ font-size: 11px; }}</style></head><body>
<h1>{title}</h1>
<p>Each row is an output token as the decoder wrote it; each column a source token; the shade
is the attention weight the decoder gave that source token (each row sums to 1).</p>
<table><tr><th></th>{head}</tr>
{chr(10).join(rows)}
</table></body></html>
"""


def write_attention(model, sources: list[str], out_dir: str | Path, beam: int = 1, *,
                    overwrite: bool = False) -> list[Path]:
    """Pictures of `model` (a seqrnn.api.seq2seq.Transducer) on `sources`; the paths written.

    A file already there is replaced only with `overwrite`."""
    names = [_name(index, text) for index, text in enumerate(sources)]
    out_dir = check_folder_files(out_dir, [*(f"{name}.{suffix}" for name in names
                                             for suffix in ("png", "html")), SUMMARY_FILE],
                                 overwrite=overwrite)
    shown = [(source, *model.attention(source, beam)) for source in sources]  # errors first
    written, records = [], []
    for name, (text, source, output, weights) in zip(names, shown, strict=True):
        _png(out_dir / f"{name}.png", source, output, weights)
        with atomic_open(out_dir / f"{name}.html", "w", encoding="utf-8") as f:
            f.write(_html(text, source, output, weights))
        written += [out_dir / f"{name}.png", out_dir / f"{name}.html"]
        records.append({"source": text, "source_tokens": source, "output_tokens": output,
                        "weights": np.round(weights, 6).tolist()})
    write_json(out_dir / SUMMARY_FILE, records)
    return [*written, out_dir / SUMMARY_FILE]
