"""One router per kind of model; each servable kind's registry entry names its `ServeHook`.

A kind with a hook is loaded by `--<kind> RUN_DIR` (or `--model RUN_DIR`), mounted, and
listed by GET /api/health; its routes answer 404 naming its flag when it was not loaded.
"""

from __future__ import annotations

from seqrnn import registry
from seqrnn.serve.hooks import ServeHook


def serve_hooks() -> dict[str, ServeHook]:
    """kind -> its ServeHook, for every registered kind that is served (registry.Kind.serve)."""
    return {kind.name: registry.resolve(kind.serve) for kind in registry.kinds()
            if kind.serve is not None}
