"""Every API route that takes a body checks the key before reading a byte of it: a 19 MiB
upload with no key, a made-up key or a revoked one is answered 401 at once (both databases).
Before, the bulk endpoint parsed the whole multipart body and only then said 401."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from meldplicht.accounts.gate import PUBLIC_WRITES
from meldplicht.accounts.models import Role
from meldplicht.accounts.service import issue_key, revoke_key
from tests.conftest import EmployerWithKey
from tests.security.conftest import Actor

BIG = 19 * 1024 * 1024
CHUNK = 64 * 1024
BOUNDARY = "gate-boundary"
WRITE_METHODS = ("post", "put", "patch", "delete")


def write_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path with sample parameters) for every API route that may take a body."""
    routes = []
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            if method in WRITE_METHODS and path.startswith("/api/") and path not in PUBLIC_WRITES:
                concrete = path
                for name in ("flag_id", "notification_id", "snooze_id", "run_id"):
                    concrete = concrete.replace(
                        "{" + name + "}", "00000000-0000-4000-8000-000000000001"
                    )
                routes.append((method.upper(), concrete))
    assert len(routes) >= 15
    return routes


def call(app: FastAPI, method: str, path: str, authorization: str | None) -> tuple[int, int, float]:
    """The status, how many body bytes the app took, and the seconds it took to answer."""
    headers = [
        (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
        (b"content-length", str(BIG).encode()),
        (b"host", b"testserver"),
    ]
    if authorization is not None:
        headers.append((b"authorization", authorization.encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    taken = 0
    status: list[int] = []
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'

    async def receive() -> dict[str, Any]:
        nonlocal taken
        if taken >= BIG:
            await asyncio.sleep(3600)  # the client sent everything; it waits for the answer
        first = head.encode() if taken == 0 else b""
        chunk = (first + b"x" * CHUNK)[: BIG - taken]
        taken += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": taken < BIG}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    async def run() -> None:
        await asyncio.wait_for(app(scope, receive, send), timeout=30)

    start = time.perf_counter()
    asyncio.run(run())
    return status[0], taken, time.perf_counter() - start


@pytest.fixture
def revoked(session: Session, employer: EmployerWithKey) -> str:
    issued = issue_key(session, role=Role.EMPLOYER, name="old", employer_id=employer.employer.id)
    revoke_key(session, issued.key.prefix)
    return issued.token


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer not-a-key",
        "Bearer mpk_000000000000_madeupsecretmadeupsecretmadeupsecret00",
        "revoked",
    ],
)
def test_no_usable_key_is_401_before_the_body_is_read(
    app: FastAPI, revoked: str, authorization: str | None
) -> None:
    if authorization == "revoked":
        authorization = f"Bearer {revoked}"
    for method, path in write_routes(app):
        status, taken, seconds = call(app, method, path, authorization)
        assert status == 401, (method, path)
        assert taken == 0, f"{method} {path} read {taken} bytes before refusing"
        assert seconds < 2, (method, path, seconds)


@pytest.mark.parametrize("path", sorted(PUBLIC_WRITES))
def test_a_public_write_refuses_a_huge_body_before_reading_it(app: FastAPI, path: str) -> None:
    # No key is asked here (a worker has none): the small body limit answers instead, 413,
    # before the 19 MiB are read.
    status, taken, seconds = call(app, "POST", path, None)
    assert status == 413, path
    assert taken < BIG, f"{path} read all {taken} bytes before refusing"
    assert seconds < 2, (path, seconds)


def test_the_answer_is_the_usual_problem(client: TestClient) -> None:
    response = client.post(
        "/api/v1/notifications/bulk",
        content=b"x" * 1000,
        headers={"Content-Type": "text/csv", "Authorization": "Bearer mpk_a_b"},
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer realm="meldplicht"'
    assert json.loads(response.text)["code"] == "unauthorized"


def test_a_good_key_still_reaches_the_route(
    client: TestClient, employer: EmployerWithKey, actors: dict[str, Actor]
) -> None:
    # Past the gate: the route's own checks answer (an empty CSV is a file error, 422;
    # a key of another role is 403).
    bulk = "/api/v1/notifications/bulk"
    csv = {"Content-Type": "text/csv"}
    assert client.post(bulk, content=b"", headers=employer.headers | csv).status_code == 422
    inspector = actors["inspector"].headers | csv
    assert client.post(bulk, content=b"a", headers=inspector).status_code == 403


PAGE_POSTS = (
    "/employer/bulk",
    "/employer/notifications/new",
    "/inspector/flags/00000000-0000-4000-8000-000000000001/personal-data",
)


def test_a_page_post_without_a_session_is_sent_to_sign_in_unread(app: FastAPI) -> None:
    # The pages check the session (a dependency before the form) before the form is parsed;
    # a form page refuses 19 MiB by its declared length (413) before that.
    for path in PAGE_POSTS:
        status, taken, _ = call(app, "POST", path, None)
        assert status == (303 if path == "/employer/bulk" else 413), path
        assert taken == 0, f"{path} read {taken} bytes before answering"
