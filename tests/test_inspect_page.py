"""The HTML page of an inspection (analysis/inspect_page.py)."""

import json

import numpy as np
import pytest

from seqrnn.analysis.inspect_cells import inspect
from seqrnn.analysis.inspect_page import DATA_FILE, PAGE_FILE, coloured_text, shade_css, write_page
from seqrnn.errors import UserError
from tests.test_inspect_cells import PLANTED_UNIT, TEXT, planted_model


def test_the_shades_run_from_deep_blue_through_none_to_deep_red():
    rules = shade_css().splitlines()
    assert len(rules) == 21
    assert rules[0] == ".s0{background:rgba(31,119,180,1.00)}"
    assert rules[10] == ".s10{background:rgba(31,119,180,0.00)}"
    assert rules[20] == ".s20{background:rgba(214,39,40,1.00)}"


def test_coloured_text_escapes_and_groups_runs_of_one_shade():
    html = coloured_text("a<b&c", np.array([1.0, 1.0, 0.0, 0.0, -1.0]))
    assert html == ('<span class="s20">a&lt;</span><span class="s10">b&amp;</span>'
                    '<span class="s0">c</span>')


def test_write_page_writes_the_page_and_its_data(tmp_path):
    inspection = inspect(planted_model(), TEXT, cells=2)
    page = write_page(inspection, tmp_path / "out", title="Cells <of> a test")
    assert page == tmp_path / "out" / PAGE_FILE
    text = page.read_text(encoding="utf-8")
    assert "Cells &lt;of&gt; a test" in text and "inside_brackets (r = +" in text
    data = json.loads((tmp_path / "out" / DATA_FILE).read_text())
    assert data["cells"][0]["unit"] == PLANTED_UNIT
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [DATA_FILE, PAGE_FILE]
    with pytest.raises(UserError, match="is a file"):
        write_page(inspection, page, title="again")
    with pytest.raises(UserError, match=f"{page} already exists: choose another out, or pass "
                                        "overwrite to replace it"):
        write_page(inspection, tmp_path / "out", title="again")
    assert "Cells &lt;of&gt; a test" in page.read_text(encoding="utf-8")
    write_page(inspection, tmp_path / "out", title="again", overwrite=True)
    assert "again" in page.read_text(encoding="utf-8")
