"""seqrnn.outputs: the one rule for writing where a user points."""

import os
import stat

import pytest

from seqrnn.errors import UserError
from seqrnn.outputs import check_file, check_folder_files


def test_an_existing_file_is_replaced_only_when_asked(tmp_path):
    target = tmp_path / "x.png"
    assert check_file(target) == target
    target.write_bytes(b"mine")
    with pytest.raises(UserError, match="x.png already exists: choose another out, or pass "
                       "overwrite to replace it"):
        check_file(target)
    assert check_file(target, overwrite=True) == target


def test_a_device_or_pipe_is_never_an_output_file(tmp_path):
    # A writer renames its new file into place: over a device (as root, /dev/full) or a pipe
    # that would replace the node itself.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for overwrite in (False, True):
        with pytest.raises(UserError, match="pipe is not a regular file") as error:
            check_file(fifo, overwrite=overwrite)
        assert error.value.field == "out"
    with pytest.raises(UserError, match="not a regular file"):
        check_folder_files(tmp_path, ["pipe"], overwrite=True)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
