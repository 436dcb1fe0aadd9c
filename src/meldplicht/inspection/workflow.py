"""Working a flag: claim, release, assign, investigate, resolve, note, reopen, snooze.

Every transition names who did it (an inspector or supervisor, by user id) and is written to
the audit log in the same transaction. A transition the flag's state does not allow raises
a 409 problem that says what the state is and what would be needed. This module only
flushes; the request owns the commit.

    open --claim--> claimed --investigate--> investigating --resolve--> resolved
      ^  <--release--'  <------release-------'                            |
      '------------------------------reopen (supervisor)-----------------'
    open --(condition disappears, sync_flags)--> cleared --(returns)--> open
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from meldplicht.accounts.models import Role, UserAccount
from meldplicht.audit import service as audit
from meldplicht.core.clock import LEGAL_TZ, utcnow
from meldplicht.core.errors import Conflict, DomainError, FieldError, InvalidRequest, NotFound
from meldplicht.core.security import Principal
from meldplicht.employers.models import Employer
from meldplicht.flags.models import ACTIVE_STATUSES, Flag, FlagNote, FlagStatus, Outcome, Snooze
from meldplicht.flags.sync import forget_cached_facts
from meldplicht.inspection import cases, rescore
from meldplicht.inspection.queue import EmployerNotFound, get_flag
from meldplicht.rules.checks.base import REGISTRY


@dataclass(frozen=True, slots=True)
class Staff:
    """An inspector or supervisor acting through their own API key."""

    user_id: uuid.UUID
    username: str
    display_name: str
    role: Role
    key_prefix: str

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR

    @property
    def actor(self) -> Principal:
        """The audit identity: the person, not the key (its prefix goes in the details)."""
        return Principal(
            role=self.role.value, actor_id=f"user:{self.user_id}", display_name=self.display_name
        )


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "The flag's status does not allow this"


class ClaimedByOther(Conflict):
    code = "claimed_by_other"
    title = "The flag is claimed by someone else"


class BulkRejected(Conflict):
    code = "bulk_rejected"
    title = "Nothing was changed: some flags cannot take this action"


class InvalidAssignee(InvalidRequest):
    code = "invalid_assignee"
    title = "The assignee is not an active inspector or supervisor"


class UnknownRule(InvalidRequest):
    code = "unknown_rule"
    title = "No rule has this code"


class SnoozeNotFound(NotFound):
    code = "snooze_not_found"
    title = "Snooze not found"


def _record(
    session: Session, who: Staff, action: str, flag: Flag, details: dict[str, Any] | None = None
) -> None:
    audit.record(
        session,
        who.actor,
        action,
        "flag",
        flag.id,
        {"key": who.key_prefix, "status": flag.status, **(details or {})},
    )


def _touch(session: Session, flag: Flag, now: datetime) -> Flag:
    flag.updated_at = now
    session.add(flag)
    session.flush()
    # The flag's case follows: its counts change, and a reopened flag joins the open case.
    cases.join_flags(
        session,
        [flag.id],
        employer_ids=[flag.employer_id],
        actor=cases.CASES_ACTOR,
        as_of=now.astimezone(LEGAL_TZ).date(),
        now=now,
    )
    session.refresh(flag)
    return flag


def _refuse(flag: Flag, action: str, allowed: Sequence[FlagStatus]) -> InvalidTransition:
    return InvalidTransition(
        f"Cannot {action} a flag that is {flag.status}: only a flag that is "
        f"{' or '.join(allowed)} can be {_past(action)}."
    )


def _past(action: str) -> str:
    return {
        "claim": "claimed",
        "release": "released",
        "assign": "assigned",
        "start investigating": "investigated",
        "resolve": "resolved",
        "reopen": "reopened",
    }.get(action, action)


def _check_holder(flag: Flag, who: Staff, action: str, *, supervisor_may: bool) -> None:
    if flag.assignee_id == who.user_id or (supervisor_may and who.is_supervisor):
        return
    holder = "nobody" if flag.assignee_id is None else f"user {flag.assignee_id}"
    raise ClaimedByOther(
        f"Cannot {action} this flag: it is claimed by {holder}, not by you"
        + (" (a supervisor can)." if supervisor_may else ".")
    )


# --- single-flag transitions ------------------------------------------------------------------


def claim(session: Session, who: Staff, flag_id: uuid.UUID, now: datetime | None = None) -> Flag:
    """open -> claimed by the caller; claiming one's own claim again changes nothing."""
    now = now or utcnow()
    flag = get_flag(session, flag_id, for_update=True)
    if flag.status == FlagStatus.CLAIMED and flag.assignee_id == who.user_id:
        return flag
    if flag.status in (FlagStatus.CLAIMED, FlagStatus.INVESTIGATING):
        raise ClaimedByOther(
            f"This flag is already {flag.status} by user {flag.assignee_id}; "
            "ask them or a supervisor to release or reassign it."
        )
    if flag.status != FlagStatus.OPEN:
        raise _refuse(flag, "claim", [FlagStatus.OPEN])
    flag.status = FlagStatus.CLAIMED
    flag.assignee_id = who.user_id
    flag.claimed_at = now
    _record(session, who, "flag.claimed", flag, {"assignee_id": str(who.user_id)})
    return _touch(session, flag, now)


