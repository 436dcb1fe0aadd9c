"""Working a case: claim, release, assign, investigate, close with an outcome, note.

    open --claim--> claimed --investigate--> investigating --close--> closed
      ^  <--release--'  <------release-------'

A case is closed with a case outcome and a mandatory note; the flags inside keep their own
status and outcome (they are worked one by one or in bulk from the case). Every transition
names who did it and is audited in the same transaction; a transition the case's status does
not allow is a 409 problem. This module only flushes; the request owns the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from meldplicht.accounts.models import Role, UserAccount
from meldplicht.audit import service as audit
from meldplicht.core.clock import utcnow
from meldplicht.core.errors import FieldError, InvalidRequest, NotFound
from meldplicht.inspection import cases
from meldplicht.inspection.models import (
    CLOSING_OUTCOMES,
    Case,
    CaseNote,
    CaseOutcome,
    CaseStatus,
)
from meldplicht.inspection.workflow import (
    ClaimedByOther,
    InvalidTransition,
    Staff,
    active_assignee,
)

HELD = (CaseStatus.CLAIMED, CaseStatus.INVESTIGATING)


class CaseNotFound(NotFound):
    code = "case_not_found"
    title = "Case not found"


def get_case(session: Session, case_id: uuid.UUID, *, for_update: bool = False) -> Case:
    stmt = select(Case).where(Case.id == case_id)
    if for_update:
        stmt = stmt.with_for_update()
    case = session.exec(stmt).first()
    if case is None:
        raise CaseNotFound(f"No case with id {case_id}.")
    return case


def _record(
    session: Session, who: Staff, action: str, case: Case, details: dict[str, Any] | None = None
) -> None:
    audit.record(
        session,
        who.actor,
        action,
        "case",
        case.id,
        {"key": who.key_prefix, "status": case.status, **(details or {})},
    )


def _touch(session: Session, case: Case, now: datetime) -> Case:
    case.updated_at = now
    session.add(case)
    session.flush()
    cases.follow_case_status(session, case.id, case.status)
    return case


def _refuse(case: Case, action: str, allowed: Sequence[CaseStatus]) -> InvalidTransition:
    past = action + ("d" if action.endswith("e") else "ed")
    return InvalidTransition(
        f"Cannot {action} a case that is {case.status}: only a case that is "
        f"{' or '.join(allowed)} can be {past}."
    )


def _check_holder(case: Case, who: Staff, action: str, *, supervisor_may: bool) -> None:
    if case.assignee_id == who.user_id or (supervisor_may and who.is_supervisor):
        return
    holder = "nobody" if case.assignee_id is None else f"user {case.assignee_id}"
    raise ClaimedByOther(
        f"Cannot {action} this case: it is claimed by {holder}, not by you"
        + (" (a supervisor can)." if supervisor_may else ".")
    )


def claim(session: Session, who: Staff, case_id: uuid.UUID, now: datetime | None = None) -> Case:
    """open -> claimed by the caller; claiming one's own claim again changes nothing."""
    now = now or utcnow()
    case = get_case(session, case_id, for_update=True)
    if case.status == CaseStatus.CLAIMED and case.assignee_id == who.user_id:
        return case
    if case.status in HELD:
        raise ClaimedByOther(
            f"This case is already {case.status} by user {case.assignee_id}; "
            "ask them or a supervisor to release or reassign it."
        )
    if case.status != CaseStatus.OPEN:
        raise _refuse(case, "claim", [CaseStatus.OPEN])
    case.status = CaseStatus.CLAIMED
    case.assignee_id = who.user_id
    case.claimed_at = now
    _record(session, who, "case.claimed", case, {"assignee_id": str(who.user_id)})
    return _touch(session, case, now)


def release(session: Session, who: Staff, case_id: uuid.UUID, now: datetime | None = None) -> Case:
    """claimed/investigating -> open (the holder or a supervisor)."""
    now = now or utcnow()
    case = get_case(session, case_id, for_update=True)
    if case.status not in HELD:
        raise _refuse(case, "release", HELD)
    _check_holder(case, who, "release", supervisor_may=True)
    previous = case.assignee_id
    case.status = CaseStatus.OPEN
    case.assignee_id = None
    case.claimed_at = None
    _record(session, who, "case.released", case, {"previous_assignee_id": str(previous)})
    return _touch(session, case, now)


