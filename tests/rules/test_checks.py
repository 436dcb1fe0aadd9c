"""Every check positive and negative, sweep semantics, cross-notification checks, catalogue."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from meldplicht.rules.checks import (
    catalogue,
    check_many_employers,
    check_person_total_hours,
    check_repeatedly_late,
    evaluate_notification,
    next_change_date,
)
from meldplicht.rules.facts import (
    ContractType,
    Evaluation,
    Finding,
    NotificationFacts,
    NotificationRecord,
    Severity,
    WagePeriod,
    WorkerFacts,
)
from meldplicht.rules.params import Parameters

# On time (Mon 2 Mar 2026 -> Mon 9 Mar 2026), adult Ukrainian, 40 h at EUR 15.00: no findings.
CLEAN = NotificationFacts(
    notice_date=date(2026, 3, 2),
    start_date=date(2026, 3, 9),
    end_date=date(2026, 12, 31),
    contract_type=ContractType.FIXED_TERM,
    hours_per_week=Decimal(40),
    wage_amount=Decimal("15.00"),
    wage_period=WagePeriod.HOUR,
    wage_includes_holiday_allowance=False,
    worker=WorkerFacts(birth_date=date(1990, 1, 1), nationality="UKR"),
)


def make(**changes: Any) -> NotificationFacts:
    worker_changes = {k: changes.pop(k) for k in list(changes) if k in _WORKER_FIELDS}
    worker = dataclasses.replace(CLEAN.worker, **worker_changes)
    return dataclasses.replace(CLEAN, worker=worker, **changes)


_WORKER_FIELDS = {f.name for f in dataclasses.fields(WorkerFacts)}


def intake(facts: NotificationFacts, **kwargs: Any) -> list[Finding]:
    return evaluate_notification(
        facts, as_of=facts.notice_date, evaluation=Evaluation.INTAKE, **kwargs
    )


def sweep(facts: NotificationFacts, as_of: date, **kwargs: Any) -> list[Finding]:
    return evaluate_notification(facts, as_of=as_of, evaluation=Evaluation.SWEEP, **kwargs)


def codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings}


def only(findings: list[Finding], code: str) -> Finding:
    matching = [f for f in findings if f.code == code]
    assert len(matching) == 1, codes(findings)
    return matching[0]


def test_clean_notification_has_no_findings() -> None:
    assert intake(CLEAN) == []
    assert sweep(CLEAN, date(2026, 5, 1)) == []


# --- timeliness -----------------------------------------------------------------------------


def test_late_notice() -> None:
    # Fri 6 March + 2 working days = Tue 10 March > Mon 9 March.
    finding = only(intake(make(notice_date=date(2026, 3, 6))), "LATE_NOTICE")
    assert finding.severity is Severity.MEDIUM
    assert "6 March 2026" in finding.message_en
    assert "6 maart 2026" in finding.message_nl
    assert "by 5 March 2026 at the latest" in finding.message_en
    assert finding.evidence["timeliness"] == "late"
    assert finding.parameters[0].name == "notice_term_working_days"


def test_retroactive_notice() -> None:
    finding = only(intake(make(notice_date=date(2026, 3, 11))), "RETROACTIVE_NOTICE")
    assert finding.severity is Severity.HIGH
    assert "2 day(s) before" in finding.message_en


def test_borderline_notice_is_low_and_not_late() -> None:
    findings = intake(make(notice_date=date(2026, 3, 5), start_date=date(2026, 3, 9)))
    finding = only(findings, "BORDERLINE_NOTICE")
    assert finding.severity is Severity.LOW
    assert "LATE_NOTICE" not in codes(findings)


def test_transitional_window_gives_no_timeliness_finding() -> None:
    facts = make(
        notice_date=date(2022, 4, 13),
        start_date=date(2022, 3, 7),
        end_date=date(2022, 12, 31),
        wage_amount=Decimal("10.00"),
    )
    assert intake(facts) == []


def test_sweep_never_clears_timeliness() -> None:
    late = make(notice_date=date(2026, 3, 6))
    assert "LATE_NOTICE" in codes(sweep(late, date(2026, 6, 1)))
    closed = dataclasses.replace(late, terminated=True, end_date=date(2026, 4, 1))
    assert codes(sweep(closed, date(2026, 6, 1))) == {"LATE_NOTICE"}


# --- wages ----------------------------------------------------------------------------------


def test_below_minimum_wage_message_and_evidence() -> None:
    facts = make(
        notice_date=date(2025, 12, 29),
        start_date=date(2026, 1, 5),
        wage_amount=Decimal("12.00"),
        birth_date=date(2002, 6, 1),
    )
    finding = only(intake(facts), "BELOW_MINIMUM_WAGE")
    assert finding.severity is Severity.HIGH
    assert (
        "The declared wage of EUR 12.00 per hour is below the statutory minimum of EUR 14.71 "
        "per hour for a worker aged 23 on 5 January 2026" in finding.message_en
    )
    assert "€ 12,00" in finding.message_nl
    assert "5 januari 2026" in finding.message_nl
    assert finding.evidence["minimum_hourly"] == "14.71"
    assert finding.evidence["shortfall_per_hour"] == "2.71"
    assert "arithmetic" in finding.evidence
    assert finding.parameters[0].name == "wml_hourly"
    assert finding.parameters[0].effective_from == date(2026, 1, 1)
    assert finding.parameters[0].reference
    json.dumps(finding.evidence)


def test_wage_at_minimum_is_not_below() -> None:
    assert "BELOW_MINIMUM_WAGE" not in codes(intake(make(wage_amount=Decimal("14.71"))))


def test_tiny_shortfall_is_shown_with_more_decimals() -> None:
    facts = make(wage_amount=Decimal("14.705"))
    finding = only(intake(facts), "BELOW_MINIMUM_WAGE")
    assert "EUR 14.7050" in finding.message_en
    assert "EUR 14.7100" in finding.message_en


def test_wage_uncheckable() -> None:
    facts = make(wage_period=WagePeriod.MONTH, wage_amount=Decimal(2500), hours_per_week=Decimal(0))
    findings = intake(facts)
    assert only(findings, "WAGE_UNCHECKABLE").severity is Severity.MEDIUM
    assert "BELOW_MINIMUM_WAGE" not in codes(findings)
    hourly = make(wage_period=WagePeriod.HOUR, hours_per_week=Decimal(0))
    assert "WAGE_UNCHECKABLE" not in codes(intake(hourly))


def test_past_newest_table_lower_bound_in_sweep() -> None:
    # No amounts from 1 January 2027: the adult minimum is at least 14.99 (1 July 2026).
    below = make(wage_amount=Decimal("14.98"), end_date=None)
    findings = sweep(below, date(2027, 1, 15))
    finding = only(findings, "BELOW_MINIMUM_WAGE")
    assert "of at least EUR 14.99 per hour" in finding.message_en
    assert "van ten minste € 14,99 per uur" in finding.message_nl
    assert finding.evidence["lower_bound"] is True
    assert finding.period_key == "2027-01-01/age-21/at-least"
    assert finding.parameters[0].possibly_out_of_date
    assert "MINIMUM_WAGE_TABLE_OUT_OF_DATE" not in codes(findings)
    # Not below the bound, but below what a new table could plausibly hold: informational.
    between = make(wage_amount=Decimal("15.20"), end_date=None)
    info = only(sweep(between, date(2027, 1, 15)), "MINIMUM_WAGE_TABLE_OUT_OF_DATE")
    assert info.severity is Severity.INFO
    assert info.period_key == "2027-01-01"
    assert "cannot be confirmed until the table of 1 January 2027 is entered" in info.message_en
    assert "tabel van 1 januari 2027 is ingevoerd" in info.message_nl
    # Plainly above any plausible new amount: nothing to say.
    assert codes(sweep(make(wage_amount=Decimal(20), end_date=None), date(2027, 1, 15))) == set()
    # Within the held table (second half of 2026) there is no caveat at all.
    held = sweep(make(wage_amount=Decimal("14.98"), end_date=None), date(2026, 12, 31))
    assert "not yet held" not in only(held, "BELOW_MINIMUM_WAGE").message_en


def test_sweep_sees_indexation() -> None:
    # EUR 14.50 is enough on 1 July 2025 (14.40) but not from 1 January 2026 (14.71).
    facts = make(
        notice_date=date(2025, 6, 23),
        start_date=date(2025, 7, 1),
        wage_amount=Decimal("14.50"),
    )
    assert "BELOW_MINIMUM_WAGE" not in codes(intake(facts))
    later = only(sweep(facts, date(2026, 1, 2)), "BELOW_MINIMUM_WAGE")
    assert later.period_key == "2026-01-01/age-21"


def test_housing_deduction_cap_and_conditions() -> None:
    # 0.25 x 14.71 x 40 x 13 / 3 = 637.4333
    ok = {"housing_written_consent": True, "housing_certified": True}
    facts = make(housing_provided=True, housing_deduction_monthly=Decimal(600), **ok)
    assert codes(intake(facts)) == set()
    above = make(housing_provided=True, housing_deduction_monthly=Decimal(640), **ok)
    statutory = only(intake(above), "HOUSING_DEDUCTION_ABOVE_CAP")
    assert "the statutory cap of 25%" in statutory.message_en
    assert "arithmetic_nl" in statutory.evidence
    not_provided = make(housing_provided=False, housing_deduction_monthly=Decimal(640))
    assert (
        codes(intake(not_provided))
        & {
            "HOUSING_DEDUCTION_ABOVE_CAP",
            "HOUSING_DEDUCTION_CONDITIONS",
        }
        == set()
    )
    unstated = make(housing_provided=True, housing_deduction_monthly=Decimal(300))
    condition = only(intake(unstated), "HOUSING_DEDUCTION_CONDITIONS")
    assert condition.severity is Severity.MEDIUM
    assert "written authorisation is not stated" in condition.message_en
    assert "Besluit minimumloon en minimumvakantiebijslag art. 2a" in condition.legal_basis
    no_consent = make(
        housing_provided=True,
        housing_deduction_monthly=Decimal(300),
        housing_written_consent=False,
        housing_certified=True,
    )
    text = only(intake(no_consent), "HOUSING_DEDUCTION_CONDITIONS").message_en
    assert "the worker did not authorise it in writing" in text
    assert "certified" not in text.split(". A deduction")[0]
    no_deduction = make(housing_provided=True, housing_deduction_monthly=None)
    assert "HOUSING_DEDUCTION_CONDITIONS" not in codes(intake(no_deduction))


# --- working time ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "hours", "expected"),
    [
        (date(1990, 1, 1), "60", {"EXCESSIVE_HOURS"}),  # above the 4-week average of 55
        (date(1990, 1, 1), "55.5", {"EXCESSIVE_HOURS"}),
        (date(1990, 1, 1), "55", {"HOURS_ABOVE_48"}),
        (date(1990, 1, 1), "48", set()),
        (date(1990, 1, 1), "49", {"HOURS_ABOVE_48"}),
        (date(2009, 6, 1), "40", set()),  # 16 on 9 March 2026
        (date(2009, 6, 1), "41", {"EXCESSIVE_HOURS"}),  # above the 4-week average of 40
        (date(2009, 6, 1), "46", {"EXCESSIVE_HOURS"}),
        (date(2010, 6, 1), "12", set()),  # 15
        (date(2010, 6, 1), "13", {"CHILD_WORK_CONDITIONS"}),
        (date(2010, 6, 1), "40", {"CHILD_WORK_CONDITIONS"}),
        (date(2010, 6, 1), "40.5", {"EXCESSIVE_HOURS"}),
        (date(2012, 1, 1), "4", {"CHILD_WORK_CONDITIONS"}),  # 14
        (date(2012, 1, 1), "35", {"CHILD_WORK_CONDITIONS"}),
        (date(2012, 1, 1), "36", {"EXCESSIVE_HOURS"}),
        (date(2013, 3, 1), "4", {"CHILD_WORK_CONDITIONS"}),  # 13
        (date(2013, 3, 10), "4", {"UNDERAGE_WORK"}),  # 12 on 9 March 2026
    ],
)
def test_working_time_by_age(birth: date, hours: str, expected: set[str]) -> None:
    facts = make(birth_date=birth, hours_per_week=Decimal(hours), wage_amount=Decimal(20))
    found = codes(intake(facts)) & {
        "EXCESSIVE_HOURS",
        "HOURS_ABOVE_48",
        "UNDERAGE_WORK",
        "CHILD_WORK_CONDITIONS",
    }
    assert found == expected


def test_birthday_in_sweep_changes_working_time_band() -> None:
    # 17 at the start (limit 45); 18 on 1 May 2026 (limit 60, 48 medium).
    facts = make(birth_date=date(2008, 5, 1), hours_per_week=Decimal(50), wage_amount=Decimal(20))
    assert "EXCESSIVE_HOURS" in codes(intake(facts))
    assert codes(sweep(facts, date(2026, 5, 1))) == {"HOURS_ABOVE_48"}


# --- status ---------------------------------------------------------------------------------


def test_not_employment_contract() -> None:
    finding = only(
        intake(make(contract_type=ContractType.SELF_EMPLOYED)), "NOT_EMPLOYMENT_CONTRACT"
    )
    assert finding.severity is Severity.HIGH
    assert "NOT_EMPLOYMENT_CONTRACT" not in codes(intake(make(contract_type=ContractType.PAYROLL)))


def test_document_expired_at_intake_and_in_sweep() -> None:
    expired = make(document_type="sticker", document_valid_until=date(2026, 3, 4))
    finding = only(intake(expired), "DOCUMENT_EXPIRED")
    assert "before the start date" in finding.message_en
    valid = make(document_type="sticker", document_valid_until=date(2026, 4, 30))
    assert "DOCUMENT_EXPIRED" not in codes(intake(valid))
    during = only(sweep(valid, date(2026, 5, 4)), "DOCUMENT_EXPIRED")
    assert "while the employment runs" in during.message_en
    assert during.period_key == "2026-04-30"


def test_protection_status_check_for_non_ukrainians() -> None:
    assert "PROTECTION_STATUS_CHECK" in codes(intake(make(nationality="NGA")))
    early = make(
        nationality="NGA",
        notice_date=date(2023, 5, 1),
        start_date=date(2023, 5, 8),
        end_date=date(2024, 3, 4),
        wage_amount=Decimal(13),
    )
    assert "PROTECTION_STATUS_CHECK" not in codes(intake(early))
    open_ended = dataclasses.replace(early, end_date=None)
    assert "PROTECTION_STATUS_CHECK" in codes(intake(open_ended))
    assert "PROTECTION_STATUS_CHECK" not in codes(intake(make(nationality="ukr")))


def test_protection_ends_before_end_date() -> None:
    finding = only(intake(make(end_date=date(2027, 6, 1))), "PROTECTION_ENDS_BEFORE_END_DATE")
    assert finding.severity is Severity.INFO
    assert "4 March 2027" in finding.message_en
    assert "PROTECTION_ENDS_BEFORE_END_DATE" not in codes(intake(make(end_date=None)))
    assert "PROTECTION_ENDS_BEFORE_END_DATE" not in codes(intake(make(end_date=date(2027, 3, 4))))


def test_work_after_protection_end() -> None:
    facts = make(end_date=None)
    assert "WORK_AFTER_PROTECTION_END" not in codes(sweep(facts, date(2027, 3, 4)))
    finding = only(sweep(facts, date(2027, 3, 5)), "WORK_AFTER_PROTECTION_END")
    assert finding.severity is Severity.HIGH


def test_past_declared_end_only_in_sweep() -> None:
    facts = make(end_date=date(2026, 4, 30))
    assert "PAST_DECLARED_END" not in codes(sweep(facts, date(2026, 4, 30)))
    assert "PAST_DECLARED_END" in codes(sweep(facts, date(2026, 5, 1)))
    assert "PAST_DECLARED_END" not in codes(
        sweep(dataclasses.replace(facts, terminated=True), date(2026, 5, 1))
    )
    assert "PAST_DECLARED_END" not in codes(
        intake(
            dataclasses.replace(facts, notice_date=date(2026, 5, 4), start_date=date(2026, 3, 9))
        )
    )


def test_findings_are_ordered_by_severity() -> None:
    facts = make(notice_date=date(2026, 3, 6), wage_amount=Decimal(10), end_date=date(2027, 6, 1))
    severities = [f.severity for f in intake(facts)]
    order = [Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO]
    assert severities == sorted(severities, key=order.index)


# --- cross-notification ---------------------------------------------------------------------


def record(nid: str, employer: str, **changes: Any) -> NotificationRecord:
    return NotificationRecord(nid, employer, "person-1", make(**changes))


def test_person_total_hours() -> None:
    a = record("a", "e1", hours_per_week=Decimal(30))
    b = record("b", "e2", hours_per_week=Decimal(25), start_date=date(2026, 4, 1))
    assert check_person_total_hours([a, b], date(2026, 3, 20)) == [
        *check_person_total_hours([a, b], date(2026, 3, 20))
    ]
    (finding,) = check_person_total_hours([a, b], date(2026, 3, 20))
    assert finding.code == "PERSON_TOTAL_HOURS_ABOVE_48"
    assert finding.evidence["total_hours"] == "55"
    assert finding.evidence["judged_on"] == "2026-04-01"
    # The overlapping notifications "a" and "b" identify the period (hashed to fit 40 chars).
    assert finding.period_key == "n:" + hashlib.sha256(b"a+b").hexdigest()[:32]
    c = record("c", "e3", hours_per_week=Decimal(10))
    (high,) = check_person_total_hours([a, b, c], date(2026, 4, 2))
    assert high.code == "PERSON_TOTAL_HOURS_EXCESSIVE"
    ended = record("b", "e2", hours_per_week=Decimal(25), end_date=date(2026, 3, 1))
    assert check_person_total_hours([a, ended], date(2026, 3, 20)) == []
    assert check_person_total_hours([a], date(2026, 3, 20)) == []


def test_many_employers() -> None:
    records = [
        record("a", "e1", notice_date=date(2026, 1, 5)),
        record("b", "e2", notice_date=date(2026, 2, 5)),
        record("c", "e3", notice_date=date(2026, 3, 2)),
    ]
    (finding,) = check_many_employers(records, date(2026, 3, 31))
    assert finding.code == "MANY_EMPLOYERS"
    assert finding.severity is Severity.LOW
    assert finding.evidence["threshold"] == 3
    assert check_many_employers(records, date(2026, 5, 1)) == []  # a fell out of 90 days
    assert check_many_employers(records[:2], date(2026, 3, 31)) == []
    assert check_many_employers(records[:2], date(2026, 3, 31), threshold=2)


def test_repeatedly_late() -> None:
    late = [
        record(f"n{i}", "e1", notice_date=date(2026, 3, 9 + i), start_date=date(2026, 3, 9 + i))
        for i in range(3)
    ]
    (finding,) = check_repeatedly_late(late, date(2026, 4, 1))
    assert finding.code == "REPEATEDLY_LATE"
    assert check_repeatedly_late(late[:2], date(2026, 4, 1)) == []
    on_time = [record("x", "e1"), record("y", "e1"), record("z", "e1")]
    assert check_repeatedly_late(on_time, date(2026, 4, 1)) == []


# --- catalogue and next change ----------------------------------------------------------------


def test_catalogue(params: Parameters) -> None:
    rules = catalogue()
    found = [r.code for r in rules]
    assert len(found) == len(set(found))
    for code in [
        "LATE_NOTICE",
        "RETROACTIVE_NOTICE",
        "BORDERLINE_NOTICE",
        "BELOW_MINIMUM_WAGE",
        "WAGE_UNCHECKABLE",
        "EXCESSIVE_HOURS",
        "HOURS_ABOVE_48",
        "UNDERAGE_WORK",
        "DOCUMENT_EXPIRED",
        "PROTECTION_STATUS_CHECK",
        "PROTECTION_ENDS_BEFORE_END_DATE",
        "HOUSING_DEDUCTION_ABOVE_CAP",
        "HOUSING_DEDUCTION_CONDITIONS",
        "CHILD_WORK_CONDITIONS",
        "PAST_DECLARED_END",
        "MINIMUM_WAGE_TABLE_OUT_OF_DATE",
        "PERSON_TOTAL_HOURS_EXCESSIVE",
        "MANY_EMPLOYERS",
        "REPEATEDLY_LATE",
    ]:
        assert code in found
    for info in rules:
        assert info.title_nl
        assert info.title_en
        assert info.description_en
        assert info.version
        assert "http" in info.legal_basis or "policy" in info.legal_basis


def test_next_change_date() -> None:
    # Adult, document valid until 30 Apr 2026: next change is 1 May 2026 (expiry + 1).
    facts = make(document_valid_until=date(2026, 4, 30))
    assert next_change_date(facts, date(2026, 3, 10)) == date(2026, 5, 1)
    # Then the day the minimum-wage table becomes possibly out of date.
    assert next_change_date(make(), date(2026, 3, 10)) == date(2026, 7, 1)
    # A 19-year-old's birthday comes first.
    young = make(birth_date=date(2006, 4, 2))
    assert next_change_date(young, date(2026, 3, 10)) == date(2026, 4, 2)
    # Closed notifications never change.
    closed = make(terminated=True, end_date=date(2026, 3, 20))
    assert next_change_date(closed, date(2026, 4, 1)) is None


def test_no_finding_of_the_law_data_checks_names_an_internal_document() -> None:
    """Legal bases, descriptions, messages and evidence say the law in plain words."""
    internal = ("DECISIONS", "legal-research", "RULES.md", "configuration flag", "D§")
    own = {
        "BELOW_MINIMUM_WAGE",
        "WAGE_UNCHECKABLE",
        "MINIMUM_WAGE_TABLE_OUT_OF_DATE",
        "HOUSING_DEDUCTION_ABOVE_CAP",
        "HOUSING_DEDUCTION_CONDITIONS",
        "EXCESSIVE_HOURS",
        "HOURS_ABOVE_48",
        "CHILD_WORK_CONDITIONS",
        "UNDERAGE_WORK",
        "LATE_NOTICE",
        "RETROACTIVE_NOTICE",
        "BORDERLINE_NOTICE",
        "NOT_EMPLOYMENT_CONTRACT",
        "DOCUMENT_EXPIRED",
        "PROTECTION_STATUS_CHECK",
        "PROTECTION_ENDS_BEFORE_END_DATE",
        "WORK_AFTER_PROTECTION_END",
        "PAST_DECLARED_END",
    }
    for info in catalogue():
        if info.code in own:
            text = " ".join((info.legal_basis, info.description_en, info.title_en))
            assert not [word for word in internal if word in text], info.code
    samples = [
        make(wage_amount=Decimal("9.00"), hours_per_week=Decimal(62)),
        make(
            wage_amount=Decimal("1000"),
            wage_period=WagePeriod.MONTH,
            notice_date=date(2023, 8, 1),
            start_date=date(2023, 8, 1),
            end_date=date(2023, 12, 31),
        ),
        make(housing_provided=True, housing_deduction_monthly=Decimal(900)),
        make(birth_date=date(2011, 1, 1), hours_per_week=Decimal(20)),
        make(nationality="NGA", document_type="sticker", document_valid_until=date(2026, 1, 1)),
    ]
    for facts in samples:
        for finding in intake(facts) + sweep(facts, date(2027, 3, 1)):
            text = " ".join(
                (
                    finding.message_en,
                    finding.message_nl,
                    finding.legal_basis,
                    *tuple(str(v) for k, v in finding.evidence.items() if k != "inputs"),
                )
            )
            assert not [word for word in internal if word in text], finding.code
