import json
import struct

import pytest

from seqrnn.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_metrics(run_dir, extra_metric: bool = False) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    records = [{"kind": "train", "step": s, "loss": 2.0 / s} for s in range(1, 11)]
    for step in (5, 10):
        record = {"kind": "eval", "step": step, "val_loss": 1.0 / step}
        if extra_metric:
            record["val_accuracy"] = 0.5 + step / 40
        records.append(record)
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    return struct.unpack(">II", data[16:24])  # width, height from the IHDR chunk


def test_plot_writes_the_curves_beside_the_metrics(tmp_path, capsys):
    write_metrics(tmp_path / "run")
    assert main(["plot", str(tmp_path / "run")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "run" / "loss.png")
    assert png_size(tmp_path / "run" / "loss.png") == (600, 400)  # one panel, 6 x 4 in at 100 dpi


def test_plot_draws_a_panel_per_extra_metric_wherever_asked(tmp_path):
    write_metrics(tmp_path / "run", extra_metric=True)
    out = tmp_path / "pictures" / "curves.png"
    assert main(["plot", str(tmp_path / "run"), "--out", str(out)]) == 0
    assert png_size(out) == (1000, 400)  # loss, and accuracy beside it
    assert not (tmp_path / "run" / "loss.png").exists()


@pytest.mark.parametrize(("setup", "message"), [
    ("missing", "not found"),
    ("no_metrics", "no metrics.jsonl records"),
    ("empty", "no metrics.jsonl records"),
    ("corrupt", "not a seqrnn metrics file"),
    ("foreign", "not a seqrnn metrics file"),
])
def test_plot_errors_are_one_line_and_status_2(tmp_path, capsys, setup, message):
    run = tmp_path / "run"
    if setup != "missing":
        run.mkdir()
    if setup == "empty":
        (run / "metrics.jsonl").write_text("\n")
    if setup == "corrupt":
        (run / "metrics.jsonl").write_text('{"kind": "train", "st\n')
    if setup == "foreign":
        (run / "metrics.jsonl").write_text('{"epoch": 1}\n')
    assert main(["plot", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seqrnn: error: ") and message in err and err.count("\n") == 1
    assert not (run / "loss.png").exists()


def test_plot_refuses_a_folder_as_output(tmp_path, capsys):
    write_metrics(tmp_path / "run")
    assert main(["plot", str(tmp_path / "run"), "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_plot_output_under_a_file_is_one_line(tmp_path, capsys):
    write_metrics(tmp_path / "run")
    (tmp_path / "a-file").write_text("x")
    assert main(["plot", str(tmp_path / "run"), "--out", str(tmp_path / "a-file" / "x.png")]) == 2
    assert capsys.readouterr().err == (f"seqrnn: error: {tmp_path / 'a-file'}: Not a directory; "
                                       "check the path and its permissions\n")


@pytest.mark.parametrize(("suffix", "magic"), [(".svg", b"<?xml"), (".pdf", b"%PDF"),
                                               (".PNG", PNG_MAGIC)])
def test_plot_writes_the_format_its_suffix_names(tmp_path, suffix, magic):
    write_metrics(tmp_path / "run")
    out = tmp_path / f"curves{suffix}"
    assert main(["plot", str(tmp_path / "run"), "--out", str(out)]) == 0
    assert out.read_bytes().startswith(magic)


@pytest.mark.parametrize("name", ["curves.jpg", "curves"])
def test_plot_refuses_a_suffix_that_names_no_format(tmp_path, capsys, name):
    write_metrics(tmp_path / "run")
    assert main(["plot", str(tmp_path / "run"), "--out", str(tmp_path / name)]) == 2
    assert capsys.readouterr().err == (f"seqrnn: error: --out {tmp_path / name} should end in "
                                       ".png, .svg or .pdf: the picture is written in the format "
                                       "its suffix names\n")
    assert not (tmp_path / name).exists()


def test_plot_replaces_an_existing_file_only_when_asked(tmp_path, capsys):
    write_metrics(tmp_path / "run")
    out = tmp_path / "mine.png"
    out.write_bytes(b"my picture")
    assert main(["plot", str(tmp_path / "run"), "--out", str(out)]) == 2
    assert capsys.readouterr().err == (f"seqrnn: error: {out} already exists: choose another "
                                       "--out, or pass --overwrite to replace it\n")
    assert out.read_bytes() == b"my picture"
    assert main(["plot", str(tmp_path / "run"), "--out", str(out), "--overwrite"]) == 0
    assert png_size(out) == (600, 400)


def test_plot_redraws_the_runs_own_curve_but_no_other_run_file(tmp_path, capsys):
    write_metrics(tmp_path / "run")
    (tmp_path / "run" / "config.json").write_text("{}")
    (tmp_path / "run" / "loss.png").write_bytes(b"old curve")
    assert main(["plot", str(tmp_path / "run")]) == 0
    assert main(["plot", str(tmp_path / "run"), "--out", str(tmp_path / "run" / "loss.png")]) == 0
    assert png_size(tmp_path / "run" / "loss.png") == (600, 400)
    capsys.readouterr()
    target = tmp_path / "run" / "metrics.jsonl"
    for extra in ([], ["--overwrite"]):
        assert main(["plot", str(tmp_path / "run"), "--out", str(target), *extra]) == 2
        assert "is a file of the run folder" in capsys.readouterr().err
    assert (tmp_path / "run" / "config.json").read_text() == "{}"
