"""Working a flag: every transition, its refusals (409 problem+json), bulk, snoozes, races."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from meldplicht.accounts.models import Role
from meldplicht.accounts.service import create_user
from meldplicht.app import create_app
from meldplicht.audit.models import AuditEvent
from meldplicht.core.clock import today
from meldplicht.core.config import Environment, Settings
from meldplicht.core.db import create_db_engine
from meldplicht.core.migrations import upgrade
from meldplicht.flags.models import Flag, FlagStatus, SubjectType
from meldplicht.flags.sync import forget_cached_facts
from meldplicht.rules.facts import Severity
from tests.conftest import (
    EmployerWithKey,
    drop_postgres,
    fresh_postgres_url,
    make_employer,
    unique_pg_name,
)
from tests.inspection.conftest import INSPECTION, StaffWithKey, make_staff, synthetic_flag

FLAGS = f"{INSPECTION}/flags"


def act(api: TestClient, who: StaffWithKey, flag: Flag, action: str, body: Any = None) -> Any:
    return api.post(f"{FLAGS}/{flag.id}/{action}", json=body, headers=who.headers)


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    data: dict[str, Any] = response.json()
    assert data["code"] == code, data
    return data


def actions(session: Session, flag: Flag) -> list[str]:
    rows = session.exec(
        select(AuditEvent)
        .where(AuditEvent.subject_type == "flag", AuditEvent.subject_id == str(flag.id))
        .order_by(col(AuditEvent.id))  # insertion order
    )
    return [e.action for e in rows]


@pytest.fixture
def flag(session: Session, employer: EmployerWithKey) -> Flag:
    return synthetic_flag(session, employer.employer)


class TestClaim:
    def test_open_to_claimed_and_audited(
        self, api: TestClient, inspector: StaffWithKey, flag: Flag, session: Session
    ) -> None:
        response = act(api, inspector, flag, "claim")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "claimed"
        assert response.json()["assignee_id"] == str(inspector.id)
        assert response.json()["claimed_at"]
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "flag.claimed")).one()
        assert event.actor_id == f"user:{inspector.id}"
        assert event.actor_role == "inspector"
        assert event.subject_id == str(flag.id)
        assert event.at is not None

    def test_claiming_again_is_harmless(
        self, api: TestClient, inspector: StaffWithKey, flag: Flag, session: Session
    ) -> None:
        act(api, inspector, flag, "claim")
        again = act(api, inspector, flag, "claim")
        assert again.status_code == 200
        assert actions(session, flag).count("flag.claimed") == 1

    def test_someone_elses_claim_is_409(
        self, api: TestClient, inspector: StaffWithKey, inspector2: StaffWithKey, flag: Flag
    ) -> None:
        act(api, inspector, flag, "claim")
        data = problem(act(api, inspector2, flag, "claim"), 409, "claimed_by_other")
        assert str(inspector.id) in data["detail"]

    @pytest.mark.parametrize("status", [FlagStatus.RESOLVED, FlagStatus.CLEARED])
    def test_only_open_flags(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        flag: Flag,
        session: Session,
        status: FlagStatus,
    ) -> None:
        flag.status = status
        session.add(flag)
        session.flush()
        data = problem(act(api, inspector, flag, "claim"), 409, "invalid_transition")
        assert data["detail"] == (
            f"Cannot claim a flag that is {status}: only a flag that is open can be claimed."
        )

    def test_unknown_flag(self, api: TestClient, inspector: StaffWithKey) -> None:
        response = api.post(f"{FLAGS}/{uuid.uuid4()}/claim", headers=inspector.headers)
        problem(response, 404, "flag_not_found")


class TestRelease:
    def test_claimer_releases(
        self, api: TestClient, inspector: StaffWithKey, flag: Flag, session: Session
    ) -> None:
        act(api, inspector, flag, "claim")
        response = act(api, inspector, flag, "release")
        assert response.status_code == 200
        assert response.json()["status"] == "open"
        assert response.json()["assignee_id"] is None
        assert actions(session, flag)[-1] == "flag.released"

    def test_another_inspector_cannot_but_a_supervisor_can(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        inspector2: StaffWithKey,
        supervisor: StaffWithKey,
        flag: Flag,
    ) -> None:
        act(api, inspector, flag, "claim")
        problem(act(api, inspector2, flag, "release"), 409, "claimed_by_other")
        assert act(api, supervisor, flag, "release").json()["status"] == "open"

    def test_an_open_flag_cannot_be_released(
        self, api: TestClient, inspector: StaffWithKey, flag: Flag
    ) -> None:
        problem(act(api, inspector, flag, "release"), 409, "invalid_transition")

    def test_released_after_the_condition_vanished_goes_to_cleared(
        self, api: TestClient, inspector: StaffWithKey, flag: Flag, session: Session
    ) -> None:
        act(api, inspector, flag, "claim")
        flag.condition_present = False  # what sync_flags does to a held flag
        session.add(flag)
        session.flush()
        response = act(api, inspector, flag, "release")
        assert response.json()["status"] == "cleared"
        assert response.json()["cleared_at"]


class TestAssign:
    def test_supervisor_assigns(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        supervisor: StaffWithKey,
        flag: Flag,
        session: Session,
    ) -> None:
        response = act(api, supervisor, flag, "assign", {"assignee_id": str(inspector.id)})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "claimed"
        assert response.json()["assignee_id"] == str(inspector.id)
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "flag.assigned")).one()
        assert event.actor_id == f"user:{supervisor.id}"
        assert event.details["assignee_id"] == str(inspector.id)
        # the assignee now holds it and may investigate
        assert act(api, inspector, flag, "investigate").json()["status"] == "investigating"

    def test_reassigning_an_investigation_keeps_its_status(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        inspector2: StaffWithKey,
        supervisor: StaffWithKey,
        flag: Flag,
    ) -> None:
        act(api, inspector, flag, "claim")
        act(api, inspector, flag, "investigate")
        response = act(api, supervisor, flag, "assign", {"assignee_id": str(inspector2.id)})
        assert response.json()["status"] == "investigating"
        assert response.json()["assignee_id"] == str(inspector2.id)

    def test_only_to_staff(
        self,
        api: TestClient,
        supervisor: StaffWithKey,
        flag: Flag,
        session: Session,
        employer: EmployerWithKey,
    ) -> None:
        clerk = create_user(
            session,
            username="employer_clerk",
            display_name="Clerk",
            role=Role.EMPLOYER,
            password="correct horse battery staple",
            employer_id=employer.employer.id,
        )
        for target in (str(clerk.id), str(uuid.uuid4())):
            response = act(api, supervisor, flag, "assign", {"assignee_id": target})
            data = problem(response, 422, "invalid_assignee")
            assert data["errors"][0]["field"] == "assignee_id"

    def test_not_a_resolved_flag(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        supervisor: StaffWithKey,
        flag: Flag,
        session: Session,
    ) -> None:
        flag.status = FlagStatus.RESOLVED
        session.add(flag)
        session.flush()
        response = act(api, supervisor, flag, "assign", {"assignee_id": str(inspector.id)})
        problem(response, 409, "invalid_transition")


class TestInvestigate:
    def test_only_my_claimed_flag(
        self, api: TestClient, inspector: StaffWithKey, inspector2: StaffWithKey, flag: Flag
    ) -> None:
        problem(act(api, inspector, flag, "investigate"), 409, "invalid_transition")
        act(api, inspector, flag, "claim")
        problem(act(api, inspector2, flag, "investigate"), 409, "claimed_by_other")
        assert act(api, inspector, flag, "investigate").json()["status"] == "investigating"
        problem(act(api, inspector, flag, "investigate"), 409, "invalid_transition")


class TestResolve:
    def test_note_is_mandatory(self, api: TestClient, inspector: StaffWithKey, flag: Flag) -> None:
        act(api, inspector, flag, "claim")
        for body in (
            {"outcome": "no_violation"},
            {"outcome": "no_violation", "note": ""},
            {"outcome": "no_violation", "note": "   "},
        ):
            data = problem(act(api, inspector, flag, "resolve", body), 422, "validation_failed")
            assert data["errors"][0]["field"] == "note"
        bad = act(api, inspector, flag, "resolve", {"outcome": "guilty", "note": "x"})
        assert bad.status_code == 422

    @pytest.mark.parametrize(
        "outcome", ["violation_confirmed", "no_violation", "duplicate", "referred"]
    )
    def test_claimed_or_investigating_to_resolved(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        flag: Flag,
        session: Session,
        outcome: str,
    ) -> None:
        act(api, inspector, flag, "claim")
        if outcome == "referred":
            act(api, inspector, flag, "investigate")
        body = {"outcome": outcome, "note": "Loonstroken bekeken."}
        response = act(api, inspector, flag, "resolve", body)
        assert response.status_code == 200, response.text
        data = response.json()
        assert data["status"] == "resolved"
        assert data["outcome"] == outcome
        assert data["resolved_by"] == str(inspector.id)
        assert data["resolved_at"]
        session.refresh(flag)
        assert flag.resolution_note == "Loonstroken bekeken."
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "flag.resolved")).one()
        assert event.details["outcome"] == outcome
        assert event.details["note"] == "Loonstroken bekeken."

    def test_refusals(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        inspector2: StaffWithKey,
        supervisor: StaffWithKey,
        flag: Flag,
    ) -> None:
        body = {"outcome": "duplicate", "note": "Dubbel."}
        problem(act(api, inspector, flag, "resolve", body), 409, "invalid_transition")
        act(api, inspector, flag, "claim")
        problem(act(api, inspector2, flag, "resolve", body), 409, "claimed_by_other")
        assert act(api, supervisor, flag, "resolve", body).status_code == 200
        problem(act(api, inspector, flag, "resolve", body), 409, "invalid_transition")

    def test_confirmed_violation_raises_the_employers_next_scores(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        flag: Flag,
        session: Session,
        employer: EmployerWithKey,
    ) -> None:
        before = synthetic_flag(session, employer.employer).risk_score
        act(api, inspector, flag, "claim")
        act(api, inspector, flag, "resolve", {"outcome": "violation_confirmed", "note": "Ja."})
        after = synthetic_flag(session, employer.employer).risk_score
        assert after > before


class TestNotesAndReopen:
    def test_add_note(
        self, api: TestClient, inspector: StaffWithKey, flag: Flag, session: Session
    ) -> None:
        response = act(api, inspector, flag, "notes", {"body": "Werkgever gebeld."})
        assert response.status_code == 201
        assert response.json()["author_name"] == "Inspector Anna"
        assert act(api, inspector, flag, "notes", {"body": ""}).status_code == 422
        assert actions(session, flag)[-1] == "flag.note_added"

    def test_supervisor_reopens_a_resolved_flag(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        supervisor: StaffWithKey,
        flag: Flag,
        session: Session,
    ) -> None:
        problem(act(api, supervisor, flag, "reopen", {}), 409, "invalid_transition")
        act(api, inspector, flag, "claim")
        act(api, inspector, flag, "resolve", {"outcome": "no_violation", "note": "Niets."})
        response = act(api, supervisor, flag, "reopen", {"note": "Nieuwe tip ontvangen."})
        assert response.status_code == 200, response.text
        data = response.json()
        assert data["status"] == "open"
        assert data["outcome"] is None
        assert data["assignee_id"] is None
        assert data["reopened_count"] == 1
        detail = api.get(f"{FLAGS}/{flag.id}", headers=inspector.headers).json()
        assert [n["body"] for n in detail["notes"]] == ["Nieuwe tip ontvangen."]
        assert [e["action"] for e in detail["audit"]] == [
            "flag.opened",
            "flag.claimed",
            "flag.resolved",
            "flag.reopened_by_supervisor",
        ]
        reopened = detail["audit"][-1]
        assert reopened["details"]["previous_outcome"] == "no_violation"
        assert reopened["actor_id"] == f"user:{supervisor.id}"


class TestBulk:
    def test_bulk_assign_all(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        supervisor: StaffWithKey,
        session: Session,
        employer: EmployerWithKey,
    ) -> None:
        flags = [synthetic_flag(session, employer.employer) for _ in range(3)]
        body = {"flag_ids": [str(f.id) for f in flags], "assignee_id": str(inspector.id)}
        response = api.post(f"{INSPECTION}/bulk/assign", json=body, headers=supervisor.headers)
        assert response.status_code == 200, response.text
        assert {f["assignee_id"] for f in response.json()["updated"]} == {str(inspector.id)}
        mine = api.get(FLAGS, params={"assignee": "me"}, headers=inspector.headers).json()
        assert len(mine["items"]) == 3

    def test_bulk_is_all_or_nothing_with_per_id_errors(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        supervisor: StaffWithKey,
        session: Session,
        employer: EmployerWithKey,
    ) -> None:
        good = synthetic_flag(session, employer.employer)
        done = synthetic_flag(session, employer.employer)
        done.status = FlagStatus.RESOLVED
        session.add(done)
        session.flush()
        missing = uuid.uuid4()
        body = {
            "flag_ids": [str(good.id), str(done.id), str(missing), str(good.id)],
            "assignee_id": str(inspector.id),
        }
        response = api.post(f"{INSPECTION}/bulk/assign", json=body, headers=supervisor.headers)
        data = problem(response, 409, "bulk_rejected")
        assert {e["field"]: e["code"] for e in data["errors"]} == {
            "flag_ids.1": "invalid_transition",
            "flag_ids.2": "flag_not_found",
            "flag_ids.3": "duplicate_id",
        }
        session.refresh(good)
        assert good.status == FlagStatus.OPEN  # the good one was rolled back too
        assert good.assignee_id is None
        assert "flag.assigned" not in actions(session, good)

    def test_bulk_resolve(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        supervisor: StaffWithKey,
        session: Session,
        employer: EmployerWithKey,
    ) -> None:
        a, b, c = (synthetic_flag(session, employer.employer) for _ in range(3))
        for f in (a, b):
            act(api, inspector, f, "claim")
        url = f"{INSPECTION}/bulk/resolve"
        body = {"flag_ids": [str(a.id), str(b.id), str(c.id)], "outcome": "duplicate", "note": "D"}
        data = problem(api.post(url, json=body, headers=supervisor.headers), 409, "bulk_rejected")
        assert [e["field"] for e in data["errors"]] == ["flag_ids.2"]
        session.refresh(a)
        assert a.status == FlagStatus.CLAIMED
        body["flag_ids"] = [str(a.id), str(b.id)]
        response = api.post(url, json=body, headers=supervisor.headers)
        assert response.status_code == 200
        assert {f["status"] for f in response.json()["updated"]} == {"resolved"}
        no_note = {"flag_ids": [str(c.id)], "outcome": "duplicate"}
        assert api.post(url, json=no_note, headers=supervisor.headers).status_code == 422
        empty = {"flag_ids": [], "outcome": "duplicate", "note": "x"}
        assert api.post(url, json=empty, headers=supervisor.headers).status_code == 422


class TestSnooze:
    def test_snooze_and_lift(
        self,
        api: TestClient,
        inspector: StaffWithKey,
        supervisor: StaffWithKey,
        session: Session,
        employer: EmployerWithKey,
        other_employer: EmployerWithKey,
    ) -> None:
        late = synthetic_flag(session, employer.employer)
        wage = synthetic_flag(session, employer.employer, rule="BELOW_MINIMUM_WAGE")
        elsewhere = synthetic_flag(session, other_employer.employer)
        until = today() + timedelta(days=30)
        body = {
            "employer_id": str(employer.employer.id),
            "rule_code": "LATE_NOTICE",
            "until": until.isoformat(),
            "reason": "Werkgever heeft procedure aangepast; controle in juni.",
        }
        response = api.post(f"{INSPECTION}/snoozes", json=body, headers=supervisor.headers)
        assert response.status_code == 201, response.text
        snooze = response.json()
        assert snooze["flags_affected"] == 1
        queue = api.get(FLAGS, headers=inspector.headers).json()
        assert {i["id"] for i in queue["items"]} == {str(wage.id), str(elsewhere.id)}
        session.refresh(late)
        assert late.snoozed_until == until
        assert "flag.snoozed" in actions(session, late)
        # a later sync (intake or sweep) keeps the flag asleep: it sees the new snooze
        forget_cached_facts(session)
        again = synthetic_flag(session, employer.employer)
        assert again.snoozed_until == until
        listed = api.get(f"{INSPECTION}/snoozes", headers=inspector.headers).json()
        assert [s["id"] for s in listed] == [snooze["id"]]
        lifted = api.post(f"{INSPECTION}/snoozes/{snooze['id']}/lift", headers=supervisor.headers)
        assert lifted.status_code == 200
        assert lifted.json()["lifted_at"]
        session.refresh(late)
        assert late.snoozed_until is None
        queue = api.get(FLAGS, headers=inspector.headers).json()
        assert str(late.id) in {i["id"] for i in queue["items"]}
        assert api.get(f"{INSPECTION}/snoozes", headers=inspector.headers).json() == []
        events = session.exec(
            select(AuditEvent.action).where(AuditEvent.subject_type == "snooze")
        ).all()
        assert sorted(events) == ["snooze.created", "snooze.lifted"]

    def test_a_new_snooze_replaces_the_old(
        self, api: TestClient, supervisor: StaffWithKey, employer: EmployerWithKey
    ) -> None:
        def snooze(days: int) -> Any:
            body = {
                "employer_id": str(employer.employer.id),
                "rule_code": "LATE_NOTICE",
                "until": (today() + timedelta(days=days)).isoformat(),
                "reason": "Afspraak met werkgever.",
            }
            return api.post(f"{INSPECTION}/snoozes", json=body, headers=supervisor.headers)

        first = snooze(10).json()
        second = snooze(20).json()
        listed = api.get(f"{INSPECTION}/snoozes", headers=supervisor.headers).json()
        assert [s["id"] for s in listed] == [second["id"]]
        everything = api.get(
            f"{INSPECTION}/snoozes",
            params={"include_lifted": "true", "employer_id": str(employer.employer.id)},
            headers=supervisor.headers,
        ).json()
        assert {s["id"] for s in everything} == {first["id"], second["id"]}

    def test_refusals(
        self, api: TestClient, supervisor: StaffWithKey, employer: EmployerWithKey
    ) -> None:
        base = {
            "employer_id": str(employer.employer.id),
            "rule_code": "LATE_NOTICE",
            "until": (today() + timedelta(days=1)).isoformat(),
            "reason": "Reden genoeg.",
        }
        url = f"{INSPECTION}/snoozes"

        def post(**changes: Any) -> Any:
            return api.post(url, json={**base, **changes}, headers=supervisor.headers)

        problem(post(rule_code="NO_SUCH_RULE"), 422, "unknown_rule")
        problem(post(until=(today() - timedelta(days=1)).isoformat()), 422, "validation_failed")
        problem(post(employer_id=str(uuid.uuid4())), 404, "employer_not_found")
        assert post(reason="").status_code == 422
        lift = api.post(f"{url}/{uuid.uuid4()}/lift", headers=supervisor.headers)
        problem(lift, 404, "snooze_not_found")


def test_person_flag_related_by_hash(
    api: TestClient, inspector: StaffWithKey, session: Session, employer: EmployerWithKey
) -> None:
    a = synthetic_flag(
        session,
        employer.employer,
        rule="PERSON_TOTAL_HOURS_EXCESSIVE",
        severity=Severity.HIGH,
        subject_type=SubjectType.PERSON,
        subject_id="hash-1",
        person_hash="hash-1",
    )
    b = synthetic_flag(
        session,
        employer.employer,
        rule="MANY_EMPLOYERS",
        subject_type=SubjectType.PERSON,
        subject_id="hash-1",
        person_hash="hash-1",
    )
    detail = api.get(f"{FLAGS}/{a.id}", headers=inspector.headers).json()
    assert [f["id"] for f in detail["related_person_flags"]] == [str(b.id)]


# --- a real race: two inspectors, two connections, one flag --------------------------------


@pytest.fixture
def committed_app(db_backend: str, tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    """An app on a database of its own, whose requests really commit."""
    name = None
    if db_backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'race.db'}"
    else:
        name = unique_pg_name("meldplicht_race")
        url = fresh_postgres_url(name)
    upgrade(url)
    engine = create_db_engine(url)
    settings = Settings(environment=Environment.TEST, database_url=url, _env_file=None)
    try:
        yield TestClient(create_app(settings, engine), raise_server_exceptions=False), engine
    finally:
        engine.dispose()
        if name is not None:
            drop_postgres(name)


def test_concurrent_claim_one_wins(committed_app: tuple[TestClient, Any]) -> None:
    client, engine = committed_app
    with Session(engine, expire_on_commit=False) as session, session.begin():
        employer = make_employer(session, "12345678")
        anna = make_staff(session, "inspector_anna")
        bram = make_staff(session, "inspector_bram")
        flag = synthetic_flag(session, employer.employer)
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def claim(who: StaffWithKey, name: str) -> None:
        barrier.wait()
        response = client.post(f"{FLAGS}/{flag.id}/claim", headers=who.headers)
        results[name] = response.status_code

    threads = [
        threading.Thread(target=claim, args=(anna, "anna")),
        threading.Thread(target=claim, args=(bram, "bram")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results.values()) == [200, 409], results
    winner = anna if results["anna"] == 200 else bram
    with Session(engine) as session:
        stored = session.get(Flag, flag.id)
        assert stored is not None
        assert stored.status == FlagStatus.CLAIMED
        assert stored.assignee_id == winner.id
        claims = session.exec(select(AuditEvent).where(AuditEvent.action == "flag.claimed")).all()
        assert len(claims) == 1
