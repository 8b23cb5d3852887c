"""One router per kind of model, and the table the app mounts: kind -> `ServeHook`.

A kind the table names is loaded by `--<kind> RUN_DIR` (or `--model RUN_DIR`), mounted, and
listed by GET /api/health; its routes answer 404 naming its flag when it was not loaded.
"""

from __future__ import annotations

from seqrnn.serve.hooks import ServeHook
from seqrnn.serve.routers import charlm, sentiment, seq2seq, wordlm

SERVE_HOOKS: dict[str, ServeHook] = {
    "sentiment": sentiment.HOOK,
    "charlm": charlm.HOOK,
    "wordlm": wordlm.HOOK,
    "seq2seq": seq2seq.HOOK,
}
