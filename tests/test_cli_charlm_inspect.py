"""`seqrnn charlm inspect` (cli/charlm_inspect.py)."""

import json

from seqrnn.analysis.inspect_page import DATA_FILE, PAGE_FILE
from seqrnn.cli import main
from tests.test_inspect_cells import PLANTED_UNIT, TEXT, planted_model, save_run


def test_cli_inspect_reports_each_chosen_cell(tmp_path, capsys):
    save_run(planted_model(), tmp_path / "run")
    (tmp_path / "text.txt").write_text(TEXT * 2, encoding="utf-8")
    status = main(["charlm", "inspect", "--model", str(tmp_path / "run"), "--text",
                   str(tmp_path / "text.txt"), "--out", str(tmp_path / "page"), "--cells", "2",
                   "--max-chars", "100"])
    out, err = capsys.readouterr()
    assert status == 0, err
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].split()[:4] == ["layer", "1", "cell", str(PLANTED_UNIT)]
    assert "inside_brackets" in lines[0] and "r = +" in lines[0]
    data = json.loads((tmp_path / "page" / DATA_FILE).read_text())
    assert len(data["text"]) == 100 and (tmp_path / "page" / PAGE_FILE).is_file()
    (tmp_path / "page" / DATA_FILE).write_text("mine")
    assert main(["charlm", "inspect", "--model", str(tmp_path / "run"), "--text",
                 str(tmp_path / "text.txt"), "--out", str(tmp_path / "page")]) == 2
    assert capsys.readouterr() == ("", f"seqrnn: error: {tmp_path / 'page' / PAGE_FILE} already "
                                   "exists: choose another --out, or pass --overwrite to "
                                   "replace it\n")
    assert (tmp_path / "page" / DATA_FILE).read_text() == "mine"


def test_cli_inspect_errors_are_one_line_and_status_2(tmp_path, capsys):
    (tmp_path / "text.txt").write_text(TEXT, encoding="utf-8")
    common = ["--text", str(tmp_path / "text.txt"), "--out", str(tmp_path / "page")]
    assert main(["charlm", "inspect", "--model", str(tmp_path / "missing"), *common]) == 2
    assert "not found" in capsys.readouterr().err
    save_run(planted_model(), tmp_path / "run")
    assert main(["charlm", "inspect", "--model", str(tmp_path / "run"), *common,
                 "--max-chars", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seqrnn: error: --start") and err.count("\n") == 1
    assert main(["charlm", "inspect", "--model", str(tmp_path / "run"), *common,
                 "--threads", "0"]) == 2
    assert "--threads must be at least 1" in capsys.readouterr().err
