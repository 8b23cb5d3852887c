"""POST /api/forecast: a series and a horizon in, its quantile forecasts out; several run
folders forecast as an ensemble."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seqrnn.configs import ServeLimits
from seqrnn.errors import field_error
from seqrnn.serve.endpoint import Endpoint
from seqrnn.serve.hooks import ServeHook
from seqrnn.serve.middleware import check_length
from seqrnn.serve.schemas import ForecastRequest, ForecastResponse

SERVED_POINTS = ("median", "mape")


def plan(model: Any, request: ForecastRequest, limits: ServeLimits):
    check_length("series", len(request.series), limits.max_series_points,
                 "--max-series-points", unit="values")
    if isinstance(request.point, str) and request.point not in SERVED_POINTS:
        # smape and mase choose a level on the run's validation split, which a server never reads
        raise field_error("point", f"{{}} must be a level or one of {', '.join(SERVED_POINTS)}, "
                          f"got {request.point!r}")
    return 1, lambda: answer(model, request)


ENDPOINT = Endpoint("/api/forecast", "Forecast a series: each quantile of each step",
                    ForecastRequest, ForecastResponse, "forecasting", "--forecast", plan)


def answer(model: Any, request: ForecastRequest) -> ForecastResponse:
    found = model.predict([request.series], request.horizon, quantiles=request.quantiles,
                          frequency=request.frequency, point=request.point)
    levels = found.to_dict()["series"][0]["forecast"]
    return ForecastResponse(quantiles=list(found.quantiles), median=found.median[0].tolist(),
                            forecast=levels,
                            point=None if found.point is None else found.point[0].tolist())


def health(model: Any) -> dict[str, Any]:
    config = model.model_config
    return {"frequencies": list(config.frequencies), "horizon": config.horizon}


def _load(run_dirs: list[Path]) -> Any:
    from seqrnn.api.forecast import Forecaster

    return Forecaster.load(run_dirs)


HOOK = ServeHook(what="forecasting", load=_load, routes=ENDPOINT.routes, health=health,
                 ensemble=True)
