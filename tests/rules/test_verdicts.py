"""Verdict first, explanation on demand: the cheap verdicts are the full evaluation's.

On generated notifications and days (intake and sweep), `evaluate_verdicts` answers exactly
the code, severity and period key of every finding `evaluate_notification` returns, in the
same order, and explaining each verdict gives back that very finding (messages, evidence,
parameter references). Every per-notification rule has its explanation beside it.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meldplicht.rules.checks import (
    evaluate_notification,
    evaluate_verdicts,
    explain,
    explain_all,
    judge,
)
from meldplicht.rules.checks.base import EXPLAINERS, REGISTRY, Verdict, json_safe
from meldplicht.rules.facts import (
    ContractType,
    Evaluation,
    NotificationFacts,
    Severity,
    WagePeriod,
    WorkerFacts,
)
from meldplicht.rules.params import get_parameters

PARAMS = get_parameters()
# The exemption starts on 4 March 2022; days run past the newest wage table held, so the
# "at least" minimum and the out-of-date table are reached too.
FIRST = date(2022, 3, 4)
LAST = date(2029, 12, 31)

days = st.dates(min_value=FIRST, max_value=LAST)
money = st.decimals(min_value=0, max_value=1500, places=2, allow_nan=False)
# A wage per hour around the minimum (youth to adult), stated per hour, week, four weeks or
# month at the declared hours: most verdicts on the wage lie in that narrow band.
per_hour = st.decimals(min_value=3, max_value=20, places=2, allow_nan=False)
FACTOR = {
    WagePeriod.HOUR: Decimal(1),
    WagePeriod.WEEK: Decimal(1),
    WagePeriod.FOUR_WEEKS: Decimal(4),
    WagePeriod.MONTH: Decimal(13) / 3,
}
hours = st.decimals(min_value=0, max_value=80, places=1, allow_nan=False)
optional_bool = st.none() | st.booleans()


@st.composite
def notifications(draw: st.DrawFn) -> NotificationFacts:
    start = draw(days)
    # Often within a few days of the start: late, retroactive and borderline notices.
    lead = st.integers(min_value=-20, max_value=60) | st.integers(min_value=-2, max_value=6)
    notice = start - timedelta(days=draw(lead))
    notice = max(notice, FIRST)
    end = draw(st.none() | st.integers(min_value=-5, max_value=2500))
    end_date = None if end is None else start + timedelta(days=end)
    age_days = draw(st.integers(min_value=10 * 365, max_value=70 * 365))
    housing = draw(st.booleans())
    period = draw(st.sampled_from(WagePeriod))
    weekly = draw(hours)
    amount = draw(per_hour) * FACTOR[period] * (1 if period is WagePeriod.HOUR else weekly)
    return NotificationFacts(
        notice_date=notice,
        start_date=start,
        end_date=end_date,
        contract_type=draw(st.sampled_from(ContractType)),
        hours_per_week=weekly,
        wage_amount=amount.quantize(Decimal("0.01")),
        wage_period=period,
        wage_includes_holiday_allowance=draw(st.booleans()),
        worker=WorkerFacts(
            birth_date=start - timedelta(days=age_days),
            nationality=draw(st.sampled_from(("UKR", "ukr", "RUS", "NGA"))),
            document_type=draw(st.sampled_from((None, "sticker", "o_document", "passport"))),
            document_valid_until=draw(st.none() | days),
        ),
        fulltime_hours_per_week=draw(
            st.none() | st.sampled_from((Decimal(36), Decimal(38), Decimal(40)))
        ),
        housing_provided=housing,
        housing_deduction_monthly=draw(st.none() | money) if housing else None,
        housing_written_consent=draw(optional_bool),
        housing_certified=draw(optional_bool),
        bbl_student=draw(optional_bool),
        terminated=end_date is not None and draw(st.booleans()),
        withdrawn=draw(st.integers(min_value=0, max_value=9)) == 0,
    )


@st.composite
def judgements(draw: st.DrawFn) -> tuple[NotificationFacts, Evaluation, date]:
    facts = draw(notifications())
    evaluation = draw(st.sampled_from(Evaluation))
    if evaluation is Evaluation.INTAKE:
        return facts, evaluation, facts.notice_date
    return facts, evaluation, facts.start_date + timedelta(days=draw(st.integers(-30, 2500)))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(judgements())
def test_verdicts_are_the_full_evaluation(case: tuple[NotificationFacts, Evaluation, date]) -> None:
    facts, evaluation, as_of = case
    findings = evaluate_notification(facts, as_of=as_of, evaluation=evaluation, params=PARAMS)
    verdicts = evaluate_verdicts(facts, as_of=as_of, evaluation=evaluation, params=PARAMS)
    assert [(v.code, v.severity, v.period_key) for v in verdicts] == [
        (f.code, f.severity, f.period_key) for f in findings
    ]
    # Explaining a verdict gives the finding itself, one at a time or together.
    for found, finding in zip(verdicts, findings, strict=True):
        assert explain(found, facts, as_of=as_of, evaluation=evaluation, params=PARAMS) == finding
    assert explain_all(verdicts, facts, as_of=as_of, evaluation=evaluation) == findings
    judged = judge(facts, as_of=as_of, evaluation=evaluation, params=PARAMS)
    assert judged.verdicts == verdicts
    assert judged.explain() == findings
    # Explaining a chosen few (the sweep explains only anomalies) gives just their findings.
    chosen = [v for v in verdicts if v.severity != Severity.INFO]
    assert judged.explain(chosen) == [f for f in findings if f.severity != Severity.INFO]
    # The explanation agrees with the numbers the verdict turned on, wherever it names them.
    for found, finding in zip(verdicts, findings, strict=True):
        for name, value in found.numbers:
            if name in finding.evidence and not isinstance(value, Fraction):
                assert finding.evidence[name] == json_safe(value), (found.code, name)
    # The deciding numbers are plain data: a verdict reached again is equal to the first.
    again = evaluate_verdicts(facts, as_of=as_of, evaluation=evaluation, params=PARAMS)
    assert again == verdicts
    assert len({v.key for v in verdicts}) == len(verdicts)


def test_every_rule_has_one_explanation() -> None:
    checked = {info.code for info, check in REGISTRY if check is not None}
    assert checked == set(EXPLAINERS)
    assert all(info.code == code for code, (info, _) in EXPLAINERS.items())


def _late_facts() -> NotificationFacts:
    return NotificationFacts(
        notice_date=date(2025, 3, 6),  # a Thursday: Friday and Monday are too few
        start_date=date(2025, 3, 7),
        end_date=None,
        contract_type=ContractType.FIXED_TERM,
        hours_per_week=Decimal(61),
        wage_amount=Decimal("10.00"),
        wage_period=WagePeriod.HOUR,
        wage_includes_holiday_allowance=False,
        worker=WorkerFacts(birth_date=date(1990, 1, 1), nationality="UKR"),
    )


def test_a_verdict_carries_its_deciding_numbers() -> None:
    facts = _late_facts()
    verdicts = evaluate_verdicts(facts, as_of=facts.notice_date, evaluation=Evaluation.INTAKE)
    by_code = {v.code: v for v in verdicts}
    assert set(by_code) == {"LATE_NOTICE", "EXCESSIVE_HOURS", "BELOW_MINIMUM_WAGE"}
    hours = by_code["EXCESSIVE_HOURS"]
    assert hours.number("hours_per_week") == Decimal(61)
    assert hours.number("limit") == Decimal(60)
    assert hours.key == ("EXCESSIVE_HOURS", "limit-60")
    wage = by_code["BELOW_MINIMUM_WAGE"]
    assert wage.number("declared_hourly") == Decimal(10)
    assert wage.number("minimum_hourly") > Decimal(10)
    # The verdict holds no words: those come from the explanation alone.
    assert not any(isinstance(value, str) and " " in value for _, value in wage.numbers)
    finding = explain(wage, facts, as_of=facts.notice_date, evaluation=Evaluation.INTAKE)
    assert "below the statutory minimum" in finding.message_en
    assert finding.evidence["declared_hourly"] == "10.00"


def test_a_withdrawn_notification_has_no_verdicts() -> None:
    facts = dataclasses.replace(_late_facts(), withdrawn=True)
    assert evaluate_verdicts(facts, as_of=facts.notice_date, evaluation=Evaluation.SWEEP) == []


def test_an_unknown_number_is_an_error() -> None:
    found = Verdict(code="LATE_NOTICE", severity=Severity.MEDIUM, numbers=(("days", 1),))
    assert found.number("days") == 1
    with pytest.raises(KeyError):
        found.number("nothing")
