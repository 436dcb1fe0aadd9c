"""Who reaches the inspection API: 401 without a key, 403 for every role but staff, on EVERY
route under /api/v1/inspection (found by walking the app, so a new route cannot slip by)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.routing import BaseRoute

from meldplicht.accounts.models import Role
from meldplicht.accounts.service import issue_key
from meldplicht.inspection.router import router as inspection_router
from tests.conftest import EmployerWithKey
from tests.inspection.conftest import INSPECTION, StaffWithKey, make_staff


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (FastAPI >= 0.16x includes them lazily)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from api_routes(included.routes)


def inspection_routes(app: FastAPI | APIRouter) -> list[tuple[str, str]]:
    routes: list[tuple[str, str]] = []
    placeholder = str(uuid.uuid4())
    for route in api_routes(app.routes):
        if route.path.startswith(INSPECTION):
            path = route.path
            for name in route.param_convertors:
                path = path.replace("{" + name + "}", placeholder)
            routes.extend((method, path) for method in sorted(route.methods or ()))
    return routes


def test_the_walk_finds_every_documented_inspection_route(app: FastAPI) -> None:
    walked = {
        (method, route.path)
        for route in api_routes(app.routes)
        if route.path.startswith(INSPECTION)
        for method in route.methods or ()
    }
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(INSPECTION)
        for method in operations
    }
    assert documented <= walked
    assert len(walked) >= 18


def test_no_key_is_401_everywhere(app: FastAPI, api: TestClient) -> None:
    for method, path in inspection_routes(app):
        response = api.request(method, path, json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_employer_key_is_403_everywhere(
    app: FastAPI, api: TestClient, employer: EmployerWithKey
) -> None:
    for method, path in inspection_routes(app):
        response = api.request(method, path, json={}, headers=employer.headers)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize("role", [Role.DATA_PARTNER, Role.ADMIN])
def test_other_roles_are_403_on_the_queue(api: TestClient, session: Session, role: Role) -> None:
    # The queue's own routes (an admin may reach the sweep routes that share the prefix).
    token = issue_key(session, role=role, name="not staff").token
    for method, path in inspection_routes(inspection_router):
        response = api.request(method, path, json={}, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403, (method, path)


def test_inspector_key_without_a_user_is_refused(api: TestClient, session: Session) -> None:
    unbound = make_staff(session, "inspector_nobody", bind_user=False)
    response = api.get(f"{INSPECTION}/flags", headers=unbound.headers)
    assert response.status_code == 403
    assert "not bound to a user" in response.json()["detail"]


def test_key_role_must_match_the_user(api: TestClient, session: Session) -> None:
    staff = make_staff(session, "inspector_sneaky")
    escalated = issue_key(session, role=Role.SUPERVISOR, name="escalated", user_id=staff.id)
    response = api.get(
        f"{INSPECTION}/flags", headers={"Authorization": f"Bearer {escalated.token}"}
    )
    assert response.status_code == 403


def test_disabled_user_is_refused(api: TestClient, session: Session) -> None:
    staff = make_staff(session, "inspector_gone")
    staff.user.disabled = True
    session.add(staff.user)
    session.flush()
    assert api.get(f"{INSPECTION}/flags", headers=staff.headers).status_code == 403


def test_inspector_gets_in(api: TestClient, inspector: StaffWithKey) -> None:
    response = api.get(f"{INSPECTION}/flags", headers=inspector.headers)
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


SUPERVISOR_ONLY = [
    ("GET", "/flags.csv", None),
    ("POST", "/flags/{id}/assign", {"assignee_id": str(uuid.uuid4())}),
    ("POST", "/flags/{id}/reopen", {}),
    ("POST", "/bulk/assign", {"flag_ids": [str(uuid.uuid4())], "assignee_id": "x"}),
    ("POST", "/bulk/resolve", {"flag_ids": [], "outcome": "duplicate", "note": "x"}),
    ("POST", "/snoozes", {}),
    ("POST", "/snoozes/{id}/lift", None),
]


@pytest.mark.parametrize(("method", "path", "body"), SUPERVISOR_ONLY)
def test_supervisor_only_routes_refuse_inspectors(
    api: TestClient, inspector: StaffWithKey, method: str, path: str, body: object
) -> None:
    url = INSPECTION + path.replace("{id}", str(uuid.uuid4()))
    response = api.request(method, url, json=body, headers=inspector.headers)
    assert response.status_code == 403, response.text
    assert response.json()["detail"] == "Only a supervisor may do this."


def test_every_route_declares_its_problems(app: FastAPI) -> None:
    spec = app.openapi()
    ours = {route.path for route in api_routes(inspection_router.routes)}
    for path, operations in spec["paths"].items():
        if path not in ours:
            continue
        for method, operation in operations.items():
            assert operation["operationId"].startswith("inspection-"), (method, path)
            for status in ("401", "403"):
                assert status in operation["responses"], (method, path, status)
                assert "application/problem+json" in operation["responses"][status]["content"]
