"""`seqrnn export` (cli/export.py): the files it writes, refuses and never replaces."""

import json

import pytest

from seqrnn.api.export import export
from seqrnn.cli import main
from seqrnn.errors import UserError

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
from tests.test_export import save_charlm  # noqa: E402 (after the skips: it needs onnx)


def test_export_from_the_command_line_and_its_mistakes(tmp_path, capsys):
    save_charlm(tmp_path / "run")
    assert main(["export", "--model", str(tmp_path / "run"), "--out",
                 str(tmp_path / "m.onnx")]) == 0
    assert (tmp_path / "m.onnx").stat().st_size > 0 and (tmp_path / "m.onnx.json").exists()
    assert "inputs ids, h, c" in capsys.readouterr().err
    for args, message in [
        (["--out", str(tmp_path / "m.bin")], "should end in .onnx"),
        (["--out", str(tmp_path / "x.onnx"), "--weights", "latest"], "latest.safetensors"),
    ]:
        assert main(["export", "--model", str(tmp_path / "run"), *args]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and "Traceback" not in err and len(err.splitlines()) == 1
    (tmp_path / "lm").mkdir()
    (tmp_path / "lm" / "config.json").write_text('{"format_version": 1, "kind": "tagger", '
                                                 '"model": {}}')
    assert main(["export", "--model", str(tmp_path / "lm"), "--out", str(tmp_path / "w.onnx")]) == 2
    assert ("holds a tagger model; export takes charlm, wordlm, sentiment, seq2seq, forecast or tag"
            in capsys.readouterr().err)
    assert not (tmp_path / "w.onnx").exists() and not (tmp_path / "x.onnx").exists()


def test_export_never_replaces_a_run_folders_own_files(tmp_path, capsys):
    run = tmp_path / "run"
    save_charlm(run)
    config = (run / "config.json").read_bytes()
    assert main(["export", "--model", str(run), "--out", str(run / "config.onnx")]) == 0
    assert (run / "config.json").read_bytes() == config  # the JSON went to config.onnx.json
    assert json.loads((run / "config.onnx.json").read_text())["kind"] == "charlm"
    capsys.readouterr()
    (tmp_path / "mine.json").write_text("my notes")  # the old sidecar name: no longer touched
    assert main(["export", "--model", str(run), "--out", str(tmp_path / "mine.onnx")]) == 0
    assert (tmp_path / "mine.json").read_text() == "my notes"


@pytest.mark.parametrize("existing", ["m.onnx", "m.onnx.json"])
def test_export_replaces_existing_files_only_when_asked(tmp_path, capsys, existing):
    save_charlm(tmp_path / "run")
    (tmp_path / existing).write_text("mine")
    argv = ["export", "--model", str(tmp_path / "run"), "--out", str(tmp_path / "m.onnx")]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"seqrnn: error: {tmp_path / existing} already exists: choose another --out, or pass "
        "--overwrite to replace it\n")
    assert (tmp_path / existing).read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == [existing, "run"]
    assert main([*argv, "--overwrite"]) == 0
    assert json.loads((tmp_path / "m.onnx.json").read_text())["onnx"] == "m.onnx"
    with pytest.raises(UserError, match="pass overwrite to replace it"):
        export(tmp_path / "run", tmp_path / "m.onnx")
