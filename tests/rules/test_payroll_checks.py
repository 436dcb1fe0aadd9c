"""The pure payroll checks, on worked examples whose figures come from the WML tables."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from meldplicht.rules import wages
from meldplicht.rules.checks.payroll import (
    NoticeSummary,
    PaidPeriod,
    check_no_payroll_after_start,
    check_paid_period,
    covering_notices,
    latest_start_due,
    no_payroll_deadline,
    no_payroll_offsets,
    payroll_deadline,
)
from meldplicht.rules.facts import WagePeriod
from meldplicht.rules.params import Parameters

AS_OF = date(2025, 6, 30)


def paid(**overrides: object) -> PaidPeriod:
    values: dict[str, object] = {
        "record_id": "r1",
        "employer_lhn": "123456782L01",
        "period_start": date(2025, 3, 1),
        "period_end": date(2025, 3, 31),
        "hours_paid": Decimal(160),
        "gross_wage": Decimal("2640.00"),
        "birth_date": date(1995, 3, 14),
        "birth_date_source": "payroll",
        "nationality": "UKR",
    }
    values.update(overrides)
    return PaidPeriod(**values)  # type: ignore[arg-type]


def notice(**overrides: object) -> NoticeSummary:
    values: dict[str, object] = {
        "notification_id": "n1",
        "receipt_number": "MP25-AAAA-BBBB",
        "notice_date": date(2025, 1, 20),
        "start_date": date(2025, 2, 3),
        "end_date": None,
        "terminated": False,
        "hours_per_week": Decimal(38),
        "wage_amount": Decimal("16.50"),
        "wage_period": WagePeriod.HOUR,
        "wage_includes_holiday_allowance": False,
    }
    values.update(overrides)
    return NoticeSummary(**values)  # type: ignore[arg-type]


def codes(findings: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(f.code for f in findings)


def check(p: PaidPeriod, notices: list[NoticeSummary], params: Parameters) -> list[str]:
    return codes(
        check_paid_period(p, notices, as_of=AS_OF, employer_registered=True, params=params)
    )


def test_covered_and_fairly_paid_is_clean(params: Parameters) -> None:
    assert check(paid(), [notice()], params) == []


def test_missing_notice(params: Parameters) -> None:
    assert check(paid(), [], params) == ["MISSING_NOTICE"]


def test_notice_received_after_the_period_does_not_cover_it(params: Parameters) -> None:
    late = notice(notice_date=date(2025, 4, 10), start_date=date(2025, 3, 1))
    findings = check_paid_period(
        paid(), [late], as_of=AS_OF, employer_registered=True, params=params
    )
    assert codes(findings) == ["MISSING_NOTICE"]
    assert "MP25-AAAA-BBBB" in findings[0].message_en


def test_notice_received_after_as_of_is_ignored(params: Parameters) -> None:
    future = notice(notice_date=date(2025, 7, 10))
    assert check(paid(), [future], params) == ["MISSING_NOTICE"]


def test_unknown_employer_says_so(params: Parameters) -> None:
    findings = check_paid_period(paid(), [], as_of=AS_OF, employer_registered=False, params=params)
    assert "no employer with loonheffingennummer 123456782L01" in findings[0].message_en


def test_free_movement_nationals_need_no_notice(params: Parameters) -> None:
    assert check(paid(nationality="POL"), [], params) == []
    assert check(paid(nationality="UKR"), [], params) == ["MISSING_NOTICE"]


def test_zero_hours_final_settlement_is_not_work(params: Parameters) -> None:
    assert check(paid(hours_paid=Decimal(0), gross_wage=Decimal(800)), [], params) == []


def test_paid_after_termination(params: Parameters) -> None:
    ended = notice(end_date=date(2025, 2, 28), terminated=True)
    assert check(paid(), [ended], params) == ["PAID_AFTER_TERMINATION"]
    # The month holding the end date is covered.
    assert (
        check(paid(period_start=date(2025, 2, 1), period_end=date(2025, 2, 28)), [ended], params)
        == []
    )


def test_below_minimum_worked_example(params: Parameters) -> None:
    # 2025-03: age 29 -> EUR 14.06 an hour; 160 h due EUR 2249.60; paid EUR 1920.00.
    findings = check_paid_period(
        paid(gross_wage=Decimal("1920.00")),
        [notice()],
        as_of=AS_OF,
        employer_registered=True,
        params=params,
    )
    assert codes(findings) == ["PAID_BELOW_MINIMUM_WAGE"]
    f = findings[0]
    assert f.evidence["minimum_due_for_period"] == "2249.60"
    assert f.evidence["declared_per_hour"] == "16.50"
    assert "EUR 12.00 per hour, below the statutory minimum of EUR 14.06" in f.message_en
    assert "€ 329,60 meer dan betaald" in f.message_nl


def test_exactly_the_minimum_rounded_to_cents_is_fine(params: Parameters) -> None:
    assert (
        check(
            paid(hours_paid=Decimal("0.33"), gross_wage=Decimal("4.64")),
            [notice(wage_amount=Decimal("14.06"))],
            params,
        )
        == []
    )  # 4.6398


def test_youth_minimum_uses_age_at_period_start(params: Parameters) -> None:
    # Age 18 on 1 March 2025: 50% of adult = EUR 7.03; EUR 7.50 an hour is lawful.
    young = paid(birth_date=date(2006, 6, 1), gross_wage=Decimal("1200.00"))
    assert check(young, [notice(wage_amount=Decimal("7.50"))], params) == []


def test_holiday_allowance_included_is_taken_out(params: Parameters) -> None:
    # 2300 / 1.08 = 2129.63 < 2249.60 due.
    included = paid(gross_wage=Decimal("2300.00"), includes_holiday_allowance=True)
    assert check(included, [notice(wage_amount=Decimal("14.20"))], params) == [
        "PAID_BELOW_MINIMUM_WAGE"
    ]
    assert (
        check(paid(gross_wage=Decimal("2300.00")), [notice(wage_amount=Decimal("14.20"))], params)
        == []
    )


def test_age_unknown(params: Parameters) -> None:
    unknown = paid(birth_date=None, birth_date_source=None, gross_wage=Decimal("1920.00"))
    assert check(unknown, [notice()], params) == ["PAID_WAGE_AGE_UNKNOWN"]
    # Below even the lowest (age 15: 30% = EUR 4.22) minimum: below for any age.
    pittance = paid(birth_date=None, gross_wage=Decimal("480.00"))
    findings = check_paid_period(
        pittance, [notice()], as_of=AS_OF, employer_registered=True, params=params
    )
    assert codes(findings) == ["PAID_BELOW_MINIMUM_WAGE"]
    assert "for any age" in findings[0].message_en


def test_below_declared_wage_beyond_tolerance(params: Parameters) -> None:
    # Declared 16.50; 5% tolerance -> floor 15.675. 15.00 an hour is 9.1% below.
    findings = check_paid_period(
        paid(gross_wage=Decimal("2400.00")),
        [notice()],
        as_of=AS_OF,
        employer_registered=True,
        params=params,
    )
    assert codes(findings) == ["PAID_BELOW_DECLARED_WAGE"]
    assert "9.1% below the EUR 16.50 per hour declared" in findings[0].message_en
    assert check(paid(gross_wage=Decimal("2520.00")), [notice()], params) == []  # 15.75: 4.5%


def test_hours_above_limit(params: Parameters) -> None:
    # 280 h in 31 days = 63.2 h a week > 60.
    assert check(
        paid(hours_paid=Decimal(280), gross_wage=Decimal("4620.00")), [notice()], params
    ) == ["HOURS_PAID_ABOVE_LIMIT"]
    # 18+: 250 h in 31 days = 56.5 a week on average, above the 4-week average of 55
    # (Arbeidstijdenwet art. 5:7(3)) though below the 60 of any single week.
    adult = check_paid_period(
        paid(hours_paid=Decimal(250), gross_wage=Decimal("4125.00")),
        [notice()],
        as_of=AS_OF,
        employer_registered=True,
        params=params,
    )
    assert codes(adult) == ["HOURS_PAID_ABOVE_LIMIT"]
    assert "above the limit of 55 hours on average over 4 weeks" in adult[0].message_en
    assert adult[0].evidence["limit"] == "55"
    # 16-17: 180 h in 31 days = 40.6, above the 4-week average of 40 (art. 5:7(1)(c)).
    minor = paid(birth_date=date(2008, 1, 1), hours_paid=Decimal(180), gross_wage=Decimal(2970))
    young = check_paid_period(
        minor, [notice()], as_of=AS_OF, employer_registered=True, params=params
    )
    assert codes(young) == ["HOURS_PAID_ABOVE_LIMIT"]
    assert "the limit of 40 hours on average over 4 weeks" in young[0].message_en
    # 200 h = 45.2 a week: above the 45 of any week, which the finding names.
    more = paid(birth_date=date(2008, 1, 1), hours_paid=Decimal(200), gross_wage=Decimal(3300))
    week = check_paid_period(more, [notice()], as_of=AS_OF, employer_registered=True, params=params)
    assert "the limit of 45 hours in any week" in week[0].message_en
    # A short period is not scaled up: 50 h in 3 days is within a week's 60, and one week of
    # 58 hours says nothing of the 4-week average (58 / 4 = 14.5 at least).
    short = paid(period_end=date(2025, 3, 3), hours_paid=Decimal(50), gross_wage=Decimal(825))
    assert check(short, [notice()], params) == []
    one_week = paid(period_end=date(2025, 3, 7), hours_paid=Decimal(58), gross_wage=Decimal(957))
    assert check(one_week, [notice()], params) == []
    # Age 15: a holiday week holds at most 40 (Nadere regeling kinderarbeid art. 5:2).
    child = paid(
        birth_date=date(2009, 6, 1),
        period_end=date(2025, 3, 7),
        hours_paid=Decimal(41),
        gross_wage=Decimal("676.50"),
    )
    assert check(child, [notice()], params) == ["HOURS_PAID_ABOVE_LIMIT"]


def test_no_payroll_after_start(params: Parameters) -> None:
    n = notice()
    span = (date(2025, 1, 1), date(2025, 5, 31))
    findings = check_no_payroll_after_start(n, [], span, as_of=AS_OF, params=params)
    assert codes(findings) == ["NO_PAYROLL_AFTER_START"]
    assert findings[0].evidence["deadline"] == "2025-03-17"
    paid_in_march = [(date(2025, 3, 1), date(2025, 3, 31))]
    assert check_no_payroll_after_start(n, paid_in_march, span, as_of=AS_OF, params=params) == []
    # Not judged before the deadline, nor when the employer's payroll does not reach it.
    assert check_no_payroll_after_start(n, [], span, as_of=date(2025, 3, 16), params=params) == []
    assert (
        check_no_payroll_after_start(
            n, [], (date(2025, 1, 1), date(2025, 3, 1)), as_of=AS_OF, params=params
        )
        == []
    )
    assert check_no_payroll_after_start(n, [], None, as_of=AS_OF, params=params) == []


# --- one definition each: covering, withdrawn, the deadline, the exact comparison ------------


def test_a_withdrawn_notification_covers_nothing(params: Parameters) -> None:
    assert check(paid(), [notice(withdrawn=True)], params) == ["MISSING_NOTICE"]
    assert check(paid(), [notice()], params) == []


def test_covering_is_one_definition_received_by_the_period_end() -> None:
    during = notice(notice_date=date(2025, 3, 20), start_date=date(2025, 3, 1))
    after = notice(notification_id="n2", notice_date=date(2025, 4, 2), start_date=date(2025, 3, 1))
    start, end = date(2025, 3, 1), date(2025, 3, 31)
    assert covering_notices(start, end, [after, during], AS_OF) == [during]
    # Replayed before the notice was received: it is not known yet.
    assert covering_notices(start, end, [during], date(2025, 3, 19)) == []
    assert not after.covers(start, end)


def test_no_payroll_deadline_one_definition(params: Parameters) -> None:
    start = date(2025, 2, 3)
    assert no_payroll_deadline(start, params).day == date(2025, 3, 17)
    assert payroll_deadline(notice(start_date=start), params) == date(2025, 3, 17)
    # The SQL pre-selection bound is the latest start whose deadline has come.
    as_of = date(2025, 6, 30)
    latest = latest_start_due(as_of, params)
    assert no_payroll_deadline(latest, params).day <= as_of
    assert no_payroll_deadline(latest + timedelta(days=1), params).day > as_of
    assert 7 * 6 in no_payroll_offsets(params)


def test_pay_is_compared_exactly_not_rounded_to_the_cent(params: Parameters) -> None:
    # 10.375 hours x EUR 14.06 (21+, 1 January 2025) = EUR 145.8725 due, exactly.
    # Rounded to the cent (145.87) a pay of 145.87 passed; it is 0.25 cent short.
    short = paid(hours_paid=Decimal("10.375"), gross_wage=Decimal("145.87"))
    enough = paid(hours_paid=Decimal("10.375"), gross_wage=Decimal("145.88"))
    assert check(short, [notice(wage_amount=Decimal("14.06"))], params) == [
        "PAID_BELOW_MINIMUM_WAGE"
    ]
    assert check(enough, [notice(wage_amount=Decimal("14.06"))], params) == []


def test_statutory_monthly_amount_for_a_calendar_month_passes(params: Parameters) -> None:
    # July 2023, 21+: EUR 1,995.00 a month, 460.40 a week (Staatscourant 2023, 15436). A full
    # month at 40 hours a week is 173.33 hours: per hour the weekly amount would ask
    # 11.51 x 173.33 = 1,995.03, but the law sets the month's amount: 1,995.00 passes.
    month = paid(
        period_start=date(2023, 7, 1),
        period_end=date(2023, 7, 31),
        hours_paid=Decimal("173.33"),
        gross_wage=Decimal("1995.00"),
        birth_date=date(1990, 1, 1),
    )
    n = notice(
        notice_date=date(2023, 6, 1),
        start_date=date(2023, 7, 1),
        wage_amount=Decimal("1995.00"),
        wage_period=WagePeriod.MONTH,
        hours_per_week=Decimal(40),
        fulltime_hours_per_week=Decimal(40),
    )
    assert check(month, [n], params) == []
    one_cent_less = replace(month, gross_wage=Decimal("1994.95"))
    assert check(one_cent_less, [n], params) == ["PAID_BELOW_MINIMUM_WAGE"]


def test_holiday_allowance_is_the_one_conversion(params: Parameters) -> None:
    # EUR 2300.00 including holiday allowance = 2300 / 1.08 without it, as intake converts it.
    p = paid(gross_wage=Decimal("2300.00"), includes_holiday_allowance=True)
    pay, hourly = wages.paid_hourly_exact(Decimal("2300.00"), Decimal(160), True, Decimal("0.08"))
    assert pay == Fraction(2300) / Fraction("1.08")
    assert hourly * 160 == pay
    assert hourly == wages.hourly_wage_exact(
        Decimal("2300.00") / 160, WagePeriod.HOUR, None, True, Decimal("0.08")
    )
    found = check_paid_period(p, [notice()], as_of=AS_OF, employer_registered=True, params=params)
    assert [f.code for f in found] == ["PAID_BELOW_MINIMUM_WAGE"]


# --- MISSING_NOTICE only where temporary protection is the likely basis ----------------------


def test_missing_notice_only_where_protection_is_the_likely_basis(params: Parameters) -> None:
    # Ukrainian nationality, or a protection document, or an earlier notice at the employer.
    assert check(paid(nationality="UKR"), [], params) == ["MISSING_NOTICE"]
    assert check(paid(nationality=None, document_type="O-document"), [], params) == [
        "MISSING_NOTICE"
    ]
    assert check(paid(nationality="SYR", document_type="V-nummer"), [], params) == [
        "MISSING_NOTICE"
    ]
    ended = notice(end_date=date(2025, 2, 28), terminated=True)
    assert check(paid(nationality=None), [ended], params) == ["PAID_AFTER_TERMINATION"]
    late = notice(notice_date=date(2025, 4, 10), start_date=date(2025, 3, 1))
    assert check(paid(nationality="IND"), [late], params) == ["MISSING_NOTICE"]


def test_another_authorisation_needs_no_notice(params: Parameters) -> None:
    for document in ("TWV", "gvva", "residence permit", "verblijfsvergunning"):
        assert check(paid(nationality="IND", document_type=document), [], params) == []
    assert check(paid(nationality="DEU"), [], params) == []  # free movement


def test_nothing_pointing_to_protection_is_unverified_at_low_severity(
    params: Parameters,
) -> None:
    for p in (
        paid(nationality=None),
        paid(nationality="IND"),
        paid(nationality="IND", document_type="passport"),
    ):
        findings = check_paid_period(p, [], as_of=AS_OF, employer_registered=True, params=params)
        assert [f.code for f in findings] == ["WORK_AUTHORISATION_UNVERIFIED"]
        assert findings[0].severity == "low"
        assert findings[0].evidence["likely_basis"] == "unknown"
        assert "Wet arbeid vreemdelingen art. 2 and 3" in findings[0].message_en
        assert "Wet arbeid vreemdelingen" in findings[0].message_nl


def test_cash_payment_is_a_finding(params: Parameters) -> None:
    found = check_paid_period(
        paid(paid_in_cash=True), [notice()], as_of=AS_OF, employer_registered=True, params=params
    )
    assert [f.code for f in found] == ["PAID_IN_CASH"]
    assert "art. 7a" in found[0].message_en
    assert "bankrekening op naam van de werknemer" in found[0].message_nl
    assert check(paid(paid_in_cash=False), [notice()], params) == []
    assert check(paid(paid_in_cash=None), [notice()], params) == []
