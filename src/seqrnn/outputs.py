"""The one rule for writing where a user points: nothing is replaced that the writer did not
create, unless the user says so (`--overwrite` on the command line, `overwrite=True` in Python).

- An output file (a plot, an ONNX graph and its JSON, a study's table, an inspection's page)
  that exists is replaced only with overwrite. A folder, a device or a pipe is never taken for
  a file (a rename would replace the device itself), and a run
  folder's own files (config.json, the weights, ...) are never another writer's output, not
  even with overwrite.
- A folder of outputs may exist already; the files the writer puts in it follow the file rule.
- A model folder (`SentimentClassifier.save`) may be new or empty; one that holds anything
  (a saved model, a training run, another kind's model, files of the user's own) is replaced
  only with overwrite. Training refuses a used folder always (`RunFolder.check_new`): a run
  is continued with --resume, not replaced.

Every writer checks before it computes or writes anything, so a refusal costs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from seqrnn.errors import UserError, field_error
from seqrnn.paths import given_path

OVERWRITE = "overwrite"  # the field (flag --overwrite) that allows replacing


def check_file(path: str | os.PathLike, *, overwrite: bool = False,
               field: str = "out") -> Path:
    """`path` as a file a writer may create, or replace where `overwrite` allows it."""
    from seqrnn.run import CONFIG_FILE, run_files  # torch: imported on use, not with the CLI

    path = Path(given_path(path, field))
    if path.is_dir():
        raise field_error(field, f"{{}} {path} is a folder: give the path of a file")
    if os.path.lexists(path) and not (path.is_file() or path.is_symlink()):
        # A write renames a new file into place: over /dev/full or a pipe, as root, that
        # would replace the device itself.
        raise field_error(field, f"{{}} {path} is not a regular file (a device or a pipe): "
                          "give the path of a file")
    if path.name in run_files() and (path.parent / CONFIG_FILE).is_file():
        raise field_error(field, f"{{}} {path} is a file of the run folder {path.parent}: "
                          "choose another {}")
    if os.path.lexists(path) and not overwrite:
        raise _taken(f"{path} already exists", field)
    return path


def check_folder_files(folder: str | os.PathLike, names: Iterable[str], *,
                       overwrite: bool = False, field: str = "out") -> Path:
    """`folder` as one a writer may put the files `names` in: a folder, or none yet (the
    writer makes it; this only checks)."""
    folder = Path(given_path(folder, field))
    if os.path.lexists(folder) and not folder.is_dir():
        raise field_error(field, f"{{}} {folder} is a file: give a folder")
    for name in names:
        check_file(folder / name, overwrite=overwrite, field=field)
    return folder


def check_model_folder(path: str | os.PathLike, *, overwrite: bool = False,
                       field: str = "path") -> Path:
    """`path` as a folder to save a whole model in: new or empty, or replaced with overwrite."""
    from seqrnn.run import RunFolder

    path = Path(given_path(path, field))
    if os.path.lexists(path) and not path.is_dir():
        raise field_error(field, f"{{}} {path} is a file: give a folder")
    held = RunFolder(path).holding() if path.is_dir() else None
    if held and not overwrite:
        raise _taken(f"{path} {held}", field)
    return path


def _taken(what: str, field: str) -> UserError:
    return UserError(f"{what}: choose another {{{field}}}, or pass {{{OVERWRITE}}} to replace "
                     "it", fields=(field, OVERWRITE))
