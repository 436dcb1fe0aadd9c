"""Risk scores recomputed when an input changes (a confirmed violation, its withdrawal, a
snooze), with the stamp of when, in the queue API; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from meldplicht.core.clock import today, utcnow
from meldplicht.flags import risk
from meldplicht.flags.models import Flag
from meldplicht.inspection.models import Case
from tests.conftest import EmployerWithKey
from tests.inspection.conftest import INSPECTION, StaffWithKey, synthetic_flag

FLAGS = f"{INSPECTION}/flags"
CASES = "/api/v1/cases"


def act(api: TestClient, who: StaffWithKey, flag: Flag, action: str, body: Any = None) -> Any:
    response = api.post(f"{FLAGS}/{flag.id}/{action}", json=body, headers=who.headers)
    assert response.status_code == 200, response.text
    return response


def case_of(session: Session, employer: EmployerWithKey) -> Case:
    case = session.exec(select(Case).where(Case.employer_id == employer.employer.id)).one()
    session.refresh(case)
    return case


def queue_item(api: TestClient, who: StaffWithKey, flag: Flag) -> dict[str, Any]:
    items = api.get(FLAGS, headers=who.headers).json()["items"]
    (item,) = [i for i in items if i["id"] == str(flag.id)]
    return item  # type: ignore[no-any-return]


def test_a_confirmed_violation_rescores_the_employers_flags_and_moves_the_stamps(
    api: TestClient,
    inspector: StaffWithKey,
    supervisor: StaffWithKey,
    session: Session,
    employer: EmployerWithKey,
) -> None:
    earlier = utcnow() - timedelta(days=2)
    worked = synthetic_flag(session, employer.employer, first_seen=earlier)
    other = synthetic_flag(
        session, employer.employer, rule="BELOW_MINIMUM_WAGE", first_seen=earlier
    )
    assert other.risk_computed_at == earlier
    score = other.risk_score
    case_stamp = case_of(session, employer).risk_computed_at
    assert case_stamp == earlier

    act(api, inspector, worked, "claim")
    act(api, inspector, worked, "resolve", {"outcome": "violation_confirmed", "note": "Ja."})

    session.refresh(other)
    expected, _ = risk.score(
        severity=other.severity,
        workers_affected=other.workers_affected,
        confirmed_violations=1,  # five history points, times the sector's weight
        sbi_code=other.risk_breakdown["sector"]["sbi_code"],
    )
    assert other.risk_score == expected > score
    assert other.risk_breakdown["employer_history"]["confirmed_violations"] == 1
    assert other.risk_computed_at is not None
    assert other.risk_computed_at > earlier
    case = case_of(session, employer)
    assert case.risk_computed_at is not None
    assert case.risk_computed_at > earlier
    item = queue_item(api, inspector, other)
    assert item["risk_score"] == expected
    assert item["risk_computed_at"] is not None
    rows = api.get(CASES, headers=inspector.headers).json()["items"]
    assert rows[0]["risk_computed_at"] is not None

    # The supervisor withdraws the confirmation: the score goes back, the stamp moves again.
    stamp = other.risk_computed_at
    act(api, supervisor, worked, "reopen", {"note": "Toch niet bewezen."})
    session.refresh(other)
    assert other.risk_score == score
    assert other.risk_computed_at is not None
    assert other.risk_computed_at >= stamp


def test_a_snooze_and_its_lifting_rescore_the_rules_flags(
    api: TestClient,
    inspector: StaffWithKey,
    supervisor: StaffWithKey,
    session: Session,
    employer: EmployerWithKey,
) -> None:
    earlier = utcnow() - timedelta(days=2)
    late = synthetic_flag(session, employer.employer, first_seen=earlier)
    wage = synthetic_flag(session, employer.employer, rule="BELOW_MINIMUM_WAGE", first_seen=earlier)
    body = {
        "employer_id": str(employer.employer.id),
        "rule_code": "LATE_NOTICE",
        "until": (today() + timedelta(days=30)).isoformat(),
        "reason": "Werkgever heeft procedure aangepast; controle in juni.",
    }
    response = api.post(f"{INSPECTION}/snoozes", json=body, headers=supervisor.headers)
    assert response.status_code == 201, response.text
    session.refresh(late)
    session.refresh(wage)
    snoozed_at = late.risk_computed_at
    assert snoozed_at is not None
    assert snoozed_at > earlier
    assert wage.risk_computed_at == earlier  # another rule: not an input of its score

    lifted = api.post(
        f"{INSPECTION}/snoozes/{response.json()['id']}/lift", headers=supervisor.headers
    )
    assert lifted.status_code == 200, lifted.text
    session.refresh(late)
    assert late.risk_computed_at is not None
    assert late.risk_computed_at >= snoozed_at
    assert queue_item(api, inspector, late)["risk_computed_at"] is not None


def test_a_bulk_confirmation_rescores_each_employer_once_with_every_confirmation(
    api: TestClient,
    inspector: StaffWithKey,
    supervisor: StaffWithKey,
    session: Session,
    employer: EmployerWithKey,
) -> None:
    earlier = utcnow() - timedelta(days=2)
    worked = [synthetic_flag(session, employer.employer, first_seen=earlier) for _ in range(2)]
    other = synthetic_flag(
        session, employer.employer, rule="BELOW_MINIMUM_WAGE", first_seen=earlier
    )
    for flag in worked:
        act(api, inspector, flag, "claim")
    body = {
        "flag_ids": [str(f.id) for f in worked],
        "outcome": "violation_confirmed",
        "note": "Beide bevestigd.",
    }
    response = api.post(f"{INSPECTION}/bulk/resolve", json=body, headers=supervisor.headers)
    assert response.status_code == 200, response.text
    session.refresh(other)
    assert other.risk_breakdown["employer_history"]["confirmed_violations"] == 2
    assert other.risk_computed_at is not None
    assert other.risk_computed_at > earlier
    assert case_of(session, employer).risk_breakdown["rules"][0]["highest_flag_score"] == (
        other.risk_score
    )
