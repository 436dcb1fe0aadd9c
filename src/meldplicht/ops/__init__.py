"""Operations: health and readiness probes, Prometheus metrics, structured access logs."""

from __future__ import annotations

import os

from fastapi import FastAPI

from meldplicht.core.config import Environment, Settings
from meldplicht.core.logging import configure_logging

TEST_DELAY_ENV = "MELDPLICHT_TEST_REQUEST_DELAY_MS"


def test_request_delay_ms(settings: Settings) -> int:
    """The test-only delay (see OpsMiddleware); always 0 in production."""
    raw = os.environ.get(TEST_DELAY_ENV, "")
    if settings.environment is Environment.PRODUCTION or not raw.isdigit():
        return 0
    return int(raw)


def mount_ops(app: FastAPI) -> None:
    """Logging, the ops routes and the metrics/access-log middleware, for create_app.

    Call it before the request-id middleware is added: middleware added earlier sits further
    inside, so the access log sees the request id.
    """
    from meldplicht.ops.middleware import OpsMiddleware
    from meldplicht.ops.router import router

    settings: Settings = app.state.settings
    configure_logging(settings)
    app.include_router(router)
    app.add_middleware(OpsMiddleware, test_delay_ms=test_request_delay_ms(settings))
