"""Flags from intake: opened once, cleared by a correcting change, reopened when it returns."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from meldplicht.audit.models import AuditEvent
from meldplicht.core.clock import today
from meldplicht.flags.models import Flag, FlagStatus
from tests.conftest import EmployerWithKey
from tests.factories import day, notification_body

URL = "/api/v1/notifications"


def flags(session: Session, notification_id: str) -> dict[str, Flag]:
    rows = session.exec(select(Flag).where(Flag.notification_id == uuid.UUID(notification_id)))
    return {f.rule_code: f for f in rows}


def underpaid() -> dict[str, Any]:
    body = notification_body()
    body["wage"] = {"amount": "9.00", "period": "hour", "includes_holiday_allowance": False}
    return body


def test_late_notice_opens_one_flag_with_risk(
    client: TestClient, employer: EmployerWithKey, session: Session
) -> None:
    body = notification_body(start_date=(today() + timedelta(days=1)).isoformat(), end_date=None)
    nid = client.post(URL, json=body, headers=employer.headers).json()["id"]
    flag = flags(session, nid)["LATE_NOTICE"]
    assert flag.status == FlagStatus.OPEN
    assert flag.employer_id == employer.employer.id
    assert flag.province == "Zuid-Holland"  # work location 2671 AB Naaldwijk
    assert flag.sector == "Glastuinbouw"
    # medium (30) x the horticulture weight for SBI 01130 (1.4) = 42
    assert flag.risk_score == 42
    assert flag.risk_breakdown["sector"]["weight"] == "1.4"
    assert flag.evidence
    opened = session.exec(select(AuditEvent).where(AuditEvent.subject_id == str(flag.id))).all()
    assert [e.action for e in opened] == ["flag.opened"]


def test_info_findings_do_not_enter_the_queue(
    client: TestClient, employer: EmployerWithKey, session: Session
) -> None:
    nid = client.post(URL, json=notification_body(), headers=employer.headers).json()["id"]
    assert flags(session, nid) == {}


def test_change_clears_and_later_change_reopens(
    client: TestClient, employer: EmployerWithKey, session: Session
) -> None:
    nid = client.post(URL, json=underpaid(), headers=employer.headers).json()["id"]
    flag = flags(session, nid)["BELOW_MINIMUM_WAGE"]
    assert flag.status == FlagStatus.OPEN
    fixed = client.post(
        f"{URL}/{nid}/changes",
        headers=employer.headers,
        json={"effective_date": day(0), "wage": {"amount": "16.00", "period": "hour"}},
    )
    assert fixed.status_code == 200
    assert "BELOW_MINIMUM_WAGE" not in {f["code"] for f in fixed.json()["findings"]}
    session.refresh(flag)
    assert flag.status == FlagStatus.CLEARED
    assert flag.condition_present is False
    worse = client.post(
        f"{URL}/{nid}/changes",
        headers=employer.headers,
        json={"effective_date": day(10), "wage": {"amount": "10.00", "period": "hour"}},
    )
    assert worse.status_code == 200
    session.refresh(flag)
    assert flag.status == FlagStatus.OPEN
    assert flag.reopened_count == 1
    all_flags = session.exec(select(Flag).where(Flag.notification_id == uuid.UUID(nid))).all()
    assert len([f for f in all_flags if f.rule_code == "BELOW_MINIMUM_WAGE"]) == 1


def test_withdrawal_clears_open_flags(
    client: TestClient, employer: EmployerWithKey, session: Session
) -> None:
    nid = client.post(URL, json=underpaid(), headers=employer.headers).json()["id"]
    client.post(f"{URL}/{nid}/withdrawal", headers=employer.headers, json={"reason": "Fout"})
    assert flags(session, nid)["BELOW_MINIMUM_WAGE"].status == FlagStatus.CLEARED
