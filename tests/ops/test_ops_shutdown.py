"""SIGTERM lets in-flight requests finish (uvicorn's graceful shutdown) before the exit."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.factories import notification_body
from tests.ops.servers import (
    Server,
    auth,
    base_env,
    count_rows,
    employer_token,
    fresh_database,
)


@pytest.mark.slow
def test_sigterm_finishes_the_request_in_flight(tmp_path: Path) -> None:
    # The server process does not care which database it has: SQLite suffices here.
    with fresh_database("sqlite", tmp_path) as database_url:
        env = base_env(database_url, MELDPLICHT_TEST_REQUEST_DELAY_MS="2000")
        token = employer_token(env, tmp_path)
        server = Server(env=env, cwd=tmp_path).start()
        outcome: dict[str, Any] = {}

        def slow_request() -> None:
            headers = {**auth(token, uuid.uuid4().hex), "X-Test-Delay": "1"}
            started = time.monotonic()
            r = httpx.post(
                f"{server.url}/api/v1/notifications",
                json=notification_body(),
                headers=headers,
                timeout=30,
            )
            outcome.update(status=r.status_code, seconds=time.monotonic() - started, text=r.text)

        thread = threading.Thread(target=slow_request)
        thread.start()
        time.sleep(0.7)  # the request is inside the server, held by the test delay
        server.signal(signal.SIGTERM)
        time.sleep(0.3)
        with pytest.raises(httpx.TransportError):  # no new work is accepted meanwhile
            httpx.get(f"{server.url}/healthz", timeout=2)
        thread.join(30)
        # uvicorn finishes the work, then re-raises SIGTERM so the exit status tells why.
        assert server.wait(30) in (0, -signal.SIGTERM)
        assert outcome["status"] == 201, outcome["text"]
        assert outcome["seconds"] >= 2.0
        assert count_rows(database_url, "SELECT count(*) FROM notification") == 1
        assert "Waiting for application shutdown" in server.log() or "Shutting down" in (
            server.log()
        )
