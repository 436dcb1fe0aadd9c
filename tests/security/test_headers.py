"""Security headers: nosniff and referrer policy everywhere; CSP, no framing, no-store on pages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from meldplicht.core.config import Settings
from meldplicht.web import CSP
from tests.security.conftest import Actor, client_as

PAGES = ["/login", "/worker", "/employer/", "/employer/notifications/new", "/employer/bulk"]
INSPECTOR_PAGES = ["/inspector/", "/inspector/dashboard"]


def _page_headers(headers: dict[str, str], path: str) -> None:
    assert headers["x-content-type-options"] == "nosniff", path
    assert headers["referrer-policy"] == "same-origin", path
    assert headers["content-security-policy"] == CSP, path
    assert "script-src 'self'" in CSP
    assert "'unsafe-inline'" not in CSP
    assert "frame-ancestors 'none'" in CSP
    assert headers["x-frame-options"] == "DENY", path
    assert headers["cross-origin-opener-policy"] == "same-origin", path
    assert "camera=()" in headers["permissions-policy"], path
    assert headers["cache-control"] == "no-store", path


@pytest.mark.parametrize("role", ["employer", "inspector"])
def test_pages_carry_the_security_headers(
    role: str, api: TestClient, settings: Settings, actors: dict[str, Actor]
) -> None:
    client = client_as(api, settings, actors[role])
    for path in PAGES if role == "employer" else INSPECTOR_PAGES:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        _page_headers(dict(response.headers), path)


def test_error_pages_and_redirects_carry_them_too(
    api: TestClient, settings: Settings, actors: dict[str, Actor]
) -> None:
    client = client_as(api, settings, actors["employer"])
    forbidden = client.get("/inspector/")
    assert forbidden.status_code == 403
    _page_headers(dict(forbidden.headers), "/inspector/ (403)")
    anonymous = client_as(api, settings, actors["anonymous"])
    redirect = anonymous.get("/employer/", follow_redirects=False)
    assert redirect.status_code == 303
    _page_headers(dict(redirect.headers), "/employer/ (303)")


def test_api_answers_are_nosniff_and_problem_json(
    api: TestClient, settings: Settings, actors: dict[str, Actor]
) -> None:
    client = client_as(api, settings, actors["anonymous"])
    for path in ("/api/v1/notifications", "/api/v1/rules", "/healthz"):
        response = client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "same-origin", path


def test_session_cookie_is_httponly_and_samesite(
    api: TestClient, settings: Settings, actors: dict[str, Actor]
) -> None:
    client = client_as(api, settings, actors["anonymous"])
    from tests.security.conftest import CSRF_TOKEN, PASSWORD

    response = client.post(
        "/login",
        data={"username": "sec_employer", "password": PASSWORD, "csrf_token": CSRF_TOKEN},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "max-age=28800" in cookie  # the 8-hour session


def test_a_post_from_another_origin_is_refused(
    api: TestClient, settings: Settings, actors: dict[str, Actor]
) -> None:
    from tests.security.conftest import CSRF_TOKEN

    client = client_as(api, settings, actors["employer"])
    response = client.post(
        "/logout",
        data={"csrf_token": CSRF_TOKEN},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    wrong_token = client.post("/logout", data={"csrf_token": "guess"}, follow_redirects=False)
    assert wrong_token.status_code == 403
