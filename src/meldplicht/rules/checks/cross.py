"""Cross-notification sweep checks: a person's total hours, many employers, repeated lateness."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from meldplicht.rules import calendar, wages
from meldplicht.rules.checks.base import (
    SWEEP,
    RuleInfo,
    date_en,
    date_nl,
    hours_text,
    make_finding,
    register_info,
)
from meldplicht.rules.checks.work import WORKING_HOURS_BASIS, hour_limits
from meldplicht.rules.facts import Finding, NotificationRecord, Severity
from meldplicht.rules.params import Parameters, get_parameters

TOTAL_EXCESSIVE = register_info(
    RuleInfo(
        code="PERSON_TOTAL_HOURS_EXCESSIVE",
        severity=Severity.HIGH,
        version="1.0.0",
        legal_basis=WORKING_HOURS_BASIS,
        title_nl="Samen te veel uren bij meerdere werkgevers",
        title_en="Too many hours in total across notifications",
        description_en=(
            "The hours of a person's overlapping active notifications add up to more than the "
            "limit for their age (60 / 45 / 12)."
        ),
        applies_at=(SWEEP,),
    )
)
TOTAL_ABOVE_48 = register_info(
    RuleInfo(
        code="PERSON_TOTAL_HOURS_ABOVE_48",
        severity=Severity.MEDIUM,
        version="1.0.0",
        legal_basis=WORKING_HOURS_BASIS,
        title_nl="Samen meer dan 48 uur per week",
        title_en="More than 48 hours a week in total",
        description_en=(
            "The hours of a person's overlapping active notifications add up to more than 48 "
            "a week (within the age limit)."
        ),
        applies_at=(SWEEP,),
    )
)
POLICY_BASIS = (
    "meldplicht product policy, not law: a risk signal for inspection; thresholds in parameter"
)
MANY_EMPLOYERS = register_info(
    RuleInfo(
        code="MANY_EMPLOYERS",
        severity=Severity.LOW,
        version="1.0.0",
        legal_basis=POLICY_BASIS + " policy_many_employers",
        title_nl="Veel werkgevers in korte tijd",
        title_en="Many employers in a short time",
        description_en=(
            "A person was notified by at least the threshold number of distinct employers "
            "within the window (product policy)."
        ),
        applies_at=(SWEEP,),
    )
)
REPEATEDLY_LATE = register_info(
    RuleInfo(
        code="REPEATEDLY_LATE",
        severity=Severity.MEDIUM,
        version="1.0.0",
        legal_basis=POLICY_BASIS + " policy_repeatedly_late",
        title_nl="Werkgever meldt herhaaldelijk te laat",
        title_en="Employer repeatedly notifies late",
        description_en=(
            "An employer made at least the threshold number of late or retroactive "
            "notifications within the window (product policy)."
        ),
        applies_at=(SWEEP,),
    )
)


def _active_on(record: NotificationRecord, day: date) -> bool:
    f = record.facts
    return f.start_date <= day and (f.end_date is None or f.end_date >= day)


def check_person_total_hours(
    notifications_of_one_person: Sequence[NotificationRecord],
    as_of: date,
    params: Parameters | None = None,
) -> list[Finding]:
    """Sum the hours of a person's notifications active together on or after `as_of`.

    The sum can only rise on a start date, so it is evaluated on `as_of` and on every later
    start date; the highest total with at least two notifications is judged.
    """
    p = params if params is not None else get_parameters()
    records = [r for r in notifications_of_one_person if not r.facts.withdrawn]
    if len(records) < 2:
        return []
    days = sorted({as_of} | {r.facts.start_date for r in records if r.facts.start_date > as_of})
    best: tuple[Decimal, date, list[NotificationRecord]] | None = None
    for day in days:
        active = [r for r in records if _active_on(r, day)]
        if len(active) < 2:
            continue
        total = sum((r.facts.hours_per_week for r in active), Decimal(0))
        if best is None or total > best[0]:
            best = (total, day, active)
    if best is None:
        return []
    total, day, active = best
    age = wages.age_on(active[0].facts.worker.birth_date, day)
    limits = hour_limits(age, day, p)
    ids = sorted(r.notification_id for r in active)
    parts = " + ".join(hours_text(r.facts.hours_per_week) for r in active)
    evidence = {
        "person_key": active[0].person_key,
        "as_of": as_of,
        "judged_on": day,
        "notification_ids": ids,
        "hours": {r.notification_id: r.facts.hours_per_week for r in active},
        "total_hours": total,
        "age": age,
        "arithmetic": f"{parts} = {hours_text(total)} hours a week",
    }
    declared = limits.declared_high
    if declared is None:
        return []  # under 13: UNDERAGE_WORK on each notification already says more
    if total > declared.hours:
        info, limit = TOTAL_EXCESSIVE, declared.hours
    elif limits.medium is not None and total > limits.medium:
        info, limit = TOTAL_ABOVE_48, limits.medium
    else:
        return []
    evidence["limit"] = limit
    return [
        make_finding(
            info,
            None,
            message_en=(
                f"On {date_en(day)} the worker (age {age}) has {len(active)} active "
                f"notifications totalling {hours_text(total)} hours a week ({parts}), above "
                f"the limit of {hours_text(limit)}."
            ),
            message_nl=(
                f"Op {date_nl(day)} heeft de werknemer ({age} jaar) {len(active)} lopende "
                f"meldingen met samen {hours_text(total)} uur per week ({parts}), meer dan "
                f"het maximum van {hours_text(limit)}."
            ),
            evidence=evidence,
            parameters=(limits.use,),
            # The overlapping notifications identify the period; hashed to fit the column.
            period_key="n:" + hashlib.sha256("+".join(ids).encode()).hexdigest()[:32],
        )
    ]


def check_many_employers(
    person_notifications: Sequence[NotificationRecord],
    as_of: date,
    window_days: int | None = None,
    threshold: int | None = None,
    params: Parameters | None = None,
) -> list[Finding]:
    """Flag a person notified by many distinct employers within the window ending on as_of."""
    p = params if params is not None else get_parameters()
    policy = p.at("policy_many_employers", as_of)
    window = window_days if window_days is not None else int(policy.value["window_days"])
    limit = threshold if threshold is not None else int(policy.value["threshold"])
    since = as_of - timedelta(days=window - 1)
    recent = [
        r
        for r in person_notifications
        if not r.facts.withdrawn and since <= r.facts.notice_date <= as_of
    ]
    employers = sorted({r.employer_key for r in recent})
    if len(employers) < limit:
        return []
    first = min(r.facts.notice_date for r in recent)
    return [
        make_finding(
            MANY_EMPLOYERS,
            None,
            message_en=(
                f"The worker was notified by {len(employers)} different employers between "
                f"{date_en(since)} and {date_en(as_of)} (threshold {limit} in {window} days)."
            ),
            message_nl=(
                f"De werknemer is door {len(employers)} verschillende werkgevers gemeld "
                f"tussen {date_nl(since)} en {date_nl(as_of)} (drempel {limit} in {window} "
                f"dagen)."
            ),
            evidence={
                "person_key": recent[0].person_key,
                "as_of": as_of,
                "window_days": window,
                "threshold": limit,
                "employer_keys": employers,
                "notification_ids": sorted(r.notification_id for r in recent),
                "arithmetic": f"{len(employers)} distinct employers >= {limit}",
            },
            parameters=(policy.as_use(),),
            period_key=f"from-{first.isoformat()}",
        )
    ]


def check_repeatedly_late(
    employer_notifications: Sequence[NotificationRecord],
    as_of: date,
    window_days: int | None = None,
    threshold: int | None = None,
    params: Parameters | None = None,
) -> list[Finding]:
    """Flag an employer with many late or retroactive notices within the window ending on as_of."""
    p = params if params is not None else get_parameters()
    policy = p.at("policy_repeatedly_late", as_of)
    window = window_days if window_days is not None else int(policy.value["window_days"])
    limit = threshold if threshold is not None else int(policy.value["threshold"])
    since = as_of - timedelta(days=window - 1)
    late = [
        r
        for r in employer_notifications
        if not r.facts.withdrawn
        and since <= r.facts.notice_date <= as_of
        and calendar.timeliness(r.facts.notice_date, r.facts.start_date, p)
        in (calendar.Timeliness.LATE, calendar.Timeliness.RETROACTIVE)
    ]
    if len(late) < limit:
        return []
    first = min(r.facts.notice_date for r in late)
    return [
        make_finding(
            REPEATEDLY_LATE,
            None,
            message_en=(
                f"The employer made {len(late)} late or retroactive notifications between "
                f"{date_en(since)} and {date_en(as_of)} (threshold {limit} in {window} days)."
            ),
            message_nl=(
                f"De werkgever deed {len(late)} te late of achteraf gedane meldingen tussen "
                f"{date_nl(since)} en {date_nl(as_of)} (drempel {limit} in {window} dagen)."
            ),
            evidence={
                "employer_key": late[0].employer_key,
                "as_of": as_of,
                "window_days": window,
                "threshold": limit,
                "notification_ids": sorted(r.notification_id for r in late),
                "arithmetic": f"{len(late)} late or retroactive >= {limit}",
            },
            parameters=(policy.as_use(),),
            period_key=f"from-{first.isoformat()}",
        )
    ]
