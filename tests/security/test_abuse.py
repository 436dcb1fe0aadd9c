"""Abuse resistance: rate limits, body size, JSON depth and strict content types."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from meldplicht.accounts.ratelimit import RateLimiter, RateLimitSettings, SlidingWindow
from meldplicht.app import MAX_JSON_DEPTH, JsonDepthScanner, create_app
from meldplicht.core.config import Settings
from meldplicht.core.db import session_from_request
from tests.conftest import EmployerWithKey
from tests.factories import notification_body
from tests.security.conftest import CSRF_TOKEN, PASSWORD, Actor, client_as

NOTIFICATIONS = "/api/v1/notifications"
PAYROLL = "/api/v1/payroll/imports"


def _limits(app: FastAPI, **values: float) -> None:
    app.state.rate_limiter = RateLimiter(RateLimitSettings(_env_file=None, **values))  # type: ignore[call-arg]


def _is_problem(response: object, status: int, code: str | None = None) -> dict[str, object]:
    assert getattr(response, "status_code") == status, getattr(response, "text")  # noqa: B009
    headers = getattr(response, "headers")  # noqa: B009
    assert headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = getattr(response, "json")()  # noqa: B009
    if code is not None:
        assert body["code"] == code, body
    return body


class TestSlidingWindow:
    def test_counts_within_the_window_and_forgets_after_it(self) -> None:
        now = [1000.0]
        window = SlidingWindow(limit=3, window=60, clock=lambda: now[0])
        assert all(window.hit("k").allowed for _ in range(3))
        refused = window.hit("k")
        assert not refused.allowed
        assert refused.retry_after == 60
        assert window.hit("other").allowed  # keys are counted apart
        now[0] += 30
        assert window.hit("k").retry_after == 30
        now[0] += 30.5
        assert window.hit("k").allowed


class TestIntakeRateLimit:
    def test_per_api_key_with_retry_after(
        self,
        app: FastAPI,
        client: TestClient,
        employer: EmployerWithKey,
        other_employer: EmployerWithKey,
    ) -> None:
        _limits(app, intake_per_key=2)
        for _ in range(2):
            response = client.post(NOTIFICATIONS, json={}, headers=employer.headers)
            assert response.status_code == 422
        refused = client.post(NOTIFICATIONS, json={}, headers=employer.headers)
        body = _is_problem(refused, 429, "rate_limited")
        assert int(refused.headers["retry-after"]) >= 1
        assert "Retry after" in str(body["detail"])
        # The bulk upload and change notices count against the same key's allowance...
        bulk = client.post(
            f"{NOTIFICATIONS}/bulk",
            content=b"x",
            headers={**employer.headers, "Content-Type": "text/csv"},
        )
        assert bulk.status_code == 429
        # ...but another key has its own, and reads are not intake.
        assert (
            client.post(NOTIFICATIONS, json={}, headers=other_employer.headers).status_code == 422
        )
        assert client.get(NOTIFICATIONS, headers=employer.headers).status_code == 200

    def test_a_wrong_secret_does_not_spend_the_keys_allowance(
        self, app: FastAPI, client: TestClient, employer: EmployerWithKey
    ) -> None:
        _limits(app, intake_per_key=1)
        forged = "_".join(employer.token.split("_")[:2]) + "_wrongsecret"
        for _ in range(5):
            response = client.post(
                NOTIFICATIONS, json={}, headers={"Authorization": f"Bearer {forged}"}
            )
            assert response.status_code == 401
        assert client.post(NOTIFICATIONS, json={}, headers=employer.headers).status_code == 422

    def test_payroll_imports_are_limited_per_key(
        self, app: FastAPI, api: TestClient, settings: Settings, actors: dict[str, Actor]
    ) -> None:
        _limits(app, intake_per_key=1)
        client = client_as(api, settings, actors["data_partner"])
        csv = {"Content-Type": "text/csv"}
        assert client.post(PAYROLL, content=b"", headers=csv).status_code == 422
        _is_problem(client.post(PAYROLL, content=b"", headers=csv), 429, "rate_limited")


class TestLoginRateLimit:
    def _login(self, client: TestClient, username: str, password: str = "wrong") -> int:  # noqa: S107
        form = {"username": username, "password": password, "csrf_token": CSRF_TOKEN}
        return client.post("/login", data=form, follow_redirects=False).status_code

    def test_per_account(
        self, app: FastAPI, api: TestClient, settings: Settings, actors: dict[str, Actor]
    ) -> None:
        _limits(app, login_per_account=3, login_per_address=100)
        client = client_as(api, settings, actors["anonymous"])
        assert [self._login(client, "nobody") for _ in range(3)] == [401, 401, 401]
        response = client.post(
            "/login",
            data={"username": "nobody", "password": "x", "csrf_token": CSRF_TOKEN},
            follow_redirects=False,
        )
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) >= 1
        # Another account from the same address is still heard (the right password works).
        assert self._login(client, "sec_inspector", PASSWORD) == 303

    def test_per_client_address(
        self, app: FastAPI, api: TestClient, settings: Settings, actors: dict[str, Actor]
    ) -> None:
        _limits(app, login_per_account=100, login_per_address=4)
        client = client_as(api, settings, actors["anonymous"])
        statuses = [self._login(client, f"user{i}") for i in range(5)]
        assert statuses == [401, 401, 401, 401, 429]
        # Even the right password is refused from that address until the window passes.
        assert self._login(client, "sec_employer", PASSWORD) == 429


class TestBodies:
    def test_json_body_above_the_limit_is_413(
        self, client: TestClient, employer: EmployerWithKey, settings: Settings
    ) -> None:
        big = json.dumps({"job_title": "x" * (settings.max_body_bytes + 10)})
        response = client.post(
            NOTIFICATIONS,
            content=big,
            headers={**employer.headers, "Content-Type": "application/json"},
        )
        _is_problem(response, 413, "payload_too_large")

    def test_streamed_json_body_above_the_limit_is_413(
        self, client: TestClient, employer: EmployerWithKey, settings: Settings
    ) -> None:
        def chunks() -> object:
            for _ in range(settings.max_body_bytes // 1000 + 5):
                yield b" " * 1000

        response = client.post(
            NOTIFICATIONS,
            content=chunks(),  # type: ignore[arg-type]
            headers={**employer.headers, "Content-Type": "application/json"},
        )
        _is_problem(response, 413, "payload_too_large")

    def test_json_nested_too_deep_is_422(
        self, client: TestClient, employer: EmployerWithKey
    ) -> None:
        deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
        body = json.dumps(notification_body())[:-1] + f', "x": {deep}}}'
        response = client.post(
            NOTIFICATIONS,
            content=body,
            headers={**employer.headers, "Content-Type": "application/json"},
        )
        problem = _is_problem(response, 422, "validation_failed")
        assert problem["errors"][0]["code"] == "json_too_deep"  # type: ignore[index]

    def test_brackets_inside_strings_do_not_count(
        self, client: TestClient, employer: EmployerWithKey
    ) -> None:
        body = notification_body(job_title="[" * 60 + '\\"{' * 20)
        response = client.post(NOTIFICATIONS, json=body, headers=employer.headers)
        assert response.status_code == 201, response.text

    def test_deep_json_lines_upload_is_422(
        self, api: TestClient, settings: Settings, actors: dict[str, Actor]
    ) -> None:
        client = client_as(api, settings, actors["data_partner"])
        line = '{"a": ' * 40 + "1" + "}" * 40
        response = client.post(
            PAYROLL, content=line.encode(), headers={"Content-Type": "application/x-ndjson"}
        )
        _is_problem(response, 422, "validation_failed")

    def test_upload_above_the_limit_is_413(
        self, api: TestClient, settings: Settings, actors: dict[str, Actor]
    ) -> None:
        client = client_as(api, settings, actors["data_partner"])
        response = client.post(
            PAYROLL,
            content=b"x",
            headers={
                "Content-Type": "text/csv",
                "Content-Length": str(settings.max_upload_bytes + 1),
            },
        )
        _is_problem(response, 413, "payload_too_large")

    def test_streamed_upload_above_the_limit_is_413(
        self, settings: Settings, engine: Engine, session: Session, actors: dict[str, Actor]
    ) -> None:
        """No Content-Length (chunked): the limit is found while streaming, and the answer is
        still a clean 413, not the app's error over a body cut short."""
        small = create_app(settings.model_copy(update={"max_upload_bytes": 50_000}), engine)

        def joined() -> Iterator[Session]:
            with session.begin_nested():
                yield session

        small.dependency_overrides[session_from_request] = joined
        client = TestClient(small, raise_server_exceptions=False)
        client = client_as(client, settings, actors["data_partner"])

        def chunks() -> Iterator[bytes]:
            for _ in range(100):
                yield b"x" * 1000

        response = client.post(PAYROLL, content=chunks(), headers={"Content-Type": "text/csv"})
        _is_problem(response, 413, "payload_too_large")

    def test_scanner_follows_strings_and_escapes_across_chunks(self) -> None:
        scanner = JsonDepthScanner(limit=3)
        assert scanner.feed(b'[{"a": "]]\\')
        assert scanner.feed(b'"[[[", "b": [1]')  # the escaped quote keeps the string open
        assert scanner.depth == 2
        assert not scanner.feed(b"[[")

    @pytest.mark.parametrize(
        ("body", "fits"),
        [
            (b"[[[]]]", True),  # three openers: the counts alone settle it
            (b'{"a": "[[[[[[", "b": [1]}', True),  # openers in a string: the scan settles it
            (b"[[[[]]]]", False),
            (b'[{"x": [{"y": 1}]}]', False),
        ],
    )
    def test_a_whole_body_is_judged_in_one_feed(self, body: bytes, fits: bool) -> None:
        assert JsonDepthScanner(limit=3).feed(body, last=True) is fits


