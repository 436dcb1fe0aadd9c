"""/healthz (the process is alive), /readyz (it can do its job) and /metrics (Prometheus).

No authentication (a load balancer and Prometheus call them), no personal data in the answers,
and no heavy work: /healthz touches nothing, /readyz and /metrics run a handful of cheap
queries. They stay out of the OpenAPI document: they are for operators, not API clients.
"""

from __future__ import annotations

import functools

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine

from meldplicht import __version__
from meldplicht.core import metrics
from meldplicht.core.clock import utcnow
from meldplicht.ops.readiness import database_snapshot, readiness

router = APIRouter(tags=["ops"], include_in_schema=False)


@router.get("/healthz")
async def healthz() -> JSONResponse:
    # async on purpose: it answers on the event loop even when every worker thread is busy.
    return JSONResponse({"status": "ok", "version": __version__})


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    engine: Engine = request.app.state.engine
    status_code, body = readiness(engine, utcnow())
    body["version"] = __version__
    headers = {"Retry-After": "5", "Cache-Control": "no-store"} if status_code == 503 else None
    return JSONResponse(body, status_code=status_code, headers=headers)


@router.get("/metrics")
def prometheus_metrics(request: Request) -> Response:
    engine: Engine = request.app.state.engine
    body = metrics.render(functools.partial(database_snapshot, engine))
    return Response(body, media_type=metrics.CONTENT_TYPE)