def assign(
    session: Session,
    who: Staff,
    case_id: uuid.UUID,
    assignee_id: uuid.UUID,
    now: datetime | None = None,
) -> Case:
    """A supervisor gives a case that is not closed to an inspector."""
    now = now or utcnow()
    user = active_assignee(session, assignee_id)
    case = get_case(session, case_id, for_update=True)
    if case.status == CaseStatus.CLOSED:
        raise _refuse(case, "assign", [CaseStatus.OPEN, *HELD])
    previous = case.assignee_id
    if case.status == CaseStatus.OPEN:
        case.status = CaseStatus.CLAIMED
    if previous != user.id:
        case.claimed_at = now
    case.assignee_id = user.id
    _record(
        session,
        who,
        "case.assigned",
        case,
        {"assignee_id": str(user.id), "previous_assignee_id": str(previous)},
    )
    return _touch(session, case, now)


def start_investigating(
    session: Session, who: Staff, case_id: uuid.UUID, now: datetime | None = None
) -> Case:
    """claimed by the caller -> investigating."""
    now = now or utcnow()
    case = get_case(session, case_id, for_update=True)
    if case.status != CaseStatus.CLAIMED:
        raise _refuse(case, "investigate", [CaseStatus.CLAIMED])
    _check_holder(case, who, "investigate", supervisor_may=False)
    case.status = CaseStatus.INVESTIGATING
    _record(session, who, "case.investigating", case)
    return _touch(session, case, now)


def close(
    session: Session,
    who: Staff,
    case_id: uuid.UUID,
    outcome: CaseOutcome,
    note: str,
    now: datetime | None = None,
) -> Case:
    """claimed/investigating -> closed with a case outcome and a mandatory note.

    The figures of the case stay as they were when it was closed; a later flag of the
    employer opens a new case.
    """
    now = now or utcnow()
    if outcome not in CLOSING_OUTCOMES:
        raise InvalidRequest(
            "Only meldplicht merges cases.",
            errors=[
                FieldError(
                    field="outcome", code="outcome_not_allowed", message="Choose another outcome."
                )
            ],
        )
    if not note.strip():
        raise InvalidRequest(
            "Closing a case needs a note.",
            errors=[FieldError(field="note", code="note_required", message="Say why.")],
        )
    case = get_case(session, case_id, for_update=True)
    if case.status not in HELD:
        raise _refuse(case, "close", HELD)
    _check_holder(case, who, "close", supervisor_may=True)
    case.status = CaseStatus.CLOSED
    case.outcome = outcome
    case.closing_note = note
    case.closed_at = now
    case.closed_by = who.user_id
    _record(session, who, "case.closed", case, {"outcome": outcome.value, "note": note})
    return _touch(session, case, now)


def add_note(
    session: Session, who: Staff, case_id: uuid.UUID, body: str, now: datetime | None = None
) -> CaseNote:
    now = now or utcnow()
    if not body.strip():
        raise InvalidRequest(
            "A note needs text.",
            errors=[FieldError(field="body", code="note_required", message="Write the note.")],
        )
    case = get_case(session, case_id)
    note = CaseNote(
        case_id=case.id,
        author_id=str(who.user_id),
        author_name=who.display_name,
        body=body,
        created_at=now,
    )
    session.add(note)
    session.flush()
    _record(session, who, "case.note_added", case, {"note_id": str(note.id)})
    return note


def assignable_staff(session: Session) -> list[UserAccount]:
    """The people a supervisor can give a case to: active inspectors and supervisors, by name."""
    return list(
        session.exec(
            select(UserAccount)
            .where(
                col(UserAccount.role).in_((Role.INSPECTOR.value, Role.SUPERVISOR.value)),
                col(UserAccount.disabled).is_(False),
            )
            .order_by(col(UserAccount.display_name), col(UserAccount.id))
        )
    )
