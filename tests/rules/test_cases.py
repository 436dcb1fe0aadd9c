"""Runs the worked examples in cases/*.yaml (expected figures come from the published sources)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Any

import pytest
import yaml

from meldplicht.rules import calendar, wages
from meldplicht.rules.checks import evaluate_notification
from meldplicht.rules.facts import (
    ContractType,
    Evaluation,
    NotificationFacts,
    WagePeriod,
    WorkerFacts,
)
from meldplicht.rules.params import Parameters

from .conftest import CASES


def _load(name: str) -> Any:
    return yaml.safe_load((CASES / name).read_text(encoding="utf-8"))


def _params(cases: list[dict[str, Any]]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("case", cases, ids=[c["id"] for c in cases])


WML = _load("minimum_wage.yaml")
NOTICES = _load("notice_deadlines.yaml")["cases"]
NORMALISATION = _load("wage_normalisation.yaml")["cases"]
NOTIFICATIONS = _load("notifications.yaml")["cases"]


@_params(WML["pre_2024"])
def test_minimum_wage_before_2024(case: dict[str, Any], params: Parameters) -> None:
    fulltime = None if case["fulltime_hours"] is None else Decimal(case["fulltime_hours"])
    result = wages.minimum_hourly_wage(case["age"], case["date"], fulltime, params)
    weekly = Decimal(case["weekly"])
    used_fulltime = fulltime if fulltime is not None else Decimal(40)
    assert result.hourly == weekly / used_fulltime
    assert result.assumed_fulltime_hours is case.get("assumed", False)
    assert result.fulltime_hours == used_fulltime
    if "published_hourly" in case:
        # The sources publish the hourly rate rounded up to the cent.
        rounded_up = result.hourly.quantize(Decimal("0.01"), rounding=ROUND_CEILING)
        assert rounded_up == Decimal(case["published_hourly"])
    assert not result.possibly_out_of_date


@_params(WML["hourly"])
def test_minimum_wage_hourly_from_2024(case: dict[str, Any], params: Parameters) -> None:
    result = wages.minimum_hourly_wage(case["age"], case["date"], None, params)
    assert result.hourly == Decimal(case["hourly"])
    assert not result.assumed_fulltime_hours
    assert result.fulltime_hours is None


@_params(WML["switch_2024"])
def test_minimum_wage_switch_to_hourly(case: dict[str, Any], params: Parameters) -> None:
    result = wages.minimum_hourly_wage(
        case["age"], case["date"], Decimal(case["fulltime_hours"]), params
    )
    assert result.hourly == Decimal(case["hourly"])


@_params(WML["lower_bound_2027"])
def test_minimum_wage_lower_bound_past_newest_table(
    case: dict[str, Any], params: Parameters
) -> None:
    result = wages.minimum_hourly_wage(case["age"], case["date"], None, params)
    assert result.lower_bound
    assert result.hourly == Decimal(case["at_least"])
    assert result.missing_table == date(2027, 1, 1)
    assert result.plausible_upper is not None
    assert result.plausible_upper > result.hourly


@_params(WML["bbl"])
def test_minimum_wage_bbl_scale(case: dict[str, Any], params: Parameters) -> None:
    result = wages.minimum_hourly_wage(
        case["age"], case["date"], None, params, bbl_student=case["bbl"]
    )
    if "at_least" in case:
        assert result.lower_bound
        assert not result.bbl
        assert result.hourly == Decimal(case["at_least"])
    else:
        assert result.hourly == Decimal(case["hourly"])


@_params(WML["exact_amounts"])
def test_exact_statutory_amount_passes_one_cent_less_fails(
    case: dict[str, Any], params: Parameters
) -> None:
    fulltime = Decimal(case["fulltime"])
    statutory = Decimal(case["statutory"])
    below = Decimal(case.get("below", statutory - Decimal("0.01")))
    start = case["date"]

    def codes_for(amount: Decimal) -> set[str]:
        facts = NotificationFacts(
            notice_date=start,
            start_date=start,
            end_date=None,
            contract_type=ContractType.OPEN_ENDED,
            hours_per_week=fulltime,
            wage_amount=amount,
            wage_period=WagePeriod(case["period"]),
            wage_includes_holiday_allowance=False,
            worker=WorkerFacts(birth_date=date(start.year - case["age"], 1, 1), nationality="UKR"),
            fulltime_hours_per_week=fulltime,
        )
        findings = evaluate_notification(
            facts, as_of=start, evaluation=Evaluation.INTAKE, params=params
        )
        return {f.code for f in findings}

    assert "BELOW_MINIMUM_WAGE" not in codes_for(statutory)
    assert "BELOW_MINIMUM_WAGE" in codes_for(below)


@_params(NOTICES)
def test_notice_timeliness(case: dict[str, Any], params: Parameters) -> None:
    assert calendar.timeliness(case["notice"], case["start"], params).value == case["expected"]
    if "deadline" in case:
        assert calendar.notice_deadline(case["start"], params) == case["deadline"]


@_params(NORMALISATION)
def test_wage_normalisation(case: dict[str, Any]) -> None:
    hourly = wages.hourly_wage(
        Decimal(case["amount"]),
        WagePeriod(case["period"]),
        Decimal(case["hours"]),
        case["holiday"],
    )
    assert hourly.quantize(Decimal("0.000001")) == Decimal(case["hourly"])


def _facts(raw: dict[str, Any]) -> NotificationFacts:
    def dec(key: str) -> Decimal | None:
        return None if raw.get(key) is None else Decimal(str(raw[key]))

    return NotificationFacts(
        notice_date=raw["notice_date"],
        start_date=raw["start_date"],
        end_date=raw.get("end_date"),
        contract_type=ContractType(raw["contract_type"]),
        hours_per_week=Decimal(str(raw["hours_per_week"])),
        wage_amount=Decimal(str(raw["wage_amount"])),
        wage_period=WagePeriod(raw["wage_period"]),
        wage_includes_holiday_allowance=raw["wage_includes_holiday_allowance"],
        worker=WorkerFacts(
            birth_date=raw["birth_date"],
            nationality=raw["nationality"],
            document_type=raw.get("document_type"),
            document_valid_until=raw.get("document_valid_until"),
        ),
        fulltime_hours_per_week=dec("fulltime_hours_per_week"),
        housing_provided=raw.get("housing_provided", False),
        housing_deduction_monthly=dec("housing_deduction_monthly"),
        housing_written_consent=raw.get("housing_written_consent"),
        housing_certified=raw.get("housing_certified"),
        bbl_student=raw.get("bbl_student"),
        paid_in_cash=raw.get("paid_in_cash"),
        terminated=raw.get("terminated", False),
    )


@_params(NOTIFICATIONS)
def test_notification_cases(case: dict[str, Any], params: Parameters) -> None:
    as_of: date = case["as_of"]
    findings = evaluate_notification(
        _facts(case["facts"]),
        as_of=as_of,
        evaluation=Evaluation(case["evaluation"]),
        params=params,
    )
    assert sorted(f.code for f in findings) == sorted(case["codes"])
    text = " ".join(f.message_en for f in findings)
    for fragment in case.get("message_en_contains", []):
        assert fragment in text
    text_nl = " ".join(f.message_nl for f in findings)
    for fragment in case.get("message_nl_contains", []):
        assert fragment in text_nl
    for fragment in case.get("message_en_excludes", []):
        assert fragment not in text
    for finding in findings:
        assert finding.message_nl
        assert finding.message_en
        assert finding.legal_basis
