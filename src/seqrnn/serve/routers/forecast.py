"""POST /api/forecast: a series and a horizon in, its quantile forecasts out; several run
folders forecast as an ensemble."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seqrnn.configs import ServeLimits
from seqrnn.serve.endpoint import Endpoint
from seqrnn.serve.hooks import ServeHook
from seqrnn.serve.middleware import check_length
from seqrnn.serve.schemas import ForecastRequest, ForecastResponse


def plan(model: Any, request: ForecastRequest, limits: ServeLimits):
    check_length("series", len(request.series), limits.max_series_points,
                 "--max-series-points", unit="values")
    return 1, lambda: answer(model, request)


ENDPOINT = Endpoint("/api/forecast", "Forecast a series: each quantile of each step",
                    ForecastRequest, ForecastResponse, "forecasting", "--forecast", plan)


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


HOOK = ServeHook(what="forecasting", load=_load, routes=ENDPOINT.routes, health=health,
                 ensemble=True)
