"""Pictures of an encoder-decoder's attention (analysis/attention.py), drawn for a fake model
whose attention is known."""

import json

import numpy as np
import pytest

from seqrnn.analysis.attention import SUMMARY_FILE, write_attention
from seqrnn.errors import UserError


class Known:
    """Writes each source reversed, looking at the mirrored source token."""

    def attention(self, source: str, beam: int = 1):
        if "!" in source:
            raise UserError(f"the source {source!r} has symbols the model never saw: ['!']")
        tokens = list(source)
        weights = np.fliplr(np.eye(len(tokens)))
        return tokens, tokens[::-1], weights


def test_each_source_gets_a_picture_a_page_and_its_weights(tmp_path):
    written = write_attention(Known(), ["ab<", "x y"], tmp_path / "out")
    names = [path.name for path in written]
    assert names == ["01-ab_.png", "01-ab_.html", "02-x_y.png", "02-x_y.html", SUMMARY_FILE]
    assert all(path.stat().st_size > 0 for path in written)
    assert (tmp_path / "out" / "01-ab_.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (tmp_path / "out" / "01-ab_.html").read_text(encoding="utf-8")
    assert "<title>Attention: ab&lt;</title>" in page and "<th>&lt;</th>" in page
    assert page.count('title="1.000"') == 3 and page.count('title="0.000"') == 6
    records = json.loads((tmp_path / "out" / SUMMARY_FILE).read_text())
    assert records[1] == {"source": "x y", "source_tokens": ["x", " ", "y"],
                          "output_tokens": ["y", " ", "x"],
                          "weights": [[0, 0, 1], [0, 1, 0], [1, 0, 0]]}


def test_a_source_the_model_refuses_writes_nothing(tmp_path):
    with pytest.raises(UserError, match="never saw"):
        write_attention(Known(), ["ab", "a!"], tmp_path / "out")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_files_already_there_are_replaced_only_when_asked(tmp_path):
    write_attention(Known(), ["ab"], tmp_path)
    (tmp_path / SUMMARY_FILE).write_text("mine")
    with pytest.raises(UserError, match="already exists"):
        write_attention(Known(), ["ab"], tmp_path)
    assert (tmp_path / SUMMARY_FILE).read_text() == "mine"
    write_attention(Known(), ["ab"], tmp_path, overwrite=True)
    assert json.loads((tmp_path / SUMMARY_FILE).read_text())[0]["source"] == "ab"
