"""GET /api/v1/inspection/sweeps: inspectors and above only, newest first, paginated."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from meldplicht.accounts.models import Role
from meldplicht.accounts.service import issue_key
from meldplicht.core.clock import utcnow
from meldplicht.sweeps.models import SweepRun
from tests.conftest import EmployerWithKey

URL = "/api/v1/inspection/sweeps"


def bearer(session: Session, role: Role) -> dict[str, str]:
    issued = issue_key(session, role=role, name=f"test {role}")
    return {"Authorization": f"Bearer {issued.token}"}


def add_runs(session: Session, count: int) -> list[SweepRun]:
    now = utcnow()
    runs = [
        SweepRun(
            as_of=date(2024, 7, 1) + timedelta(days=i),
            mode="incremental",
            status="succeeded",
            trigger="scheduler",
            started_at=now + timedelta(minutes=i),
            finished_at=now + timedelta(minutes=i, seconds=30),
            counts={"evaluated": i, "opened": 1, "errors": 1},
            errors=[{"item": "notification", "id": str(uuid.uuid4()), "error": "ValueError: x"}],
        )
        for i in range(count)
    ]
    session.add_all(runs)
    session.flush()
    return runs


def test_no_key_is_401_and_employer_key_is_403(
    client: TestClient, employer: EmployerWithKey, session: Session
) -> None:
    (run,) = add_runs(session, 1)
    for url in (URL, f"{URL}/{run.id}"):
        anonymous = client.get(url)
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"].startswith("application/problem+json")
        assert client.get(url, headers=employer.headers).status_code == 403


def test_staff_roles_list_newest_first_with_pages(client: TestClient, session: Session) -> None:
    runs = add_runs(session, 5)
    for role in (Role.INSPECTOR, Role.SUPERVISOR, Role.ADMIN):
        assert client.get(URL, headers=bearer(session, role)).status_code == 200
    headers = bearer(session, Role.INSPECTOR)
    first = client.get(URL, params={"limit": 3}, headers=headers).json()
    assert [i["id"] for i in first["items"]] == [str(r.id) for r in reversed(runs)][:3]
    second = client.get(
        URL, params={"limit": 3, "cursor": first["next_cursor"]}, headers=headers
    ).json()
    assert [i["id"] for i in second["items"]] == [str(runs[1].id), str(runs[0].id)]
    assert second["next_cursor"] is None
    item = first["items"][0]
    assert item["counts"]["evaluated"] == 4
    assert item["duration_seconds"] == 30
    assert item["errors"][0]["item"] == "notification"


def test_one_run_and_unknown_ids(client: TestClient, session: Session) -> None:
    (run,) = add_runs(session, 1)
    headers = bearer(session, Role.SUPERVISOR)
    body = client.get(f"{URL}/{run.id}", headers=headers).json()
    assert body["as_of"] == "2024-07-01"
    assert body["status"] == "succeeded"
    missing = client.get(f"{URL}/{uuid.uuid4()}", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "sweep_run_not_found"
    assert client.get(URL, params={"cursor": "nonsense"}, headers=headers).status_code == 422
