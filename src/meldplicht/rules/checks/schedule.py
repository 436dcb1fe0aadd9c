"""The schedule of dates on which a verdict can change: one list, read by everyone.

A verdict is a pure function of the facts, the parameters and the day it is judged on; between
two days it can only move on a date this schedule names. `next_change_date` (when to judge a
notification again) reads the triggers of the per-notification checks; the sweep derives from
the same triggers the SQL that finds the people, employers and payroll verdicts that can have
moved between two days (`crossing_offsets`). A new date-sensitive rule is one edit here: add
its code to the trigger that moves it, or a new trigger (tests/rules/test_schedule.py requires
every rule of the catalogue to be named here).

Parameters change verdicts on their effective dates (`parameter_change_dates`); a sweep on
such a day judges everything, so that trigger names no rule.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from meldplicht.rules import wages
from meldplicht.rules.checks import payroll
from meldplicht.rules.facts import NotificationFacts
from meldplicht.rules.params import Parameters, get_parameters
from meldplicht.rules.protection import protection_end_known_on

# The per-notification checks that read the judged day (all but the notice's timeliness and
# the contract type, which are fixed when the notice is made).
_JUDGED_ON = frozenset(
    {
        "UNDERAGE_WORK",
        "CHILD_WORK_CONDITIONS",
        "EXCESSIVE_HOURS",
        "HOURS_ABOVE_48",
        "BELOW_MINIMUM_WAGE",
        "WAGE_UNCHECKABLE",
        "MINIMUM_WAGE_TABLE_OUT_OF_DATE",
        "HOUSING_DEDUCTION_ABOVE_CAP",
        "HOUSING_DEDUCTION_CONDITIONS",
        "DOCUMENT_EXPIRED",
        "PROTECTION_STATUS_CHECK",
        "PROTECTION_ENDS_BEFORE_END_DATE",
        "WORK_AFTER_PROTECTION_END",
        "PAST_DECLARED_END",
    }
)
_PERSON_HOURS = frozenset({"PERSON_TOTAL_HOURS_EXCESSIVE", "PERSON_TOTAL_HOURS_ABOVE_48"})
_PAYROLL = payroll.PAID_PERIOD_RULES | payroll.NOTIFICATION_RULES

# Rules whose verdict no date moves (only a change of the facts or of a parameter): the notice
# is timely or not when it is made, the contract is what it is, the wage is declared to be
# paid in cash or not.
UNCHANGING = frozenset(
    {
        "LATE_NOTICE",
        "RETROACTIVE_NOTICE",
        "BORDERLINE_NOTICE",
        "NOT_EMPLOYMENT_CONTRACT",
        "CASH_PAYMENT_DECLARED",
    }
)
# Rules judged afresh in every sweep, whatever the date (the register refresh runs in full).
EVERY_SWEEP = frozenset(
    {
        "EMPLOYER_NOT_IN_REGISTER",
        "EMPLOYER_INACTIVE",
        "NEW_EMPLOYER_MANY_NOTICES",
        "AGENCY_NOT_REGISTERED_AS_LENDER",
        # The admission phase looks every lending employer up in each sweep; its dates
        # (register online, fines) are read there from the Wtta parameter.
        "LENDER_NOT_ADMITTED",
    }
)

FIELDS = ("notice_date", "start_date", "end_date", "document_valid_until")


@dataclass(frozen=True, slots=True)
class Trigger:
    """Dates from which the verdict of `rules` can change.

    A field trigger: the notification's `field` + each of `offsets(params)` days (the sweep's
    SQL reads these). A computed trigger: `compute(facts, as_of, params)` gives the dates
    (birthdays, dates set by parameter values); only per-notification rules have these, and
    the sweep finds them through each notification's next check date.
    """

    name: str
    rules: frozenset[str]
    field: str | None = None
    offsets: Callable[[Parameters], frozenset[int]] = lambda _: frozenset({0})
    compute: Callable[[NotificationFacts, date, Parameters], set[date]] | None = None

    def dates(self, facts: NotificationFacts, as_of: date, params: Parameters) -> set[date]:
        if self.compute is not None:
            return self.compute(facts, as_of, params)
        assert self.field is not None
        holder = facts.worker if self.field == "document_valid_until" else facts
        day: date | None = getattr(holder, self.field)
        if day is None:
            return set()
        return {d for offset in self.offsets(params) if (d := shifted(day, offset)) is not None}


def shifted(day: date, days: int) -> date | None:
    """`day` + `days`, or None past the calendar's ends (no verdict moves there).

    Intake bounds every date far from the calendar's ends, but a row stored before the bounds
    (or written around intake) must still be judged: date arithmetic here never raises.
    """
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


def _windows(name: str) -> Callable[[Parameters], frozenset[int]]:
    """A notice leaves a policy window ending on the judged day `window_days` after it."""

    def offsets(params: Parameters) -> frozenset[int]:
        return frozenset(
            int(entry.value["window_days"]) for entry in params.entries(name) if entry.value
        )

    return offsets


def _birthday(facts: NotificationFacts, as_of: date, _params: Parameters) -> set[date]:
    birth = facts.worker.birth_date
    if wages.age_on(birth, max(as_of, facts.start_date)) < wages.ADULT_AGE:
        return {wages.next_birthday(birth, as_of)}
    return set()


def _protection_end(_facts: NotificationFacts, as_of: date, params: Parameters) -> set[date]:
    end: date = protection_end_known_on(as_of, params).value
    after = shifted(end, 1)
    return {after} if after is not None else set()


def _third_country_cutoff(facts: NotificationFacts, _as_of: date, params: Parameters) -> set[date]:
    if facts.worker.nationality.upper() == "UKR":
        return set()
    cutoff: date = params.entries("third_country_nationals_protection_end")[-1].value
    after = shifted(cutoff, 1)
    return {after} if after is not None else set()


def _one_day(_: Parameters) -> frozenset[int]:
    return frozenset({1})


TRIGGERS: tuple[Trigger, ...] = (
    Trigger(
        "birthday (age bands of the wage and working-time rules, until 21)",
        frozenset(
            {
                "UNDERAGE_WORK",
                "CHILD_WORK_CONDITIONS",
                "EXCESSIVE_HOURS",
                "HOURS_ABOVE_48",
                "BELOW_MINIMUM_WAGE",
                "MINIMUM_WAGE_TABLE_OUT_OF_DATE",
            }
        ),
        compute=_birthday,
    ),
    Trigger(
        "document expiry + 1", frozenset({"DOCUMENT_EXPIRED"}), "document_valid_until", _one_day
    ),
    Trigger(
        "declared end + 1 (the employment is over; a person's hours drop)",
        _JUDGED_ON | _PERSON_HOURS,
        "end_date",
        _one_day,
    ),
    Trigger("start (a person's hours add up)", _PERSON_HOURS, "start_date"),
    Trigger(
        "notice received (it counts from its notice date)",
        frozenset({"MANY_EMPLOYERS", "REPEATEDLY_LATE"}) | _PAYROLL,
        "notice_date",
    ),
    Trigger(
        "notice leaves the many-employers window",
        frozenset({"MANY_EMPLOYERS"}),
        "notice_date",
        _windows("policy_many_employers"),
    ),
    Trigger(
        "notice leaves the repeated-lateness window",
        frozenset({"REPEATEDLY_LATE"}),
        "notice_date",
        _windows("policy_repeatedly_late"),
    ),
    Trigger(
        "start + the weeks after which missing payroll counts",
        payroll.NOTIFICATION_RULES,
        "start_date",
        payroll.no_payroll_offsets,
    ),
    Trigger(
        "end of temporary protection as known + 1",
        frozenset({"WORK_AFTER_PROTECTION_END"}),
        compute=_protection_end,
    ),
    Trigger(
        "end of protection for third-country nationals + 1",
        frozenset({"PROTECTION_STATUS_CHECK"}),
        compute=_third_country_cutoff,
    ),
)


def scheduled_rules() -> frozenset[str]:
    """Every rule this schedule accounts for (a trigger names it, or no date moves it)."""
    return frozenset(code for t in TRIGGERS for code in t.rules) | UNCHANGING | EVERY_SWEEP


@functools.lru_cache(maxsize=16)
def parameter_change_dates(params: Parameters) -> frozenset[date]:
    """Every date on which some parameter may give a different answer (including the day a
    half-yearly table becomes possibly out of date)."""
    return frozenset(d for name in params.names() for d in params.change_dates(name))


def crossing_offsets(rules: frozenset[str], params: Parameters) -> list[tuple[str, int]]:
    """(field, offset in days) of every field trigger that can move one of `rules`: a sweep
    judges again whatever has `field + offset` in (last run's day, this run's day]."""
    pairs = {
        (t.field, offset)
        for t in TRIGGERS
        if t.field is not None and t.rules & rules
        for offset in t.offsets(params)
    }
    return sorted(pairs)


def crossing_dates(
    days: Mapping[str, date | None],
    rules: frozenset[str],
    params: Parameters,
    offsets: Sequence[tuple[str, int]] | None = None,
) -> list[date]:
    """Every date on which a field trigger of `rules` falls for one notification, from its
    `days` (each of FIELDS: notice_date, start_date, end_date, document_valid_until).
    `offsets`: `crossing_offsets(rules, params)` found once by a caller judging many."""
    out = []
    for name, offset in offsets if offsets is not None else crossing_offsets(rules, params):
        day = days[name]
        if day is not None and (moved := shifted(day, offset)) is not None:
            out.append(moved)
    return out


def next_crossing_date(
    days: Mapping[str, date | None],
    as_of: date,
    rules: frozenset[str],
    params: Parameters,
    offsets: Sequence[tuple[str, int]] | None = None,
) -> date | None:
    """The first date after `as_of` on which a field trigger of `rules` falls for this
    notification: the day a person's, an employer's or a payroll verdict can next move
    because of it (the sweep stores it as `next_cross_date` / `next_payroll_date`)."""
    dates = crossing_dates(days, rules, params, offsets)
    return min((d for d in dates if d > as_of), default=None)


def next_change_date(
    facts: NotificationFacts,
    as_of: date,
    params: Parameters | None = None,
    per_notification: frozenset[str] | None = None,
) -> date | None:
    """The next date after `as_of` on which this notification's verdict could change.

    The dates of every trigger of a per-notification rule, and every parameter change date.
    None for a withdrawn notification, or a terminated one whose end lies before `as_of`
    (only timeliness findings remain, and they never change)."""
    if facts.withdrawn or (
        facts.terminated and facts.end_date is not None and facts.end_date < as_of
    ):
        return None
    p = params if params is not None else get_parameters()
    own = per_notification if per_notification is not None else _per_notification_rules()
    best = _first_change_after(p, as_of)
    for trigger in _triggers_of(own):
        for day in trigger.dates(facts, as_of, p):
            if day > as_of and (best is None or day < best):
                best = day
    return best


@functools.lru_cache(maxsize=64)
def _first_change_after(params: Parameters, as_of: date) -> date | None:
    """The first parameter change date after `as_of` (the same for every notification)."""
    later = [d for d in parameter_change_dates(params) if d > as_of]
    return min(later) if later else None


_TRIGGERS_OF: dict[frozenset[str], tuple[tuple[Trigger, ...], tuple[Trigger, ...]]] = {}


def _triggers_of(rules: frozenset[str]) -> tuple[Trigger, ...]:
    """The triggers that can move one of `rules` (worked out once per set of rules, and again
    if TRIGGERS is replaced, as a test does)."""
    known = _TRIGGERS_OF.get(rules)
    if known is not None and known[0] is TRIGGERS:
        return known[1]
    chosen = tuple(t for t in TRIGGERS if t.rules & rules)
    _TRIGGERS_OF[rules] = (TRIGGERS, chosen)
    return chosen


@functools.cache
def _per_notification_rules() -> frozenset[str]:
    from meldplicht.rules.checks.base import REGISTRY

    return frozenset(info.code for info, check in REGISTRY if check is not None)
