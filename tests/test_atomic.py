import errno
import json
import os
import tempfile

import pytest
from safetensors import SafetensorError

from seqrnn.atomic import as_os_error, atomic_open, atomic_path, staged_folder, write_json
from seqrnn.errors import UserError


def test_write_json_is_complete_and_leaves_no_temporary(tmp_path):
    write_json(tmp_path / "a.json", {"b": 1})
    assert json.loads((tmp_path / "a.json").read_text()) == {"b": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_write_json_writes_null_for_nan_and_infinity(tmp_path):
    """Strict parsers (JavaScript's, jq) refuse NaN and Infinity: cells.json, X.onnx.json."""
    write_json(tmp_path / "a.json", {"auc": float("nan"), "ppl": [float("inf"), 1.5]})
    text = (tmp_path / "a.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"auc": None, "ppl": [None, 1.5]}


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(target) as f:
        f.write("half")
        raise RuntimeError("crash while writing")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_written_files_get_the_usual_permissions(tmp_path):
    write_json(tmp_path / "a.json", {})
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o666 & ~mask


def failed_write(exc):
    """A writer for atomic_path that writes half a file, then fails with `exc`."""
    def write(path):
        path.write_bytes(b"half")
        raise exc
    return write


def torch_full_disk() -> RuntimeError:
    """What torch.save into a Python file raises on a full disk: its own error, the
    file's OSError as its context."""
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError:
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos "
                               "576 vs 534") from None
    except RuntimeError as exc:
        exc.__suppress_context__ = False
        return exc


@pytest.mark.parametrize(("error", "code"), [
    (SafetensorError("Error while serializing: I/O error: No space left on device "
                     "(os error 28)"), errno.ENOSPC),
    (SafetensorError("Error while serializing: I/O error: Disk quota exceeded "
                     "(os error 122)"), errno.EDQUOT),
    (torch_full_disk(), errno.ENOSPC),
    (OSError(errno.EROFS, "Read-only file system"), errno.EROFS),
])
def test_a_failed_write_is_an_os_error_naming_the_target(tmp_path, error, code):
    target = tmp_path / "w.safetensors"
    target.write_text("old")
    with pytest.raises(OSError) as caught, atomic_path(target) as tmp:
        failed_write(error)(tmp)
    assert caught.value.errno == code and caught.value.filename == str(target)
    assert caught.value.__cause__ is error
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]


def test_errors_that_are_not_about_writing_pass_unchanged(tmp_path):
    with pytest.raises(ValueError, match="bad value"), atomic_path(tmp_path / "a") as tmp:
        failed_write(ValueError("bad value"))(tmp)
    other = FileNotFoundError(errno.ENOENT, "No such file or directory", "/the/input")
    with pytest.raises(FileNotFoundError) as caught, atomic_path(tmp_path / "a") as tmp:
        failed_write(other)(tmp)
    assert caught.value is other  # about the file it read: its own name says where
    assert as_os_error(RuntimeError("unexpected pos 5")) is None
    assert list(tmp_path.iterdir()) == []


def test_an_error_raised_from_none_is_not_followed_to_its_suppressed_context(tmp_path):
    """A writer that turns a failed read into its own error (`from None`) keeps that error:
    the read's FileNotFoundError is not reported as a failure to write the output."""
    refused = UserError("the input is missing: give --text an existing file")

    def write(path):
        path.write_bytes(b"half")
        try:
            open(tmp_path / "missing.txt").close()
        except FileNotFoundError:
            raise refused from None

    with pytest.raises(UserError) as caught, atomic_path(tmp_path / "out.json") as tmp:
        write(tmp)
    assert caught.value is refused
    assert list(tmp_path.iterdir()) == []


def test_only_safetensors_and_torch_errors_are_read_for_an_os_error_code():
    assert as_os_error(ValueError("bad value (os error 28)")) is None
    assert as_os_error(UserError("a file named '(os error 28)'")) is None
    assert as_os_error(RuntimeError("unexpected EOF (os error 5)")).errno == errno.EIO


def test_a_read_only_folder_names_the_target(tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / ".a.json.x.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(OSError) as caught:
        write_json(tmp_path / "a.json", {})
    assert caught.value.errno == errno.EROFS and caught.value.filename == str(tmp_path / "a.json")


def test_a_staged_folder_appears_whole_or_not_at_all(tmp_path):
    with staged_folder(tmp_path / "new") as stage:
        (stage / "a").write_text("1")
        assert not (tmp_path / "new").exists()
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["a"]
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o777 & ~mask
    with pytest.raises(OSError) as caught, staged_folder(tmp_path / "other") as stage:
        write_json(stage / "a.json", {})
        raise OSError(errno.ENOSPC, "No space left on device", str(stage / "b.json"))
    assert caught.value.filename == str(tmp_path / "other")  # not the staging folder's name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]


def test_a_staged_folder_replaces_its_files_in_an_existing_one(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    for name in ("a", "stale", "yours"):
        (target / name).write_text("old")
    with staged_folder(target, stale=("a", "stale"), last=("a",)) as stage:
        (stage / "a").write_text("new")
        (stage / "b").write_text("new")
        with pytest.raises(RuntimeError), staged_folder(target) as inner:  # a failed writer...
            (inner / "a").write_text("never")
            raise RuntimeError("crash")
        assert (target / "a").read_text() == "old"  # ...left the folder as it was
    assert {p.name: p.read_text() for p in target.iterdir()} == {"a": "new", "b": "new",
                                                                 "yours": "old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