def release(session: Session, who: Staff, flag_id: uuid.UUID, now: datetime | None = None) -> Flag:
    """claimed/investigating -> open (the claimer or a supervisor).

    If the rules stopped finding the condition while the flag was held, sync_flags left it
    alone; released, it goes to cleared instead of back into the queue.
    """
    now = now or utcnow()
    flag = get_flag(session, flag_id, for_update=True)
    held = (FlagStatus.CLAIMED, FlagStatus.INVESTIGATING)
    if flag.status not in held:
        raise _refuse(flag, "release", held)
    _check_holder(flag, who, "release", supervisor_may=True)
    previous = flag.assignee_id
    flag.assignee_id = None
    flag.claimed_at = None
    if flag.condition_present:
        flag.status = FlagStatus.OPEN
    else:
        flag.status = FlagStatus.CLEARED
        flag.cleared_at = now
    _record(session, who, "flag.released", flag, {"previous_assignee_id": str(previous)})
    return _touch(session, flag, now)


def active_assignee(session: Session, assignee_id: uuid.UUID) -> UserAccount:
    user = session.get(UserAccount, assignee_id)
    if (
        user is None
        or user.disabled
        or user.role not in (Role.INSPECTOR.value, Role.SUPERVISOR.value)
    ):
        raise InvalidAssignee(
            f"User {assignee_id} is not an active inspector or supervisor.",
            errors=[
                FieldError(
                    field="assignee_id",
                    code="invalid_assignee",
                    message="Not an active inspector or supervisor account.",
                )
            ],
        )
    return user


def assign(
    session: Session,
    who: Staff,
    flag_id: uuid.UUID,
    assignee_id: uuid.UUID,
    now: datetime | None = None,
) -> Flag:
    """A supervisor gives an active flag to an inspector (an investigation keeps its status)."""
    now = now or utcnow()
    user = active_assignee(session, assignee_id)
    flag = get_flag(session, flag_id, for_update=True)
    if flag.status not in ACTIVE_STATUSES:
        raise _refuse(flag, "assign", ACTIVE_STATUSES)
    previous = flag.assignee_id
    if flag.status == FlagStatus.OPEN:
        flag.status = FlagStatus.CLAIMED
    if previous != user.id:
        flag.claimed_at = now
    flag.assignee_id = user.id
    _record(
        session,
        who,
        "flag.assigned",
        flag,
        {"assignee_id": str(user.id), "previous_assignee_id": str(previous)},
    )
    return _touch(session, flag, now)


def start_investigating(
    session: Session, who: Staff, flag_id: uuid.UUID, now: datetime | None = None
) -> Flag:
    """claimed by the caller -> investigating."""
    now = now or utcnow()
    flag = get_flag(session, flag_id, for_update=True)
    if flag.status != FlagStatus.CLAIMED:
        raise _refuse(flag, "start investigating", [FlagStatus.CLAIMED])
    _check_holder(flag, who, "start investigating", supervisor_may=False)
    flag.status = FlagStatus.INVESTIGATING
    _record(session, who, "flag.investigating", flag)
    return _touch(session, flag, now)


def resolve(
    session: Session,
    who: Staff,
    flag_id: uuid.UUID,
    outcome: Outcome,
    note: str,
    now: datetime | None = None,
    *,
    rescore_employer: bool = True,
) -> Flag:
    """claimed/investigating -> resolved with an outcome and a mandatory note. A confirmed
    violation rescores the employer's flags (`rescore_employer=False`: the caller does, once
    for many)."""
    now = now or utcnow()
    if not note.strip():
        raise InvalidRequest(
            "A resolution needs a note.",
            errors=[FieldError(field="note", code="note_required", message="Say why.")],
        )
    flag = get_flag(session, flag_id, for_update=True)
    held = (FlagStatus.CLAIMED, FlagStatus.INVESTIGATING)
    if flag.status not in held:
        raise _refuse(flag, "resolve", held)
    _check_holder(flag, who, "resolve", supervisor_may=True)
    flag.status = FlagStatus.RESOLVED
    flag.outcome = outcome
    flag.resolution_note = note
    flag.resolved_at = now
    flag.resolved_by = who.user_id
    # A confirmed violation raises the employer's risk score; drop the per-session cache.
    forget_cached_facts(session)
    _record(session, who, "flag.resolved", flag, {"outcome": outcome.value, "note": note})
    if outcome is Outcome.VIOLATION_CONFIRMED and rescore_employer:
        rescore.rescore_employer(session, flag.employer_id, now)  # the history points move
    return _touch(session, flag, now)


