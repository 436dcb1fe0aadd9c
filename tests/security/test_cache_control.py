"""`Cache-Control: no-store` on every answer that may carry personal data: every page and every
API answer (lists, details, notification answers, flags, exports, errors), for every route in
the access matrix, as a role that may use it (both databases). Only public law data, the API
docs, probes and static files may be cached."""

from __future__ import annotations

from fastapi.testclient import TestClient

from meldplicht.core.config import Settings
from meldplicht.web import may_be_cached
from tests.conftest import EmployerWithKey
from tests.factories import notification_body
from tests.security.conftest import ROLES, Actor, client_as
from tests.security.test_access_matrix import call, documented_rules

PUBLIC = {
    "/",
    "/api/v1/parameters",
    "/api/v1/parameters/{name}",
    "/api/v1/rules",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/openapi.json",
    "/healthz",
    "/readyz",
    "/metrics",
    "/static/{path}",
    "/static-offline-docs/{path}",  # the API docs' packaged scripts and styles
}


def test_every_route_that_may_carry_personal_data_is_no_store(
    api: TestClient, settings: Settings, actors: dict[str, Actor]
) -> None:
    missing: list[str] = []
    for rule in sorted(documented_rules().values(), key=lambda r: (r.path, r.method)):
        assert may_be_cached(rule.path.split("{")[0]) == (rule.path in PUBLIC), rule.path
        if rule.path in PUBLIC:
            continue
        allowed = [role for role in ROLES if rule.outcomes[role] == "yes"]
        for role in {*allowed[:1], "anonymous"}:
            response = call(client_as(api, settings, actors[role]), rule)
            if response.headers.get("cache-control") != "no-store":
                missing.append(f"{rule.method} {rule.path} as {role}: {response.status_code}")
    assert not missing, "answers without Cache-Control: no-store:\n" + "\n".join(missing)


def test_answers_with_a_worker_in_them_are_no_store(
    api: TestClient, settings: Settings, actors: dict[str, Actor], employer: EmployerWithKey
) -> None:
    client = client_as(api, settings, actors["employer"])
    created = client.post("/api/v1/notifications", json=notification_body())
    assert created.status_code == 201, created.text
    assert "given_names" in created.text
    notification_id = created.json()["id"]
    for response in (
        created,
        client.get("/api/v1/notifications"),
        client.get(f"/api/v1/notifications/{notification_id}"),
        client.get(f"/employer/notifications/{notification_id}"),
    ):
        assert response.status_code == 200 or response.status_code == 201, response.url
        assert response.headers["cache-control"] == "no-store", response.url


def test_public_law_data_may_be_cached(api: TestClient) -> None:
    response = api.get("/api/v1/rules")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("cache-control", "")
