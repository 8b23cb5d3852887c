"""Reading data files with errors a user can act on: one line, the problem and the fix."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from seqrnn.errors import UserError


def decode_bytes(raw: bytes, encoding: str, where: str) -> str:
    """`raw` decoded with `encoding`; `where` names the file (or archive member) in errors."""
    try:
        return raw.decode(encoding)
    except LookupError:
        raise UserError(
            f"unknown encoding {encoding!r}; pass a Python codec name to {{encoding}} "
            "(for example utf-8 or latin-1)", fields=("encoding",),
        ) from None
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{where} is not valid {encoding} text (byte 0x{raw[exc.start]:02x} at offset "
            f"{exc.start}); pass its encoding with {{encoding}}, for example {{encoding}} latin-1",
            fields=("encoding",),
        ) from None


def read_vocabulary_json(path: str | os.PathLike) -> Any:
    """The parsed JSON of a saved vocabulary."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"vocabulary file not found: {path}; check the checkpoint") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise UserError(f"cannot read vocabulary {path} ({exc}); restore it or retrain") from None
