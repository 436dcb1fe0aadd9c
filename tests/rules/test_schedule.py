"""The one schedule of dates on which a verdict can change (rules/checks/schedule.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from meldplicht.rules.checks import catalogue, next_change_date, schedule
from meldplicht.rules.facts import ContractType, NotificationFacts, WagePeriod, WorkerFacts
from meldplicht.rules.params import Parameters


def facts(**overrides: object) -> NotificationFacts:
    values: dict[str, object] = {
        "notice_date": date(2026, 3, 2),
        "start_date": date(2026, 3, 9),
        "end_date": None,
        "contract_type": ContractType.FIXED_TERM,
        "hours_per_week": Decimal(40),
        "wage_amount": Decimal("16.00"),
        "wage_period": WagePeriod.HOUR,
        "wage_includes_holiday_allowance": False,
        "worker": WorkerFacts(birth_date=date(1990, 1, 1), nationality="UKR"),
    }
    values.update(overrides)
    return NotificationFacts(**values)  # type: ignore[arg-type]


def test_every_rule_of_the_catalogue_is_in_the_schedule() -> None:
    """A new rule fails here until the schedule says which dates move it (or that none do):
    that one entry is then read by next_change_date and by the sweep's SQL alike."""
    missing = {info.code for info in catalogue()} - schedule.scheduled_rules()
    assert not missing, f"add these rules to rules/checks/schedule.py: {sorted(missing)}"
    unknown = schedule.scheduled_rules() - {info.code for info in catalogue()}
    assert not unknown


def test_a_new_trigger_is_one_edit_for_both_readers(
    monkeypatch: pytest.MonkeyPatch, params: Parameters
) -> None:
    extra = schedule.Trigger(
        "test: 100 days after the start",
        frozenset({"PAST_DECLARED_END", "PERSON_TOTAL_HOURS_EXCESSIVE"}),
        "start_date",
        lambda _: frozenset({100}),
    )
    f = facts(start_date=date(2026, 7, 6))
    before = next_change_date(f, date(2026, 7, 6), params)
    assert ("start_date", 100) not in schedule.crossing_offsets(
        frozenset({"PERSON_TOTAL_HOURS_EXCESSIVE"}), params
    )
    monkeypatch.setattr(schedule, "TRIGGERS", (*schedule.TRIGGERS, extra))
    # The per-notification reader (next check date) ...
    assert before is not None
    assert before > date(2026, 7, 6) + timedelta(days=100)
    assert next_change_date(f, date(2026, 7, 6), params) == date(2026, 10, 14)
    # ... and the sweep's SQL for people (the crossing it selects on) both see it.
    assert ("start_date", 100) in schedule.crossing_offsets(
        frozenset({"PERSON_TOTAL_HOURS_EXCESSIVE"}), params
    )


def test_the_sweep_crossings_come_from_the_schedule(params: Parameters) -> None:
    person = schedule.crossing_offsets(
        frozenset({"PERSON_TOTAL_HOURS_EXCESSIVE", "MANY_EMPLOYERS"}), params
    )
    window = int(params.at("policy_many_employers", date(2026, 1, 1)).value["window_days"])
    assert ("start_date", 0) in person
    assert ("end_date", 1) in person
    assert ("notice_date", 0) in person
    assert ("notice_date", window) in person
    payroll = schedule.crossing_offsets(frozenset({"NO_PAYROLL_AFTER_START"}), params)
    assert payroll == [("notice_date", 0), ("start_date", 42)]


def test_withdrawn_never_changes(params: Parameters) -> None:
    assert next_change_date(facts(withdrawn=True), date(2026, 3, 10), params) is None


def test_received_before_protection_began(params: Parameters) -> None:
    early = facts(notice_date=date(2022, 2, 25), start_date=date(2022, 3, 10))
    # The first decision's end (4 March 2023) + 1 is a candidate; no lookup fails.
    assert next_change_date(early, date(2022, 2, 25), params) is not None
