"""The access matrix in docs/SECURITY.md is the truth: every route is in it, and obeys it.

The table is parsed from the document; every route the app has (API and pages, included
routers and mounts too) must have a row, so a new route without a rule fails here. Then each
route is called once per role (anonymous, and a key plus a signed-in page session for each
role) and the outcome must be the documented one:

    yes    allowed: anything but 401, 403 or a redirect to the sign-in page
    401    no credential (API)          403    credential of a role that may not use it
    login  303 redirect to /login (pages without a session)
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from starlette.routing import Mount

from meldplicht.core.config import Settings
from tests.security.conftest import CSRF_TOKEN, PASSWORD, ROLES, Actor, client_as

DOC = Path(__file__).resolve().parents[2] / "docs" / "SECURITY.md"
OUTCOMES = {"yes", "401", "403", "login"}
_ROW = re.compile(r"^\|\s*(GET|POST|PUT|PATCH|DELETE)\s*\|\s*`([^`]+)`\s*\|(.*)$")
# Placeholder values for path parameters: well-formed, pointing at nothing.
PATH_VALUES = {"employer": "12345678", "name": "wml_hourly", "path": "meldplicht.css"}


@dataclass(frozen=True)
class Rule:
    method: str
    path: str
    outcomes: dict[str, str]


def documented_rules() -> dict[tuple[str, str], Rule]:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("<!-- access-matrix:start -->")
    end = text.index("<!-- access-matrix:end -->")
    rules: dict[tuple[str, str], Rule] = {}
    for line in text[start:end].splitlines():
        match = _ROW.match(line.strip())
        if not match:
            continue
        method, path, rest = match.groups()
        cells = [c.strip() for c in rest.split("|")]
        outcomes = dict(zip(ROLES, cells[: len(ROLES)], strict=True))
        bad = {v for v in outcomes.values() if v not in OUTCOMES}
        assert not bad, f"{method} {path}: unknown outcome(s) {bad} in docs/SECURITY.md"
        assert (method, path) not in rules, f"{method} {path} is in the table twice"
        rules[(method, path)] = Rule(method, path, outcomes)
    return rules


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route: included routers, the API docs, and mounts."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            found.add(("GET", f"{route.path}/{{path}}"))
            continue
        for method in route.methods or set():
            if method != "HEAD":
                found.add((method, str(getattr(route, "path_format", None) or route.path)))
    return found


def _url(path: str) -> str:
    def value(match: re.Match[str]) -> str:
        return PATH_VALUES.get(match.group(1), str(uuid.uuid4()))

    return re.sub(r"\{([a-z_]+)(?::[a-z]+)?\}", value, path)


def call(client: TestClient, rule: Rule) -> Response:
    url = _url(rule.path)
    if rule.method == "GET":
        return client.get(url, follow_redirects=False)
    if rule.method == "DELETE":
        return client.delete(url, follow_redirects=False)
    if rule.path == "/login":
        form = {"username": "sec_employer", "password": PASSWORD, "csrf_token": CSRF_TOKEN}
        return client.post(url, data=form, follow_redirects=False)
    if not rule.path.startswith("/api/"):
        return client.post(url, data={"csrf_token": CSRF_TOKEN}, follow_redirects=False)
    if rule.path.endswith(("/bulk", "/imports")):
        return client.post(url, content=b"", headers={"Content-Type": "text/csv"})
    return client.post(url, json={})


def outcome(response: Response) -> str:
    if response.status_code in (401, 403):
        return str(response.status_code)
    location = response.headers.get("location", "")
    if response.is_redirect and location.startswith("/login") and "signed_out" not in location:
        return "login"
    return "yes"


def test_every_route_has_a_documented_rule(app: FastAPI) -> None:
    rules = documented_rules()
    routes = app_routes(app)
    missing = sorted(routes - set(rules))
    assert not missing, (
        "Routes without a row in the access matrix of docs/SECURITY.md (add one per route, "
        f"with the outcome for each role): {missing}"
    )
    stale = sorted(set(rules) - routes)
    assert not stale, f"docs/SECURITY.md lists routes the app does not have: {stale}"


def test_every_route_obeys_its_rule(
    api: TestClient, settings: Settings, actors: dict[str, Actor]
) -> None:
    rules = documented_rules()
    wrong: list[str] = []
    for rule in sorted(rules.values(), key=lambda r: (r.path, r.method)):
        observed: dict[str, str] = {}
        for role in ROLES:
            response = call(client_as(api, settings, actors[role]), rule)
            assert response.status_code < 500, (rule, role, response.text[:300])
            observed[role] = outcome(response)
        if observed != rule.outcomes:
            cells = " | ".join(observed[r] for r in ROLES)
            wrong.append(f"| {rule.method} | `{rule.path}` | {cells} |")
    assert not wrong, "Observed outcomes differ from docs/SECURITY.md:\n" + "\n".join(wrong)


def test_refusals_are_problem_json_or_pages(
    api: TestClient, settings: Settings, actors: dict[str, Actor]
) -> None:
    """A refused API call answers problem+json (with WWW-Authenticate on 401)."""
    client = client_as(api, settings, actors["anonymous"])
    response = client.get("/api/v1/inspection/flags")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith("Bearer")
    client = client_as(api, settings, actors["employer"])
    response = client.get("/api/v1/inspection/flags")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_no_route_edits_or_deletes_audit_entries(app: FastAPI, method: str) -> None:
    """The audit log is append-only: no route may change or remove anything under it, and no
    route takes PUT, PATCH or DELETE with 'audit' in its path."""
    for route_method, path in app_routes(app):
        assert not (route_method == method and "audit" in path), path


def test_a_wrong_method_is_405_with_every_allowed_method(api: TestClient) -> None:
    response = api.put("/api/v1/notifications")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.headers["content-type"].startswith("application/problem+json")