def add_note(
    session: Session, who: Staff, flag_id: uuid.UUID, body: str, now: datetime | None = None
) -> FlagNote:
    now = now or utcnow()
    flag = get_flag(session, flag_id)
    note = FlagNote(
        flag_id=flag.id,
        author_id=str(who.user_id),
        author_name=who.display_name,
        body=body,
        created_at=now,
    )
    session.add(note)
    session.flush()
    _record(session, who, "flag.note_added", flag, {"note_id": str(note.id)})
    return note


def reopen(
    session: Session,
    who: Staff,
    flag_id: uuid.UUID,
    note: str | None = None,
    now: datetime | None = None,
) -> Flag:
    """A supervisor sends a resolved flag back to the queue (outcome kept in the audit log)."""
    now = now or utcnow()
    flag = get_flag(session, flag_id, for_update=True)
    if flag.status != FlagStatus.RESOLVED:
        raise _refuse(flag, "reopen", [FlagStatus.RESOLVED])
    previous = {"previous_outcome": flag.outcome, "previous_resolved_by": str(flag.resolved_by)}
    flag.status = FlagStatus.OPEN
    flag.outcome = None
    flag.resolution_note = None
    flag.resolved_at = None
    flag.resolved_by = None
    flag.assignee_id = None
    flag.claimed_at = None
    flag.reopened_count += 1
    forget_cached_facts(session)
    if note:
        session.add(
            FlagNote(
                flag_id=flag.id,
                author_id=str(who.user_id),
                author_name=who.display_name,
                body=note,
                created_at=now,
            )
        )
    _record(session, who, "flag.reopened_by_supervisor", flag, {**previous, "note": note})
    if previous["previous_outcome"] == Outcome.VIOLATION_CONFIRMED:
        rescore.rescore_employer(session, flag.employer_id, now)  # one confirmation fewer
    return _touch(session, flag, now)


# --- bulk -------------------------------------------------------------------------------------


def _bulk(
    flag_ids: Sequence[uuid.UUID], action: Callable[[uuid.UUID], Flag], what: str
) -> list[Flag]:
    """All or nothing: try every id, report every refusal, raise if any (the caller's
    transaction then rolls back what the others did)."""
    done: list[Flag] = []
    errors: list[FieldError] = []
    seen: set[uuid.UUID] = set()
    for index, flag_id in enumerate(flag_ids):
        if flag_id in seen:
            errors.append(
                FieldError(
                    field=f"flag_ids.{index}",
                    code="duplicate_id",
                    message=f"Flag {flag_id} appears twice.",
                )
            )
            continue
        seen.add(flag_id)
        try:
            done.append(action(flag_id))
        except DomainError as exc:
            errors.append(
                FieldError(
                    field=f"flag_ids.{index}",
                    code=exc.code,
                    message=f"{flag_id}: {exc.detail or exc.title}",
                )
            )
    if errors:
        raise BulkRejected(
            f"{len(errors)} of {len(flag_ids)} flags cannot be {what}; nothing was changed.",
            errors=errors,
        )
    return done


def bulk_assign(
    session: Session,
    who: Staff,
    flag_ids: Sequence[uuid.UUID],
    assignee_id: uuid.UUID,
    now: datetime | None = None,
) -> list[Flag]:
    now = now or utcnow()
    active_assignee(session, assignee_id)  # a bad assignee is one 422, not one error per flag
    return _bulk(flag_ids, lambda i: assign(session, who, i, assignee_id, now), "assigned")


def bulk_resolve(
    session: Session,
    who: Staff,
    flag_ids: Sequence[uuid.UUID],
    outcome: Outcome,
    note: str,
    now: datetime | None = None,
) -> list[Flag]:
    now = now or utcnow()
    done = _bulk(
        flag_ids,
        lambda i: resolve(session, who, i, outcome, note, now, rescore_employer=False),
        "resolved",
    )
    if outcome is Outcome.VIOLATION_CONFIRMED:
        # Each employer's flags are scored once for all its confirmations, not once per flag.
        employers = {flag.employer_id for flag in done if flag.employer_id is not None}
        for employer_id in sorted(employers):
            rescore.rescore_employer(session, employer_id, now)
        cases.join_flags(
            session,
            [],
            employer_ids=sorted(employers),
            actor=cases.CASES_ACTOR,
            as_of=now.astimezone(LEGAL_TZ).date(),
            now=now,
        )
        for flag in done:
            session.refresh(flag)
    return done


