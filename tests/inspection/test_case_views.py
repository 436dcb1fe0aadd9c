"""Working the case queue over the API: saved views (own only), the due filter, bulk assign."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from meldplicht.audit.models import AuditEvent
from meldplicht.core.clock import today
from meldplicht.inspection import case_queue, case_views
from meldplicht.inspection.models import Case, CaseStatus, CaseView
from tests.conftest import EmployerWithKey
from tests.inspection.conftest import StaffWithKey, notify, underpaid_body

VIEWS = "/api/v1/cases/views"


def actions(session: Session, subject_id: str) -> list[str]:
    return list(
        session.exec(
            select(AuditEvent.action)
            .where(AuditEvent.subject_id == subject_id)
            .order_by(col(AuditEvent.id))
        )
    )


def test_an_inspector_saves_lists_opens_and_deletes_their_views(
    api: TestClient, inspector: StaffWithKey, session: Session
) -> None:
    body = {
        "name": "Glastuinbouw — hoog risico, Зміна",
        "query": {"severity": "high", "sector": "Glastuinbouw", "sort": "back_pay"},
    }
    created = api.post(VIEWS, json=body, headers=inspector.headers)
    assert created.status_code == 201, created.text
    view = created.json()
    assert view["name"] == body["name"]
    assert view["query"] == {"severity": "high", "sector": "Glastuinbouw", "sort": "back_pay"}
    assert view["href"] == "/inspector/cases?severity=high&sector=Glastuinbouw&sort=back_pay"
    second = api.post(
        VIEWS,
        json={"name": "Achterstallig", "query": {"due": "overdue"}},
        headers=inspector.headers,
    )
    assert second.status_code == 201
    listed = api.get(VIEWS, headers=inspector.headers).json()
    assert [v["name"] for v in listed] == ["Achterstallig", body["name"]]
    one = api.get(f"{VIEWS}/{view['id']}", headers=inspector.headers)
    assert one.status_code == 200
    assert one.json()["query"]["sort"] == "back_pay"
    # The same name again replaces the view's filter (200, still one view of that name).
    replaced = api.post(
        VIEWS, json={"name": body["name"], "query": {"status": "all"}}, headers=inspector.headers
    )
    assert replaced.status_code == 200
    assert replaced.json()["id"] == view["id"]
    assert replaced.json()["query"] == {"status": "all", "sort": "risk"}
    deleted = api.delete(f"{VIEWS}/{view['id']}", headers=inspector.headers)
    assert deleted.status_code == 204
    assert api.get(f"{VIEWS}/{view['id']}", headers=inspector.headers).status_code == 404
    assert [v["name"] for v in api.get(VIEWS, headers=inspector.headers).json()] == [
        "Achterstallig"
    ]
    assert actions(session, view["id"]) == [
        "case.view_saved",
        "case.view_saved",
        "case.view_deleted",
    ]


def test_another_inspectors_view_is_not_found(
    api: TestClient, inspector: StaffWithKey, inspector2: StaffWithKey, session: Session
) -> None:
    view = api.post(VIEWS, json={"name": "Mijn lijst"}, headers=inspector.headers).json()
    assert api.get(VIEWS, headers=inspector2.headers).json() == []
    for response in (
        api.get(f"{VIEWS}/{view['id']}", headers=inspector2.headers),
        api.delete(f"{VIEWS}/{view['id']}", headers=inspector2.headers),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "view_not_found"
    assert session.get(CaseView, uuid.UUID(view["id"])) is not None
    # The same name is free for the other inspector: names are per person.
    assert (
        api.post(VIEWS, json={"name": "Mijn lijst"}, headers=inspector2.headers).status_code == 201
    )


def test_view_names_and_filters_are_validated(api: TestClient, inspector: StaffWithKey) -> None:
    bad = [
        ({"name": ""}, "required"),
        ({"name": "   "}, "required"),
        ({"name": "x" * 81}, "too_long"),
        ({"name": "a\u202eb"}, "invisible_characters"),
        ({"name": "tab\there"}, "control_characters"),
    ]
    for body, code in bad:
        response = api.post(VIEWS, json=body, headers=inspector.headers)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == "name"
        assert response.json()["errors"][0]["code"] == code, body
    assert api.post(VIEWS, json={"name": "é" * 80}, headers=inspector.headers).status_code == 201
    for query in ({"province": "Atlantis"}, {"due": "tomorrow"}, {"sort": "name"}, {"x": "1"}):
        response = api.post(VIEWS, json={"name": "v", "query": query}, headers=inspector.headers)
        assert response.status_code == 422, query
    assert api.get(f"{VIEWS}/not-a-uuid", headers=inspector.headers).status_code == 422


def test_the_number_of_views_per_inspector_is_limited(
    api: TestClient, inspector: StaffWithKey, inspector2: StaffWithKey
) -> None:
    for i in range(case_views.MAX_VIEWS):
        assert api.post(VIEWS, json={"name": f"v{i}"}, headers=inspector.headers).status_code == 201
    refused = api.post(VIEWS, json={"name": "one more"}, headers=inspector.headers)
    assert refused.status_code == 422
    assert refused.json()["code"] == "too_many_views"
    # Replacing one of them is still allowed; another inspector has their own allowance.
    assert api.post(VIEWS, json={"name": "v0"}, headers=inspector.headers).status_code == 200
    assert api.post(VIEWS, json={"name": "v0"}, headers=inspector2.headers).status_code == 201


def test_views_need_an_inspection_key(api: TestClient, employer: EmployerWithKey) -> None:
    assert api.get(VIEWS).status_code == 401
    assert api.get(VIEWS, headers=employer.headers).status_code == 403
    assert api.post(VIEWS, json={"name": "x"}, headers=employer.headers).status_code == 403


def _cases(
    api: TestClient, employer: EmployerWithKey, other: EmployerWithKey, session: Session
) -> list[Case]:
    notify(api, employer.headers, underpaid_body("111222333"))
    notify(api, other.headers, underpaid_body("123456782"))
    return list(session.exec(select(Case).order_by(col(Case.reference))))


def test_the_due_filter_matches_each_row_s_due_status(
    api: TestClient,
    employer: EmployerWithKey,
    other_employer: EmployerWithKey,
    inspector: StaffWithKey,
    session: Session,
) -> None:
    first, second = _cases(api, employer, other_employer, session)
    first.due_on = today() - timedelta(days=1)
    second.due_on = today() + timedelta(days=1)
    session.add_all([first, second])
    session.flush()

    for due, expected in (
        ("overdue", [first.id]),
        ("due_soon", [second.id]),
        ("on_time", []),
        ("none", []),
    ):
        flt = case_views.to_filter({"due": due}, today())
        rows, _, count = case_queue.list_cases(
            session, flt, sort=case_queue.CaseSort.RISK, cursor=None, limit=10
        )
        assert [c.id for c, _ in rows] == expected, due
        assert count == len(expected)
        assert {case_queue.due_status(c, today()) for c, _ in rows} <= {due}
        page = api.get(f"/api/v1/cases?due={due}", headers=inspector.headers).json()
        assert [r["id"] for r in page["items"]] == [str(i) for i in expected], due
        assert {r["due_status"] for r in page["items"]} <= {due}
    assert api.get("/api/v1/cases?due=later", headers=inspector.headers).status_code == 422


def test_a_supervisor_assigns_cases_in_bulk_an_inspector_may_not(
    api: TestClient,
    employer: EmployerWithKey,
    other_employer: EmployerWithKey,
    inspector: StaffWithKey,
    supervisor: StaffWithKey,
    session: Session,
) -> None:
    cases = _cases(api, employer, other_employer, session)
    body = {"case_ids": [str(c.id) for c in cases], "assignee_id": str(inspector.id)}
    refused = api.post("/api/v1/cases/assign", json=body, headers=inspector.headers)
    assert refused.status_code == 403
    for case in cases:
        session.refresh(case)
        assert case.assignee_id is None
    done = api.post("/api/v1/cases/assign", json=body, headers=supervisor.headers)
    assert done.status_code == 200, done.text
    assert {r["assignee_id"] for r in done.json()["assigned"]} == {str(inspector.id)}
    for case in cases:
        session.refresh(case)
        assert case.assignee_id == inspector.id
        assert case.status == CaseStatus.CLAIMED
        assert "case.assigned" in actions(session, str(case.id))
    mine = api.get("/api/v1/cases?assignee=me", headers=inspector.headers).json()
    assert mine["count"] == 2


def test_bulk_assign_is_all_or_nothing(
    api: TestClient,
    employer: EmployerWithKey,
    other_employer: EmployerWithKey,
    inspector: StaffWithKey,
    supervisor: StaffWithKey,
    session: Session,
) -> None:
    cases = _cases(api, employer, other_employer, session)
    body = {
        "case_ids": [str(cases[0].id), str(uuid.uuid4())],
        "assignee_id": str(inspector.id),
    }
    response = api.post("/api/v1/cases/assign", json=body, headers=supervisor.headers)
    assert response.status_code == 404
    session.refresh(cases[0])
    assert cases[0].assignee_id is None
    empty = api.post(
        "/api/v1/cases/assign",
        json={"case_ids": [], "assignee_id": str(inspector.id)},
        headers=supervisor.headers,
    )
    assert empty.status_code == 422