class TestContentTypes:
    def test_non_json_on_a_json_endpoint_is_415(
        self, client: TestClient, employer: EmployerWithKey
    ) -> None:
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "text/csv"):
            response = client.post(
                NOTIFICATIONS,
                content=b"{}",
                headers={**employer.headers, "Content-Type": content_type},
            )
            _is_problem(response, 415, "unsupported_media_type")
        missing = client.post(NOTIFICATIONS, content=b"{}", headers=employer.headers)
        _is_problem(missing, 415, "unsupported_media_type")

    def test_json_with_charset_and_problem_json_are_accepted(
        self, client: TestClient, employer: EmployerWithKey
    ) -> None:
        for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
            response = client.post(
                NOTIFICATIONS,
                content=b"{}",
                headers={**employer.headers, "Content-Type": content_type},
            )
            assert response.status_code == 422, content_type

    def test_a_bodyless_action_needs_no_content_type(
        self, api: TestClient, settings: Settings, actors: dict[str, Actor]
    ) -> None:
        client = client_as(api, settings, actors["inspector"])
        response = client.post(
            "/api/v1/inspection/flags/00000000-0000-0000-0000-000000000000/claim"
        )
        assert response.status_code == 404

    def test_uploads_refuse_other_types(
        self, api: TestClient, settings: Settings, actors: dict[str, Actor]
    ) -> None:
        employer = client_as(api, settings, actors["employer"])
        bulk = employer.post(
            f"{NOTIFICATIONS}/bulk", content=b"{}", headers={"Content-Type": "application/json"}
        )
        _is_problem(bulk, 415, "unsupported_media_type")
        partner = client_as(api, settings, actors["data_partner"])
        payroll = partner.post(
            PAYROLL, content=b"<x/>", headers={"Content-Type": "application/xml"}
        )
        _is_problem(payroll, 415, "unsupported_media_type")
