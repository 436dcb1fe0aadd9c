"""No user-facing text names an internal document: findings, the rule catalogue, parameter
references (GET /api/v1/parameters), page templates, translations and the PDF text cite the
law and say the reading in plain words."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import meldplicht
from meldplicht.rules.checks import catalogue, evaluate_notification
from meldplicht.rules.checks.payroll import (
    NoticeSummary,
    PaidPeriod,
    check_no_payroll_after_start,
    check_paid_period,
)
from meldplicht.rules.facts import (
    ContractType,
    Evaluation,
    Finding,
    NotificationFacts,
    WagePeriod,
    WorkerFacts,
)
from meldplicht.rules.params import Parameters

INTERNAL = re.compile(
    r"DECISIONS|legal-research|RULES\.md|SECURITY\.md|OPERATIONS\.md|ARCHITECTURE|"
    r"D§|configuration flag|\.py\b|rules/checks|tests/",
)
PACKAGE = Path(meldplicht.__file__).parent


def internal_names(text: str) -> list[str]:
    return INTERNAL.findall(text)


def finding_text(finding: Finding) -> str:
    evidence = {k: v for k, v in finding.evidence.items() if k != "inputs"}
    return " ".join(
        (finding.message_en, finding.message_nl, finding.legal_basis, json.dumps(evidence))
    )


def test_the_catalogue() -> None:
    for info in catalogue():
        text = " ".join((info.legal_basis, info.title_en, info.title_nl, info.description_en))
        assert not internal_names(text), info.code


def test_parameter_references(params: Parameters) -> None:
    for name in params.names():
        assert not internal_names(json.dumps(params.describe(name), default=str)), name


@pytest.mark.parametrize(
    "path",
    sorted(
        [
            *(PACKAGE / "web" / "templates").rglob("*.html"),
            *(PACKAGE / "web" / "i18n").glob("*.json"),
            PACKAGE / "web" / "pdf.py",
        ]
    ),
    ids=lambda p: p.name,
)
def test_pages_translations_and_pdf(path: Path) -> None:
    assert not internal_names(path.read_text(encoding="utf-8")), path


def _facts(**overrides: object) -> NotificationFacts:
    values: dict[str, object] = {
        "notice_date": date(2026, 7, 1),
        "start_date": date(2026, 7, 2),
        "end_date": date(2027, 6, 30),
        "contract_type": ContractType.ON_CALL,
        "hours_per_week": Decimal(62),
        "wage_amount": Decimal("9.00"),
        "wage_period": WagePeriod.HOUR,
        "wage_includes_holiday_allowance": False,
        "housing_provided": True,
        "housing_deduction_monthly": Decimal(900),
        "worker": WorkerFacts(
            birth_date=date(2009, 8, 1),
            nationality="NGA",
            document_type="sticker",
            document_valid_until=date(2026, 8, 1),
        ),
    }
    values.update(overrides)
    return NotificationFacts(**values)  # type: ignore[arg-type]


def test_findings_of_every_kind(params: Parameters) -> None:
    samples = [
        _facts(),
        _facts(
            contract_type=ContractType.SELF_EMPLOYED, worker=WorkerFacts(date(2014, 1, 1), "UKR")
        ),
        _facts(
            wage_period=WagePeriod.MONTH,
            wage_amount=Decimal(1000),
            start_date=date(2023, 8, 1),
            notice_date=date(2023, 8, 1),
            end_date=date(2023, 12, 31),
        ),
    ]
    findings: list[Finding] = []
    for facts in samples:
        findings += evaluate_notification(
            facts, as_of=facts.notice_date, evaluation=Evaluation.INTAKE, params=params
        )
        findings += evaluate_notification(
            facts, as_of=date(2027, 3, 10), evaluation=Evaluation.SWEEP, params=params
        )
    notice = NoticeSummary(
        "n1",
        "MP25-AAAA-BBBB",
        date(2025, 1, 20),
        date(2025, 2, 3),
        date(2025, 2, 28),
        True,
        Decimal(38),
        Decimal("16.50"),
        WagePeriod.HOUR,
        False,
    )
    for record in (
        PaidPeriod(
            "r1", "123456782L01", date(2025, 3, 1), date(2025, 3, 31), Decimal(280), Decimal("1000")
        ),
        PaidPeriod(
            "r2",
            "123456782L01",
            date(2025, 2, 3),
            date(2025, 2, 28),
            Decimal(100),
            Decimal("1000"),
            birth_date=date(1990, 1, 1),
        ),
        PaidPeriod(
            "r3",
            "123456782L01",
            date(2025, 2, 3),
            date(2025, 2, 28),
            Decimal(100),
            Decimal("1500"),
            birth_date=date(1990, 1, 1),
        ),
    ):
        findings += check_paid_period(
            record, [notice], as_of=date(2025, 6, 30), employer_registered=True, params=params
        )
        findings += check_paid_period(
            record, [], as_of=date(2025, 6, 30), employer_registered=False, params=params
        )
    findings += check_no_payroll_after_start(
        notice, [], (date(2025, 1, 1), date(2025, 6, 30)), as_of=date(2025, 6, 30), params=params
    )
    codes = {f.code for f in findings}
    assert len(codes) >= 15, codes  # many kinds are covered
    for finding in findings:
        assert not internal_names(finding_text(finding)), (
            finding.code,
            internal_names(finding_text(finding)),
        )
