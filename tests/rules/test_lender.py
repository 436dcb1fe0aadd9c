"""LENDER_NOT_ADMITTED (Wtta) on the law's dates: the worked examples in cases/, and edges."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml

from meldplicht.rules.checks import catalogue
from meldplicht.rules.checks.lender import (
    AdmissionFacts,
    AdmissionStatus,
    LenderWork,
    admission_dates,
    check_lender_admission,
)
from meldplicht.rules.params import Parameters

from .conftest import CASES

CASES_FILE = yaml.safe_load((CASES / "lender_admission.yaml").read_text(encoding="utf-8"))


def _facts(raw: dict[str, Any] | None) -> AdmissionFacts | None:
    if raw is None:
        return None
    return AdmissionFacts(
        kvk_number="12345678",
        status=AdmissionStatus(raw["status"]),
        checked_on=raw["checked_on"],
        valid_from=raw.get("valid_from"),
        valid_until=raw.get("valid_until"),
    )


@pytest.mark.parametrize("case", CASES_FILE["cases"], ids=[c["id"] for c in CASES_FILE["cases"]])
def test_worked_examples(case: dict[str, Any], params: Parameters) -> None:
    work = LenderWork(**case["work"])
    findings = check_lender_admission(
        _facts(case["register"]), work, judged_on=case["judged_on"], params=params
    )
    if case["severity"] is None:
        assert findings == []
        return
    assert [f.code for f in findings] == ["LENDER_NOT_ADMITTED"]
    finding = findings[0]
    assert finding.severity == case["severity"]
    for text in case.get("message_en_contains", []):
        assert text in finding.message_en
    for text in case.get("message_nl_contains", []):
        assert text in finding.message_nl
    assert finding.parameters[0].name == "wtta_admission_dates"
    assert "toelatinguitleenmarkt" in finding.parameters[0].reference
    assert "BWBR0009616" in finding.legal_basis


def test_dates_are_the_laws(params: Parameters) -> None:
    dates = admission_dates(date(2027, 1, 1), params)
    assert dates is not None
    assert dates["in_force"] == date(2027, 1, 1)
    assert dates["register_online"] == date(2027, 7, 1)
    assert dates["enforced_from"] == date(2028, 1, 1)
    assert dates["waadi_registration_until"] == date(2027, 12, 31)
    assert admission_dates(date(2020, 1, 1), params) is None


def test_the_day_before_each_date(params: Parameters) -> None:
    facts = AdmissionFacts("12345678", AdmissionStatus.NOT_FOUND, date(2027, 6, 1))
    work = LenderWork("12345678")
    assert check_lender_admission(facts, work, judged_on=date(2027, 6, 30), params=params) == []
    low = check_lender_admission(facts, work, judged_on=date(2027, 12, 31), params=params)
    assert [f.severity for f in low] == ["low"]
    high = check_lender_admission(facts, work, judged_on=date(2028, 1, 1), params=params)
    assert [f.severity for f in high] == ["high"]


def test_in_the_catalogue_and_names_no_internal_document() -> None:
    info = {i.code: i for i in catalogue()}["LENDER_NOT_ADMITTED"]
    assert "Waadi" not in info.title_en
    for text in (info.legal_basis, info.description_en):
        assert ".md" not in text
        assert "DECISIONS" not in text


def test_legal_basis_fits_the_flag_column() -> None:
    # Flag.legal_basis is at most 500 characters (PostgreSQL refuses longer text).
    from meldplicht.rules.checks.lender import WTTA_BASIS
    from meldplicht.rules.checks.register import WAADI_BASIS

    assert len(WTTA_BASIS) <= 500
    assert len(WAADI_BASIS) <= 500
