"""JSON that every parser reads: NaN and infinities, which JSON has no words for, become null.

A metric that is undefined (ROC AUC of one class) or overflowed (the perplexity of a diverged
model) is null in what seqrnn prints and writes (atomic.write_json, metrics.jsonl), never the
`NaN` or `Infinity` that strict parsers refuse.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """`value` with every NaN or infinite float (numpy's too) replaced by None."""
    if isinstance(value, float):  # numpy's float64 is a float too
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    if hasattr(value, "tolist"):  # a numpy or torch scalar or array
        return finite(value.tolist())
    return value


def dumps(value: Any, **options: Any) -> str:
    """`json.dumps` of `finite(value)`; a NaN left anywhere would be a bug, so it raises."""
    return json.dumps(finite(value), allow_nan=False, **options)
