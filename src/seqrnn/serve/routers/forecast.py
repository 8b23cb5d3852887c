"""POST /api/forecast: a series and a horizon in, its quantile forecasts out; several run
folders forecast as an ensemble."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter

from seqrnn.serve.hooks import Served, ServeHook
from seqrnn.serve.middleware import check_length, require
from seqrnn.serve.schemas import BUSY, ERRORS, ForecastRequest, ForecastResponse


def routes(served: Served) -> APIRouter:
    router = APIRouter()
    limits, admission = served.limits, served.admission

    @router.post("/api/forecast", responses={**ERRORS, **BUSY},
                 summary="Forecast a series: each quantile of each step")
    async def forecast(request: ForecastRequest) -> ForecastResponse:
        model = require(served.model, "forecasting", "--forecast")
        check_length("series", len(request.series), limits.max_series_points,
                     "--max-series-points", unit="values")
        return await admission.run_admitted(1, lambda: answer(model, request))

    return router


def answer(model: Any, request: ForecastRequest) -> ForecastResponse:
    found = model.predict([request.series], request.horizon, quantiles=request.quantiles,
                          frequency=request.frequency)
    levels = found.to_dict()["series"][0]["forecast"]
    return ForecastResponse(quantiles=list(found.quantiles), median=found.median[0].tolist(),
                            forecast=levels)


def health(model: Any) -> dict[str, Any]:
    config = model.model_config
    return {"frequencies": list(config.frequencies), "horizon": config.horizon}


def _load(run_dirs: list[Path]) -> Any:
    from seqrnn.api.forecast import Forecaster

    return Forecaster.load(run_dirs)


HOOK = ServeHook(what="forecasting", load=_load, routes=routes, health=health, ensemble=True)