# --- snoozes ----------------------------------------------------------------------------------


def known_rule_codes() -> frozenset[str]:
    return frozenset(info.code for info, _ in REGISTRY)


def snooze(
    session: Session,
    who: Staff,
    *,
    employer_id: uuid.UUID,
    rule_code: str,
    until: date,
    reason: str,
    today: date,
    now: datetime | None = None,
) -> tuple[Snooze, int]:
    """Silence a rule for one employer until a day (inclusive); replaces an active snooze of
    the same rule. Returns the snooze and how many active flags it now hides."""
    now = now or utcnow()
    if rule_code not in known_rule_codes():
        raise UnknownRule(
            f"No rule {rule_code!r}.",
            errors=[FieldError(field="rule_code", code="unknown_rule", message="Unknown rule.")],
        )
    if until < today:
        raise InvalidRequest(
            "A snooze must last until today or later.",
            errors=[FieldError(field="until", code="until_in_past", message="Lies in the past.")],
        )
    if session.get(Employer, employer_id) is None:
        raise EmployerNotFound(f"No employer {employer_id}.")
    for old in session.exec(
        select(Snooze).where(
            Snooze.employer_id == employer_id,
            Snooze.rule_code == rule_code,
            col(Snooze.lifted_at).is_(None),
        )
    ):
        old.lifted_at = now
        session.add(old)
    row = Snooze(
        employer_id=employer_id,
        rule_code=rule_code,
        until=until,
        reason=reason,
        created_by=who.actor.actor_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    affected = _set_snoozed_until(session, who, employer_id, rule_code, until, row.id, now)
    audit.record(
        session,
        who.actor,
        "snooze.created",
        "snooze",
        row.id,
        {
            "employer_id": str(employer_id),
            "rule": rule_code,
            "until": until.isoformat(),
            "reason": reason,
            "flags": affected,
        },
    )
    # sync_flags caches each employer's snoozes per session; the next sync must see this one.
    forget_cached_facts(session)
    _rescore_snoozed(session, employer_id, rule_code, now)
    return row, affected


def lift_snooze(
    session: Session, who: Staff, snooze_id: uuid.UUID, now: datetime | None = None
) -> tuple[Snooze, int]:
    now = now or utcnow()
    row = session.get(Snooze, snooze_id)
    if row is None:
        raise SnoozeNotFound(f"No snooze with id {snooze_id}.")
    if row.lifted_at is not None:
        return row, 0
    row.lifted_at = now
    session.add(row)
    affected = _set_snoozed_until(session, who, row.employer_id, row.rule_code, None, row.id, now)
    audit.record(
        session,
        who.actor,
        "snooze.lifted",
        "snooze",
        row.id,
        {"employer_id": str(row.employer_id), "rule": row.rule_code, "flags": affected},
    )
    forget_cached_facts(session)
    _rescore_snoozed(session, row.employer_id, row.rule_code, now)
    return row, affected


def _rescore_snoozed(
    session: Session, employer_id: uuid.UUID, rule_code: str, now: datetime
) -> None:
    """A snooze set or lifted: the rule's flags at the employer are scored again from the
    inputs as they are now, and the employer's open case follows."""
    if rescore.rescore_employer(session, employer_id, now, rule_code=rule_code):
        cases.join_flags(
            session,
            [],
            employer_ids=[employer_id],
            actor=cases.CASES_ACTOR,
            as_of=now.astimezone(LEGAL_TZ).date(),
            now=now,
        )


def _set_snoozed_until(
    session: Session,
    who: Staff,
    employer_id: uuid.UUID,
    rule_code: str,
    until: date | None,
    snooze_id: uuid.UUID,
    now: datetime,
) -> int:
    flags = session.exec(
        select(Flag).where(
            Flag.employer_id == employer_id,
            Flag.rule_code == rule_code,
            col(Flag.status).in_(ACTIVE_STATUSES),
        )
    )
    count = 0
    for flag in flags:
        flag.snoozed_until = until
        flag.updated_at = now
        session.add(flag)
        _record(
            session,
            who,
            "flag.snoozed" if until else "flag.unsnoozed",
            flag,
            {"snooze_id": str(snooze_id), "until": until.isoformat() if until else None},
        )
        count += 1
    session.flush()
    return count
