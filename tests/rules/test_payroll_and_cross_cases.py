"""Runs the payroll and cross-notification worked examples in cases/payroll_and_cross.yaml."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import yaml

from meldplicht.rules.checks import (
    check_many_employers,
    check_person_total_hours,
    check_repeatedly_late,
)
from meldplicht.rules.checks.payroll import (
    NoticeSummary,
    PaidPeriod,
    check_no_payroll_after_start,
    check_paid_period,
)
from meldplicht.rules.facts import (
    ContractType,
    Finding,
    NotificationFacts,
    NotificationRecord,
    WagePeriod,
    WorkerFacts,
)
from meldplicht.rules.params import Parameters

from .conftest import CASES

CASES_FILE = yaml.safe_load((CASES / "payroll_and_cross.yaml").read_text(encoding="utf-8"))


def _params(section: str) -> pytest.MarkDecorator:
    cases = CASES_FILE[section]
    return pytest.mark.parametrize("case", cases, ids=[c["id"] for c in cases])


def _notice(raw: dict[str, Any], i: int = 0) -> NoticeSummary:
    return NoticeSummary(
        notification_id=f"n{i}",
        receipt_number=f"MP26-TEST-000{i}",
        notice_date=raw["notice_date"],
        start_date=raw["start_date"],
        end_date=raw["end_date"],
        terminated=raw["terminated"],
        hours_per_week=Decimal(raw["hours_per_week"]),
        wage_amount=Decimal(raw["wage_amount"]),
        wage_period=WagePeriod(raw["wage_period"]),
        wage_includes_holiday_allowance=raw["wage_includes_holiday_allowance"],
    )


def _paid(raw: dict[str, Any]) -> PaidPeriod:
    return PaidPeriod(
        record_id="r1",
        employer_lhn="123456782L01",
        period_start=raw["period_start"],
        period_end=raw["period_end"],
        hours_paid=Decimal(raw["hours_paid"]),
        gross_wage=Decimal(raw["gross_wage"]),
        includes_holiday_allowance=raw.get("includes_holiday_allowance", False),
        birth_date=raw["birth_date"],
        birth_date_source="payroll" if raw["birth_date"] else None,
        nationality=raw.get("nationality"),
        document_type=raw.get("document_type"),
        paid_in_cash=raw.get("paid_in_cash"),
    )


def _record(raw: dict[str, Any], i: int) -> NotificationRecord:
    start: date = raw.get("start_date", raw.get("notice_date"))
    facts = NotificationFacts(
        notice_date=raw.get("notice_date", date(2026, 1, 5)),
        start_date=start,
        end_date=raw.get("end_date"),
        contract_type=ContractType.FIXED_TERM,
        hours_per_week=Decimal(raw.get("hours_per_week", "20")),
        wage_amount=Decimal("16.00"),
        wage_period=WagePeriod.HOUR,
        wage_includes_holiday_allowance=False,
        worker=WorkerFacts(birth_date=raw.get("birth_date", date(1995, 3, 14)), nationality="UKR"),
        withdrawn=raw.get("withdrawn", False),
    )
    return NotificationRecord(f"n{i}", raw.get("employer", "E"), "person", facts)


def _expect(case: dict[str, Any], findings: list[Finding]) -> None:
    assert sorted(f.code for f in findings) == sorted(case["codes"])
    text = " ".join(f.message_en for f in findings)
    for snippet in case.get("message_en_contains", []):
        assert snippet in text
    for f in findings:
        assert f.message_nl
        assert f.legal_basis


@_params("paid_period")
def test_paid_period(case: dict[str, Any], params: Parameters) -> None:
    notices = [_notice(n, i) for i, n in enumerate(case["notices"])]
    found = check_paid_period(
        _paid(case["paid"]),
        notices,
        as_of=case["as_of"],
        employer_registered=case.get("employer_registered", True),
        params=params,
    )
    _expect(case, found)


@_params("no_payroll_after_start")
def test_no_payroll_after_start(case: dict[str, Any], params: Parameters) -> None:
    span = case["employer_payroll_span"]
    found = check_no_payroll_after_start(
        _notice(case["notice"]),
        [tuple(p) for p in case["paid_periods"]],
        tuple(span) if span else None,
        as_of=case["as_of"],
        params=params,
    )
    _expect(case, found)


@_params("person_total_hours")
def test_person_total_hours(case: dict[str, Any], params: Parameters) -> None:
    records = [_record(n, i) for i, n in enumerate(case["notifications"])]
    _expect(case, check_person_total_hours(records, case["as_of"], params))


@_params("many_employers")
def test_many_employers(case: dict[str, Any], params: Parameters) -> None:
    records = [_record(n, i) for i, n in enumerate(case["notifications"])]
    _expect(case, check_many_employers(records, case["as_of"], params=params))


@_params("repeatedly_late")
def test_repeatedly_late(case: dict[str, Any], params: Parameters) -> None:
    records = [_record(n, i) for i, n in enumerate(case["notifications"])]
    _expect(case, check_repeatedly_late(records, case["as_of"], params=params))
