"""Timeliness checks: was the notice made at least two working days before the work started."""

from __future__ import annotations

from meldplicht.rules import calendar
from meldplicht.rules.checks.base import (
    Context,
    Explanation,
    RuleInfo,
    Verdict,
    date_en,
    date_nl,
    explains,
    rule,
    verdict,
)
from meldplicht.rules.facts import ParameterUse, Severity

BASIS = (
    "Wet arbeid vreemdelingen art. 2a(1) (the notice at least two working days before the work "
    "starts); Regeling melding Wav art. 3(1)(d); working days are Monday to Friday except the "
    "public holidays of the Algemene termijnenwet art. 3 and the days equated with them; "
    "https://wetten.overheid.nl/BWBR0007149"
)

LATE = RuleInfo(
    code="LATE_NOTICE",
    severity=Severity.MEDIUM,
    version="1.0.0",
    legal_basis=BASIS,
    title_nl="Melding te laat",
    title_en="Notification too late",
    description_en=(
        "The notice was received on or before the start date, but fewer than two working "
        "days before it (reading A: notice date + 2 working days > start date)."
    ),
)
RETROACTIVE = RuleInfo(
    code="RETROACTIVE_NOTICE",
    severity=Severity.HIGH,
    version="1.0.0",
    legal_basis=BASIS,
    title_nl="Melding na start van het werk",
    title_en="Notification after the work started",
    description_en=(
        "The start date lies before the notice date: the work began before it was notified "
        "(allowed only in the 2022 transitional window)."
    ),
)
BORDERLINE = RuleInfo(
    code="BORDERLINE_NOTICE",
    severity=Severity.LOW,
    version="1.0.0",
    legal_basis=BASIS,
    title_nl="Melding op de grens van de termijn",
    title_en="Notification on the edge of the term",
    description_en=(
        "On time under reading A (notice date + 2 working days <= start date) but with fewer "
        "than two full working days strictly between notice and start (reading B). "
        "Informational: never treated as late."
    ),
)


def _evidence(ctx: Context) -> dict[str, object]:
    f = ctx.facts
    term = calendar.notice_term(f.start_date, ctx.params)
    earliest_start = calendar.add_working_days(f.notice_date, term, ctx.params)
    between = calendar.working_days_between(f.notice_date, f.start_date, ctx.params)
    deadline = calendar.notice_deadline(f.start_date, ctx.params)
    return {
        "timeliness": ctx.timeliness.value,
        "notice_date": f.notice_date,
        "start_date": f.start_date,
        "term_working_days": term,
        "latest_on_time_working_day": deadline,
        "working_days_strictly_between": between,
        "arithmetic": (
            f"notice {f.notice_date.isoformat()} + {term} working days = "
            f"{earliest_start.isoformat()}; start {f.start_date.isoformat()}; "
            f"{between} working day(s) strictly between"
        ),
        "arithmetic_nl": (
            f"melding {f.notice_date.isoformat()} + {term} werkdagen = "
            f"{earliest_start.isoformat()}; start {f.start_date.isoformat()}; "
            f"{between} werkdag(en) ertussen"
        ),
    }


def _uses(ctx: Context) -> tuple[ParameterUse, ...]:
    return (calendar.notice_term_parameter(ctx.facts.start_date, ctx.params).as_use(),)


@rule(LATE)
def check_late_notice(ctx: Context) -> list[Verdict]:
    if ctx.timeliness is not calendar.Timeliness.LATE:
        return []
    f = ctx.facts
    return verdict(LATE, notice_date=f.notice_date, start_date=f.start_date)


@explains(LATE)
def explain_late_notice(ctx: Context, _v: Verdict) -> Explanation:
    f = ctx.facts
    deadline = calendar.notice_deadline(f.start_date, ctx.params)
    return Explanation(
        message_en=(
            f"The notification of {date_en(f.notice_date)} is late for work starting on "
            f"{date_en(f.start_date)}: it had to be made at least two working days "
            f"before, by {date_en(deadline)} at the latest."
        ),
        message_nl=(
            f"De melding van {date_nl(f.notice_date)} is te laat voor werk dat begint op "
            f"{date_nl(f.start_date)}: zij moest ten minste twee werkdagen vooraf worden "
            f"gedaan, uiterlijk op {date_nl(deadline)}."
        ),
        evidence=_evidence(ctx),
        parameters=_uses(ctx),
    )


@rule(RETROACTIVE)
def check_retroactive_notice(ctx: Context) -> list[Verdict]:
    if ctx.timeliness is not calendar.Timeliness.RETROACTIVE:
        return []
    f = ctx.facts
    return verdict(RETROACTIVE, days_before_notice=(f.notice_date - f.start_date).days)


@explains(RETROACTIVE)
def explain_retroactive_notice(ctx: Context, v: Verdict) -> Explanation:
    f = ctx.facts
    days = v.number("days_before_notice")
    return Explanation(
        message_en=(
            f"The work started on {date_en(f.start_date)}, {days} day(s) before the "
            f"notification of {date_en(f.notice_date)}; it had to be notified at least two "
            f"working days before the start."
        ),
        message_nl=(
            f"Het werk begon op {date_nl(f.start_date)}, {days} dag(en) vóór de melding "
            f"van {date_nl(f.notice_date)}; het moest ten minste twee werkdagen vóór de "
            f"start worden gemeld."
        ),
        evidence=_evidence(ctx),
        parameters=_uses(ctx),
    )


@rule(BORDERLINE)
def check_borderline_notice(ctx: Context) -> list[Verdict]:
    if ctx.timeliness is not calendar.Timeliness.BORDERLINE:
        return []
    f = ctx.facts
    return verdict(BORDERLINE, notice_date=f.notice_date, start_date=f.start_date)


@explains(BORDERLINE)
def explain_borderline_notice(ctx: Context, _v: Verdict) -> Explanation:
    f = ctx.facts
    between = calendar.working_days_between(f.notice_date, f.start_date, ctx.params)
    return Explanation(
        message_en=(
            f"The notification of {date_en(f.notice_date)} is on time for work starting on "
            f"{date_en(f.start_date)}, but only {between} full working day(s) lie in "
            f"between. This is for information only, not a late notice."
        ),
        message_nl=(
            f"De melding van {date_nl(f.notice_date)} is op tijd voor werk dat begint op "
            f"{date_nl(f.start_date)}, maar er liggen slechts {between} volle werkdag(en) "
            f"tussen. Dit is alleen ter informatie, geen te late melding."
        ),
        evidence=_evidence(ctx),
        parameters=_uses(ctx),
    )
