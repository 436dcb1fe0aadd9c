"""Cases: flags of one employer join one case; a closed case stays closed; back pay; the queue."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from meldplicht.audit.models import AuditEvent
from meldplicht.core.clock import today
from meldplicht.flags.models import Flag
from meldplicht.inspection.models import Case, CaseStatus
from meldplicht.rules.facts import Severity
from tests.conftest import EmployerWithKey, make_employer
from tests.factories import notification_body
from tests.inspection.conftest import (
    StaffWithKey,
    late_body,
    notify,
    synthetic_flag,
    underpaid_body,
)

CASES = "/api/v1/cases"


def cases_of(session: Session, employer: EmployerWithKey) -> list[Case]:
    return list(
        session.exec(
            select(Case)
            .where(Case.employer_id == employer.employer.id)
            .order_by(col(Case.opened_at))
        )
    )


def case_actions(session: Session, case: Case) -> list[str]:
    rows = session.exec(
        select(AuditEvent)
        .where(AuditEvent.subject_type == "case", AuditEvent.subject_id == str(case.id))
        .order_by(col(AuditEvent.id))
    )
    return [e.action for e in rows]


def test_flags_of_one_employer_join_one_case(
    api: TestClient,
    employer: EmployerWithKey,
    other_employer: EmployerWithKey,
    inspector: StaffWithKey,
    session: Session,
) -> None:
    notify(api, employer.headers, underpaid_body("111222333"))
    notify(api, employer.headers, underpaid_body("123456782"))
    notify(api, employer.headers, late_body("999996356"))
    notify(api, other_employer.headers, underpaid_body("999993653"))
    [case] = cases_of(session, employer)
    flags = session.exec(select(Flag).where(Flag.employer_id == employer.employer.id)).all()
    assert len(flags) >= 3
    assert {f.case_id for f in flags} == {case.id}
    session.refresh(case)
    assert case.status == CaseStatus.OPEN
    assert case.workers_affected == 3
    assert case.active_flags == len(flags)
    assert "BELOW_MINIMUM_WAGE" in case.rules
    assert "LATE_NOTICE" in case.rules
    # Risk: the highest flag score of each rule, added up (not one per flag).
    best: dict[str, int] = {}
    for f in flags:
        best[f.rule_code] = max(best.get(f.rule_code, 0), f.risk_score)
    assert case.risk_score == sum(best.values())
    assert case.risk_breakdown["formula"].endswith(f"= {case.risk_score}")
    # The due date follows the most severe flag (high: 5 days from its first sighting).
    assert case.due_on == today() + timedelta(days=5)
    assert case_actions(session, case)[:2] == ["case.opened", "case.flags_joined"]
    page = api.get(CASES, headers=inspector.headers).json()
    assert page["count"] == 2
    row = next(r for r in page["items"] if r["id"] == str(case.id))
    assert row["employer_name"] == employer.employer.name
    assert row["kvk_number"] == "12345678"
    assert row["flags_by_severity"]["high"] == 2


def test_a_closed_case_stays_closed_and_a_new_flag_opens_a_new_case(
    api: TestClient, employer: EmployerWithKey, inspector: StaffWithKey, session: Session
) -> None:
    notify(api, employer.headers, underpaid_body("111222333"))
    [first] = cases_of(session, employer)
    assert api.post(f"{CASES}/{first.id}/claim", headers=inspector.headers).status_code == 200
    refused = api.post(
        f"{CASES}/{first.id}/close",
        json={"outcome": "warning", "note": "  "},
        headers=inspector.headers,
    )
    assert refused.status_code == 422
    closed = api.post(
        f"{CASES}/{first.id}/close",
        json={"outcome": "warning", "note": "Schriftelijke waarschuwing gegeven."},
        headers=inspector.headers,
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    figures = closed.json()["active_flags"]
    notify(api, employer.headers, underpaid_body("123456782"))
    old, new = cases_of(session, employer)
    session.refresh(old)
    assert old.id == first.id
    assert old.status == CaseStatus.CLOSED
    assert old.outcome == "warning"
    assert old.active_flags == figures  # the figures the decision was made on
    assert new.status == CaseStatus.OPEN
    new_flags = session.exec(select(Flag).where(Flag.case_id == new.id)).all()
    assert {f.rule_code for f in new_flags} >= {"BELOW_MINIMUM_WAGE"}
    assert case_actions(session, old) == [
        "case.opened",
        "case.flags_joined",
        "case.claimed",
        "case.closed",
    ]
    again = api.post(f"{CASES}/{first.id}/claim", headers=inspector.headers)
    assert again.status_code == 409


def test_back_pay_of_a_planted_employer(
    api: TestClient, employer: EmployerWithKey, inspector: StaffWithKey, session: Session
) -> None:
    # Adult (born 1995), EUR 9.00 an hour, 40 hours a week, 6 July - 2 August 2026 (4 weeks).
    # Minimum from 1 July 2026, 21 and older: EUR 14.99 (WML art. 8(1)(a), 14; the table of
    # 1 July 2026). (14.99 - 9.00) x 40 x 4 = 5.99 x 160 = 958.40; + 8% holiday allowance
    # (WML art. 15(1)) 76.672: EUR 1,035.072 -> EUR 1,035.07.
    body = notification_body(start_date="2026-07-06", end_date="2026-08-02")
    body["hours_per_week"] = "40"
    body["fulltime_hours_per_week"] = "40"
    body["wage"] = {"amount": "9.00", "period": "hour", "includes_holiday_allowance": False}
    notify(api, employer.headers, body)
    [case] = cases_of(session, employer)
    session.refresh(case)
    assert case.back_pay == Decimal("1035.07")
    detail = api.get(f"{CASES}/{case.id}", headers=inspector.headers).json()
    [worker] = detail["workers"]
    assert worker["bsn_masked"] == "******333"
    assert worker["age_band"] == "21+"
    assert Decimal(worker["shortfall"]) == Decimal("958.40")
    assert Decimal(worker["back_pay"]) == Decimal("1035.07")
    assert Decimal(worker["hours"]) == Decimal("160")
    assert Decimal(worker["weeks"]) == Decimal("4")
    [part] = worker["calculation"]["parts"]
    assert part["hourly_due"] == "14.99"
    assert any("BWBR0002638" in p["reference"] for p in worker["calculation"]["parameters"])
    rules = {g["rule_code"]: g["count"] for g in detail["flags_by_rule"]}
    assert rules["BELOW_MINIMUM_WAGE"] == 1
    assert [e["kind"] for e in detail["timeline"]].count("notification") == 1
    # The age counts from the start of work, not from the day the flag was made.
    assert detail["condition_since"] == "2026-07-06"
    assert detail["age_days"] == (today() - date(2026, 7, 6)).days


def test_queue_order_filters_and_pages(
    api: TestClient, session: Session, inspector: StaffWithKey
) -> None:
    low = make_employer(session, "11111110", "Laag Risico B.V.")
    high = make_employer(session, "22222220", "Hoog Risico B.V.")
    mid = make_employer(session, "33333330", "Midden B.V.")
    synthetic_flag(session, low.employer, rule="LATE_NOTICE", severity=Severity.LOW)
    synthetic_flag(session, high.employer, rule="UNDERAGE_WORK", severity=Severity.HIGH)
    synthetic_flag(session, high.employer, rule="LATE_NOTICE", severity=Severity.MEDIUM)
    synthetic_flag(
        session, mid.employer, rule="LATE_NOTICE", severity=Severity.MEDIUM, postcode="1011 AB"
    )
    by_risk = api.get(CASES, headers=inspector.headers).json()
    assert [r["employer_name"] for r in by_risk["items"]] == [
        "Hoog Risico B.V.",
        "Midden B.V.",
        "Laag Risico B.V.",
    ]
    assert by_risk["count"] == 3
    scores = [r["risk_score"] for r in by_risk["items"]]
    assert scores == sorted(scores, reverse=True)
    high_only = api.get(CASES, params={"severity": "high"}, headers=inspector.headers).json()
    assert [r["employer_name"] for r in high_only["items"]] == ["Hoog Risico B.V."]
    noord = api.get(CASES, params={"province": "Noord-Holland"}, headers=inspector.headers)
    assert [r["employer_name"] for r in noord.json()["items"]] == ["Midden B.V."]
    by_rule = api.get(CASES, params={"rule": "UNDERAGE_WORK"}, headers=inspector.headers)
    assert by_rule.json()["count"] == 1
    by_kvk = api.get(CASES, params={"employer": "33333330"}, headers=inspector.headers)
    assert [r["kvk_number"] for r in by_kvk.json()["items"]] == ["33333330"]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 1, "sort": "age"}
        if cursor:
            params["cursor"] = cursor
        page = api.get(CASES, params=params, headers=inspector.headers).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 3
    bad = api.get(CASES, params={"cursor": "nonsense"}, headers=inspector.headers)
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_cursor"
    other_sort = api.get(
        CASES,
        params={"cursor": by_risk["next_cursor"] or _cursor(api, inspector), "sort": "back_pay"},
        headers=inspector.headers,
    )
    assert other_sort.status_code == 422


def _cursor(api: TestClient, inspector: StaffWithKey) -> str:
    page = api.get(CASES, params={"limit": 1}, headers=inspector.headers).json()
    cursor: str = page["next_cursor"]
    return cursor


def test_back_pay_sort_puts_the_largest_estimate_first(
    api: TestClient,
    employer: EmployerWithKey,
    other_employer: EmployerWithKey,
    inspector: StaffWithKey,
    session: Session,
) -> None:
    notify(api, other_employer.headers, late_body("999993653"))
    body = notification_body(start_date="2026-07-06", end_date="2026-08-02")
    body["wage"] = {"amount": "9.00", "period": "hour", "includes_holiday_allowance": False}
    notify(api, employer.headers, body)
    page = api.get(CASES, params={"sort": "back_pay"}, headers=inspector.headers).json()
    assert page["items"][0]["kvk_number"] == "12345678"
    assert Decimal(page["items"][0]["back_pay"]) > 0
    assert Decimal(page["items"][1]["back_pay"]) == 0


def test_an_employer_key_cannot_read_cases(api: TestClient, employer: EmployerWithKey) -> None:
    assert api.get(CASES, headers=employer.headers).status_code == 403
    assert api.get(f"{CASES}/{uuid.uuid4()}", headers=employer.headers).status_code == 403


def test_report_pdf_and_csv_are_dutch_masked_and_audited(
    api: TestClient, employer: EmployerWithKey, inspector: StaffWithKey, session: Session
) -> None:
    body = notification_body(start_date="2026-07-06", end_date="2026-08-02")
    body["hours_per_week"] = "40"
    body["wage"] = {"amount": "9.00", "period": "hour", "includes_holiday_allowance": False}
    notify(api, employer.headers, body)
    [case] = cases_of(session, employer)
    pdf = api.get(f"{CASES}/{case.id}/report.pdf", headers=inspector.headers)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    annex = api.get(f"{CASES}/{case.id}/report.csv", headers=inspector.headers)
    assert annex.status_code == 200
    lines = annex.text.splitlines()
    assert lines[0].startswith("zaak;werkgever;kvk;werknemer;bsn")
    [line] = lines[1:]
    assert "******333" in line
    assert "111222333" not in annex.text
    assert line.endswith(";14.99;9.00;160.00;958.40;76.67;1035.07")
    assert case_actions(session, case).count("case.report_generated") == 2
