"""The pure register checks."""

from __future__ import annotations

from datetime import date

from meldplicht.rules.checks.register import EmployerActivity, RegisterFacts, check_register

AS_OF = date(2025, 6, 30)


def codes(facts: RegisterFacts | None, activity: EmployerActivity) -> list[str]:
    return sorted(f.code for f in check_register(facts, activity, as_of=AS_OF))


def facts(**overrides: object) -> RegisterFacts:
    values: dict[str, object] = {
        "kvk_number": "12345678",
        "found": True,
        "checked_on": AS_OF,
        "registered_on": date(2019, 4, 1),
        "active": True,
        "sbi_codes": ("01131",),
    }
    values.update(overrides)
    return RegisterFacts(**values)  # type: ignore[arg-type]


BUSY = EmployerActivity(
    is_staffing_agency=False, active_notifications=3, workers_notified_in_window=12
)
AGENCY = EmployerActivity(
    is_staffing_agency=True, active_notifications=3, workers_notified_in_window=1
)


def test_never_looked_up_has_no_verdict() -> None:
    assert codes(None, BUSY) == []


def test_not_in_register() -> None:
    assert codes(facts(found=False), BUSY) == ["EMPLOYER_NOT_IN_REGISTER"]


def test_inactive_only_with_active_notifications() -> None:
    assert codes(facts(active=False), BUSY) == ["EMPLOYER_INACTIVE"]
    idle = EmployerActivity(False, 0, 0)
    assert codes(facts(active=False), idle) == []


def test_new_employer_many_notices_thresholds() -> None:
    assert codes(facts(registered_on=date(2025, 3, 1)), BUSY) == ["NEW_EMPLOYER_MANY_NOTICES"]
    assert codes(facts(registered_on=date(2024, 12, 1)), BUSY) == []  # 211 days > 180
    assert codes(facts(registered_on=date(2025, 3, 1)), EmployerActivity(False, 3, 9)) == []


def test_agency_must_be_registered_as_lender() -> None:
    assert codes(facts(), AGENCY) == ["AGENCY_NOT_REGISTERED_AS_LENDER"]
    assert codes(facts(sbi_codes=("78202",)), AGENCY) == []
    assert codes(facts(sbi_codes=("7830",)), AGENCY) == []
    assert codes(facts(waadi_indicator=True), AGENCY) == []
    assert codes(facts(), BUSY) == []  # not an agency


def test_sbi_2025_lender_codes_count() -> None:
    # The KvK recoded to SBI 2025 on 7 September 2025 (5 digits; payrolling under 78.20).
    for code in ("78200", "78201", "78209", "78.20.1", "78300"):
        assert codes(facts(sbi_codes=(code,)), AGENCY) == [], code
    for code in ("78100", "7810", "77110"):
        assert codes(facts(sbi_codes=(code,)), AGENCY) == ["AGENCY_NOT_REGISTERED_AS_LENDER"]


def test_waadi_registration_duty_ends_with_the_wtta() -> None:
    def agency_codes(as_of: date) -> list[str]:
        found = check_register(facts(checked_on=as_of), AGENCY, as_of=as_of)
        return [f.code for f in found]

    assert agency_codes(date(2027, 12, 31)) == ["AGENCY_NOT_REGISTERED_AS_LENDER"]
    assert agency_codes(date(2028, 1, 1)) == []  # Waadi art. 7a lapsed: admission judges now
    assert agency_codes(date(2024, 1, 1)) == ["AGENCY_NOT_REGISTERED_AS_LENDER"]


def test_sector_weights_read_sbi_2008_and_2025_codes() -> None:
    from meldplicht.flags.risk import load_sector_table

    table = load_sector_table()
    temp = table.weight_for("78201")
    assert table.weight_for("78.20.1") == temp
    assert table.weight_for("78209") == temp  # SBI 2025 payrolling sits under 78.20
    assert table.weight_for("7830")[1] == "Payrolling"  # SBI 2008 payrolling
    assert table.weight_for(None)[1] is None
