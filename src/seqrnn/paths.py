"""The first check of every path a user names: an empty one (an unset shell variable) names
nothing, and Path("") would quietly be the current folder. One wording everywhere: the
command line's argparse type, the configs, the writers, the run folder and the data finder."""

from __future__ import annotations

import os

from seqrnn.errors import UserError


def given_path(path: str | os.PathLike, field: str | None = None, *,
               what: str = "the path") -> str | os.PathLike:
    """`path` as given, or a UserError if it is empty, naming `field` (spelled by the front
    end) or, without one, `what`."""
    if not str(path).strip():
        subject = "{" + field + "}" if field else what
        raise UserError(f"{subject} is empty: name a file or folder (is a shell variable "
                        "unset?)", fields=(field,) if field else ())
    return path
