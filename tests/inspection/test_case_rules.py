"""case_rule follows the flags: joining, clearing, resolving, reopening, the case closing; and
the queue's rule filter gives the cases (and the count) the plain definition gives: "has an
active flag of the rule", read from the flags themselves."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import exists, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from meldplicht.accounts.models import Role
from meldplicht.core.clock import today, utcnow
from meldplicht.employers.models import Employer
from meldplicht.flags.models import ACTIVE_STATUSES, Flag, FlagSource, Outcome, SubjectType
from meldplicht.flags.sync import Subject, sync_flags
from meldplicht.inspection import case_queue, case_workflow, workflow
from meldplicht.inspection.models import Case, CaseOutcome, CaseRule, CaseStatus
from meldplicht.rules.facts import Severity
from tests.conftest import make_employer
from tests.inspection.conftest import StaffWithKey, synthetic_flag

Rows = dict[tuple[uuid.UUID, str], tuple[str, int]]


def stored(session: Session) -> Rows:
    session.flush()
    return {
        (r.case_id, r.rule_code): (r.case_status, r.open_flags)
        for r in session.exec(select(CaseRule))
    }


def from_flags(session: Session) -> Rows:
    """What case_rule must hold, from the flags and cases (its definition)."""
    session.flush()
    rows = session.execute(
        sa_select(col(Flag.case_id), col(Flag.rule_code), col(Case.status), func.count())
        .join(Case, col(Case.id) == col(Flag.case_id))
        .where(col(Flag.status).in_(ACTIVE_STATUSES))
        .group_by(col(Flag.case_id), col(Flag.rule_code), col(Case.status))
    )
    return {(c, r): (s, int(n)) for c, r, s, n in rows}


def staff(who: StaffWithKey, role: Role = Role.INSPECTOR) -> workflow.Staff:
    return workflow.Staff(
        user_id=who.user.id,
        username=who.user.username,
        display_name=who.user.display_name,
        role=role,
        key_prefix="test",
    )


def case_of(session: Session, employer: Employer) -> Case:
    found = session.exec(
        select(Case).where(Case.employer_id == employer.id, Case.status != CaseStatus.CLOSED)
    ).one()
    return found


def test_case_rule_follows_flags_and_the_case(
    session: Session, inspector: StaffWithKey, supervisor: StaffWithKey
) -> None:
    tuin = make_employer(session, "11111110", "Tuin B.V.").employer
    other = make_employer(session, "22222220", "Ander B.V.").employer
    late = synthetic_flag(session, tuin, rule="LATE_NOTICE")
    late2 = synthetic_flag(session, tuin, rule="LATE_NOTICE")
    young = synthetic_flag(session, tuin, rule="UNDERAGE_WORK", severity=Severity.HIGH)
    synthetic_flag(session, other, rule="LATE_NOTICE")
    case = case_of(session, tuin)
    # Joining: one row per rule, with its number of active flags and the case's status.
    assert stored(session) == from_flags(session)
    assert stored(session)[case.id, "LATE_NOTICE"] == (CaseStatus.OPEN, 2)
    assert stored(session)[case.id, "UNDERAGE_WORK"] == (CaseStatus.OPEN, 1)

    anna = staff(inspector)
    # A flag resolved: the rule's row goes when its last active flag goes.
    workflow.claim(session, anna, young.id)
    workflow.resolve(session, anna, young.id, Outcome.VIOLATION_CONFIRMED, "gezien")
    assert (case.id, "UNDERAGE_WORK") not in stored(session)
    # A flag the rules no longer find (the sweep clears it): one fewer.
    sync_flags(
        session,
        Subject(type=SubjectType.EMPLOYER, id=late.subject_id, employer_id=tuin.id),
        [],
        scope={"LATE_NOTICE"},
        source=FlagSource.SWEEP,
        as_of=today(),
    )
    assert stored(session)[case.id, "LATE_NOTICE"] == (CaseStatus.OPEN, 1)
    assert stored(session) == from_flags(session)
    # A resolved flag reopened by a supervisor is active again.
    workflow.reopen(session, staff(supervisor, Role.SUPERVISOR), young.id, "nog eens")
    assert stored(session)[case.id, "UNDERAGE_WORK"] == (CaseStatus.OPEN, 1)

    # The case's transitions: the rows carry its status.
    case_workflow.claim(session, anna, case.id)
    assert stored(session)[case.id, "LATE_NOTICE"][0] == CaseStatus.CLAIMED
    case_workflow.start_investigating(session, anna, case.id)
    case_workflow.close(session, anna, case.id, CaseOutcome.WARNING, "brief gestuurd")
    assert stored(session)[case.id, "LATE_NOTICE"] == (CaseStatus.CLOSED, 1)
    assert stored(session) == from_flags(session)

    # A flag of the closed case the sweep no longer finds: the closed case's row goes too.
    sync_flags(
        session,
        Subject(type=SubjectType.EMPLOYER, id=late2.subject_id, employer_id=tuin.id),
        [],
        scope={"LATE_NOTICE"},
        source=FlagSource.SWEEP,
        as_of=today(),
    )
    assert (case.id, "LATE_NOTICE") not in stored(session)
    # A flag claimed in the closed case moves to a new open case, and its row with it.
    workflow.claim(session, anna, young.id)
    workflow.resolve(session, anna, young.id, Outcome.NO_VIOLATION, "klopt toch")
    assert (case.id, "UNDERAGE_WORK") not in stored(session)
    # A new flag after closing opens a new case with rows of its own.
    synthetic_flag(session, tuin, rule="UNDERAGE_WORK", severity=Severity.HIGH)
    new_case = case_of(session, tuin)
    assert new_case.id != case.id
    assert stored(session)[new_case.id, "UNDERAGE_WORK"] == (CaseStatus.OPEN, 1)
    assert stored(session) == from_flags(session)


def test_rule_filter_and_count_equal_the_plain_definition(
    session: Session, inspector: StaffWithKey
) -> None:
    anna = staff(inspector)
    rules = ("LATE_NOTICE", "UNDERAGE_WORK", "PAST_DECLARED_END")
    started = utcnow() - timedelta(days=3)
    for i in range(9):
        employer = make_employer(session, f"{30_000_000 + i * 10}", f"Werkgever {i}").employer
        for j, rule in enumerate(rules):
            if (i + j) % 3:
                synthetic_flag(
                    session,
                    employer,
                    rule=rule,
                    first_seen=started + timedelta(hours=i),
                    postcode="2671 AB" if i % 2 else "1011 AB",  # Zuid- or Noord-Holland
                )
        case = case_of(session, employer)
        if i % 4 == 1:  # some claimed, some closed with their flags still active
            case_workflow.claim(session, anna, case.id)
        if i % 4 == 2:
            case_workflow.claim(session, anna, case.id)
            case_workflow.close(session, anna, case.id, CaseOutcome.NO_VIOLATION, "niets")
    one = session.exec(select(Flag).where(Flag.rule_code == "LATE_NOTICE")).first()
    assert one is not None
    workflow.claim(session, anna, one.id)
    workflow.resolve(session, anna, one.id, Outcome.DUPLICATE, "dubbel")
    assert stored(session) == from_flags(session)

    every_status = tuple(CaseStatus)
    for statuses in (case_queue.ACTIVE_CASE_STATUSES, every_status, (CaseStatus.CLOSED,)):
        for wanted in (("LATE_NOTICE",), ("UNDERAGE_WORK", "PAST_DECLARED_END"), ("NONE",)):
            plain = set(
                session.execute(
                    sa_select(col(Case.id)).where(
                        col(Case.status).in_(statuses),
                        exists().where(
                            col(Flag.case_id) == col(Case.id),
                            col(Flag.status).in_(ACTIVE_STATUSES),
                            col(Flag.rule_code).in_(wanted),
                        ),
                    )
                ).scalars()
            )
            for sort in case_queue.CaseSort:
                for extra in ({}, {"province": "Zuid-Holland"}):
                    flt = case_queue.CaseFilter(statuses=statuses, rules=wanted, **extra)
                    seen, count = _every_page(session, flt, sort)
                    expected = plain if not extra else _in_province(session, plain)
                    assert set(seen) == expected, (statuses, wanted, sort, extra)
                    assert len(seen) == len(set(seen)) == count
                    assert case_queue.count_cases(session, flt) == count
    closed_with_rules = {c for (c, _), (s, _) in stored(session).items() if s == "closed"}
    assert closed_with_rules  # the planted data has closed cases with active flags


def _in_province(session: Session, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    return {
        i
        for i in ids
        if (case := session.get(Case, i)) is not None and case.province == "Zuid-Holland"
    }


def _every_page(
    session: Session, flt: case_queue.CaseFilter, sort: case_queue.CaseSort
) -> tuple[list[uuid.UUID], int]:
    seen: list[uuid.UUID] = []
    cursor: str | None = None
    counts: set[int] = set()
    while True:
        rows, cursor, count = case_queue.list_cases(session, flt, sort=sort, cursor=cursor, limit=2)
        counts.add(count)
        seen += [case.id for case, _ in rows]
        if cursor is None:
            break
    [count] = counts
    return seen, count
