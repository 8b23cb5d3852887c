"""What the server needs of a kind of model: how to load it, its routes, its health fields.

Each servable kind's registry entry names its `ServeHook` (seqrnn.serve.routers.serve_hooks);
the app loads, mounts and reports every kind that has one and names none itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from seqrnn.configs import ServeLimits
from seqrnn.errors import UserError
from seqrnn.serve.admission import WorkAdmission


@dataclass(frozen=True)
class Served:
    """What a kind's routes answer with: its loaded model (None when not loaded, so its routes
    answer 404 naming the flag), the limits, and the admission that generation shares."""

    kind: str
    model: Any
    limits: ServeLimits
    admission: WorkAdmission


def no_health(model: Any) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class ServeHook:
    """One kind of model on the server.

    `load(run_dirs)` loads one run folder, or several as an ensemble where `ensemble` is set;
    `routes(served)` builds the kind's router; `health(model)` adds fields of the loaded model
    to GET /api/health (those of `HealthResponse`)."""

    what: str  # how an error names the model: "no {what} model is loaded"
    load: Callable[[list[Path]], Any]
    routes: Callable[[Served], APIRouter]
    health: Callable[[Any], dict[str, Any]] = no_health
    ensemble: bool = False

    def load_runs(self, kind: str, run_dirs: list[Path]) -> Any:
        """The model of `run_dirs`; UserError for several where the kind serves one."""
        if len(run_dirs) > 1 and not self.ensemble:
            raise UserError(f"{len(run_dirs)} {kind} run folders were given, and a {self.what} "
                            f"model is served alone (no ensemble): give one --{kind} RUN_DIR")
        return self.load(run_dirs)

