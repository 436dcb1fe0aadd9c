"""After a 500 the server keeps the keep-alive connection: the next request on it is served.

Starlette's ServerErrorMiddleware sends the 500 and then re-raises the exception for the
server to log; uvicorn, seeing an exception after the response started, closed the transport,
so the client's next request on that connection was reset. Tested against a real uvicorn
server with one httpx client whose pool holds a single connection.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from meldplicht.app import create_app
from meldplicht.core.config import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server(settings: Settings, engine: Engine) -> Iterator[str]:
    app: FastAPI = create_app(settings, engine)

    def boom() -> None:
        raise RuntimeError("a bug we did not foresee")

    app.add_api_route("/test-boom", boom)
    port = _free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


def _local_port(response: httpx.Response) -> int:
    stream = response.extensions["network_stream"]
    address: tuple[str, int] = stream.get_extra_info("socket").getsockname()
    return address[1]


def test_the_connection_survives_a_500(server: str) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    ports: list[int] = []
    hooks = {"response": [lambda response: ports.append(_local_port(response))]}
    with httpx.Client(base_url=server, limits=limits, timeout=5, event_hooks=hooks) as client:
        first = client.get("/api/v1/rules")
        assert first.status_code == 200
        failed = client.get("/test-boom")
        assert failed.status_code == 500
        assert failed.headers["content-type"].startswith("application/problem+json")
        assert failed.json()["code"] == "internal_error"
        time.sleep(0.2)  # give a closing server the time to close
        after = client.get("/api/v1/rules")
        assert after.status_code == 200
        assert len(set(ports)) == 1, f"a new connection after the 500: ports {ports}"
