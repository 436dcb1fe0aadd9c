"""Signals from outside: a worker or a partner organisation reports an employer.

The Inspectorate "follows up reports of abuses where it can": a report arrives here without an
account. `check` reads what was sent (employer name and/or KvK number, place, what happened,
an optional contact) against the limits below and refuses a personal number (BSN, V-number,
IBAN) instead of storing it; `receive` matches the employer (KvK number exactly, else the
name as normalised by `name_key`), puts the signal unverified in that employer's open case
(opened as a flag would open it, `cases.case_for_employer`), or in a case of its own when no
employer matches, and audits `signal.received` without its content. Nothing else is kept:
not the sender's address, not their browser. Employers never see a signal.

When an employer registers, `link_to_employer` (called by `employers.service.create_employer`,
the one place employers are made) gives it the open cases of its own that signals opened
about it: by its KvK number, or by its name when no KvK number was reported and no other
employer has that name. The oldest becomes its case (or its open case, if it has one, takes
them in); the others' signals and notes move into it and they are closed as merged (audited).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, update
from sqlalchemy import case as sql_case
from sqlmodel import Session, col, select

from meldplicht.audit import service as audit
from meldplicht.core.clock import utcnow
from meldplicht.core.errors import Conflict, NotFound
from meldplicht.core.security import Principal
from meldplicht.core.validation import text_problem
from meldplicht.employers.models import Employer
from meldplicht.inspection import cases
from meldplicht.inspection.models import (
    Case,
    CaseNote,
    CaseOutcome,
    CaseStatus,
    Signal,
    SignalSource,
    SignalStatus,
)
from meldplicht.inspection.workflow import Staff
from meldplicht.rules.identifiers import is_valid_kvk, personal_numbers

# The limits of one signal (characters), the same on the page and in the API.
MAX_LENGTH: dict[str, int] = {
    "employer_name": 200,
    "kvk_number": 20,  # as typed, with spaces or dots; eight digits once compacted
    "place": 100,
    "what_happened": 4000,
    "contact": 200,
}
FIELDS = tuple(MAX_LENGTH)
# The largest request body the signal form and API read (bytes; the fields above, in UTF-8,
# with room for JSON or form encoding).
MAX_BODY_BYTES = 32 * 1024
SIGNAL_LANGUAGES = ("uk", "en", "nl")
# Where signals arrive: the partner API and the worker page's form (body limit, no API key).
API_PATH = "/api/v1/signals"
PAGE_PATH = "/worker/signal"
SIGNAL_PATHS = (API_PATH, PAGE_PATH)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Legal forms that say nothing about which employer is meant.
_LEGAL_FORMS = frozenset({"bv", "nv", "vof", "cv", "eenmanszaak"})


@dataclass(frozen=True, slots=True)
class SignalProblem:
    """One thing wrong with what was sent: the field, a code (the text is the caller's)."""

    field: str
    code: str
    max: int = 0


@dataclass(frozen=True, slots=True)
class SignalIn:
    employer_name: str | None
    kvk_number: str | None
    place: str
    what_happened: str
    contact: str | None


def _clean(value: str) -> str:
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n"))
    return _CONTROL.sub("", value).strip()


def check(raw: dict[str, str | None]) -> tuple[SignalIn | None, list[SignalProblem]]:
    """What was sent, cleaned, or every problem with it (all at once)."""
    values = {name: _clean(raw.get(name) or "") for name in FIELDS}
    problems: list[SignalProblem] = []
    for name, limit in MAX_LENGTH.items():
        if len(values[name]) > limit:
            problems.append(SignalProblem(name, "too_long", limit))
    kvk = re.sub(r"[\s.\-]", "", values["kvk_number"])
    if values["kvk_number"] and not is_valid_kvk(kvk):
        problems.append(SignalProblem("kvk_number", "invalid_kvk"))
    if not values["employer_name"] and not values["kvk_number"]:
        problems.append(SignalProblem("employer_name", "employer_required"))
    if not values["place"]:
        problems.append(SignalProblem("place", "place_required"))
    if not values["what_happened"]:
        problems.append(SignalProblem("what_happened", "what_happened_required"))
    for name in FIELDS:
        if not values[name]:
            continue
        spoof = text_problem(values[name])
        if spoof is not None:  # bidi overrides, zero-width characters, nothing visible
            problems.append(SignalProblem(name, spoof[0]))
        elif name != "kvk_number" and personal_numbers(values[name]):
            problems.append(SignalProblem(name, "personal_number"))
    if problems:
        return None, problems
    return (
        SignalIn(
            employer_name=values["employer_name"] or None,
            kvk_number=kvk or None,
            place=values["place"],
            what_happened=values["what_happened"],
            contact=values["contact"] or None,
        ),
        [],
    )


def name_key(name: str) -> str:
    """A name as compared: accents, case, punctuation and legal forms (B.V.) left out."""
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    plain = plain.replace(".", "")
    words = re.sub(r"[^\w]+|_", " ", plain).split()
    return " ".join(w for w in words if w not in _LEGAL_FORMS)


@dataclass(frozen=True, slots=True)
class Match:
    employer_id: uuid.UUID | None
    by: str  # kvk, name or none


def match_employer(session: Session, signal: SignalIn) -> Match:
    """The employer meant: the KvK number exactly, else one employer whose name matches (the
    place picks between several with that name); none when it stays unknown or ambiguous."""
    if signal.kvk_number:
        found = session.exec(
            select(Employer.id).where(Employer.kvk_number == signal.kvk_number)
        ).first()
        if found is not None:
            return Match(found, "kvk")
    if not signal.employer_name:
        return Match(None, "none")
    key = name_key(signal.employer_name)
    if not key:
        return Match(None, "none")
    longest = max(key.split(), key=len)
    candidates = [
        (employer_id, city)
        for employer_id, name, city in session.exec(
            select(Employer.id, Employer.name, Employer.city)
            .where(col(Employer.name).ilike(f"%{longest}%"))
            .order_by(col(Employer.kvk_number))
            .limit(200)
        )
        if name_key(name) == key
    ]
    if len(candidates) > 1:
        place = name_key(signal.place)
        candidates = [c for c in candidates if c[1] and name_key(c[1]) == place]
    if len(candidates) == 1:
        return Match(candidates[0][0], "name")
    return Match(None, "none")


def _actor(source: SignalSource) -> Principal:
    return Principal(role="public", actor_id=f"public:{source.value}", display_name="signal")


def receive(
    session: Session,
    signal: SignalIn,
    *,
    source: SignalSource,
    language: str | None,
    now: datetime | None = None,
) -> Signal:
    """Store a checked signal, unverified, in its case (audited without its content)."""
    now = now or utcnow()
    actor = _actor(source)
    found = match_employer(session, signal)
    if found.employer_id is not None:
        case_id = cases.case_for_employer(session, found.employer_id, actor, now)
    else:
        case_id = cases.case_for_unknown_employer(
            session,
            name=signal.employer_name,
            kvk_number=signal.kvk_number,
            name_key=name_key(signal.employer_name) if signal.employer_name else None,
            actor=actor,
            now=now,
        )
    row = Signal(
        case_id=case_id,
        employer_id=found.employer_id,
        matched_by=found.by,
        employer_name=signal.employer_name,
        kvk_number=signal.kvk_number,
        place=signal.place,
        what_happened=signal.what_happened,
        contact=signal.contact,
        language=language,
        source=source,
        status=SignalStatus.UNVERIFIED,
        received_at=now,
    )
    session.add(row)
    session.flush()
    _count(session, case_id, +1, now)
    audit.record(
        session,
        actor,
        "signal.received",
        "signal",
        row.id,
        {
            "case_id": str(case_id),
            "source": source.value,
            "language": language,
            "matched_by": found.by,
        },
    )
    return row


def _count(session: Session, case_id: uuid.UUID, delta: int, now: datetime) -> None:
    session.execute(
        update(Case)
        .where(col(Case.id) == case_id)
        .values(signals_unverified=col(Case.signals_unverified) + delta, updated_at=now)
    )
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Case) and obj.id == case_id:
            session.expire(obj)


def for_case(session: Session, case_id: uuid.UUID) -> list[Signal]:
    return list(
        session.exec(
            select(Signal)
            .where(Signal.case_id == case_id)
            .order_by(col(Signal.received_at), col(Signal.id))
        )
    )


class SignalNotFound(NotFound):
    code = "signal_not_found"
    title = "No such signal in this case"


class SignalAlreadyReviewed(Conflict):
    code = "signal_already_reviewed"
    title = "This signal has been reviewed already"


def review(
    session: Session,
    who: Staff,
    case_id: uuid.UUID,
    signal_id: uuid.UUID,
    verdict: SignalStatus,
    now: datetime | None = None,
) -> Signal:
    """unverified -> verified or unfounded, by an inspector (audited, without the content)."""
    now = now or utcnow()
    if verdict == SignalStatus.UNVERIFIED:
        raise ValueError("a review decides: verified or unfounded")
    row = session.exec(
        select(Signal).where(Signal.id == signal_id, Signal.case_id == case_id).with_for_update()
    ).first()
    if row is None:
        raise SignalNotFound("This case has no signal with this id.")
    if row.status != SignalStatus.UNVERIFIED:
        raise SignalAlreadyReviewed(f"This signal was marked {row.status} already.")
    row.status = verdict
    row.reviewed_at = now
    row.reviewed_by = who.user_id
    session.add(row)
    session.flush()
    _count(session, case_id, -1, now)
    details = {"key": who.key_prefix, "verdict": verdict.value}
    audit.record(
        session,
        who.actor,
        "signal.reviewed",
        "signal",
        row.id,
        {"case_id": str(case_id), **details},
    )
    audit.record(
        session,
        who.actor,
        "case.signal_reviewed",
        "case",
        case_id,
        {"signal_id": str(row.id), **details},
    )
    return row


# Who links the cases that signals opened to an employer once it is registered.
LINK_ACTOR = Principal(role="system", actor_id="system:signals", display_name="meldplicht")


def _only_employer_named(session: Session, key: str, employer_id: uuid.UUID) -> bool:
    longest = max(key.split(), key=len)
    named = [
        e
        for e, name in session.exec(
            select(Employer.id, Employer.name).where(col(Employer.name).ilike(f"%{longest}%"))
        )
        if name_key(name) == key
    ]
    return named == [employer_id]


def link_to_employer(
    session: Session, employer: Employer, now: datetime | None = None
) -> uuid.UUID | None:
    """Give a (newly registered) employer the open cases signals opened about it before it
    was known; returns the employer's case they went to, or None when there were none."""
    now = now or utcnow()
    key = name_key(employer.name)
    names = [col(Case.reported_kvk_number) == employer.kvk_number]
    if key and _only_employer_named(session, key, employer.id):
        names.append(
            and_(col(Case.reported_kvk_number).is_(None), col(Case.reported_name_key) == key)
        )
    orphans = list(
        session.exec(
            select(Case)
            .where(
                col(Case.employer_id).is_(None),
                col(Case.status) != CaseStatus.CLOSED,
                or_(*names),
            )
            .order_by(col(Case.opened_at), col(Case.id))
            .with_for_update()
        )
    )
    if not orphans:
        return None
    target_id = cases.open_case_of(session, employer.id)
    if target_id is None:
        first = orphans.pop(0)
        first.employer_id = employer.id
        first.sector = first.sector or employer.sector
        first.updated_at = now
        session.add(first)
        session.flush()
        matched = _move_signals(session, first.id, first.id, employer)
        audit.record(
            session,
            LINK_ACTOR,
            "case.employer_linked",
            "case",
            first.id,
            {"employer_id": str(employer.id), "signals": matched},
        )
        target_id = first.id
    target = session.get(Case, target_id)
    assert target is not None
    for orphan in orphans:
        _merge(session, orphan, target, employer, now)
    cases.refresh(session, [target_id], now)
    return target_id


def _move_signals(
    session: Session, from_case: uuid.UUID, to_case: uuid.UUID, employer: Employer
) -> int:
    """The signals of a case into another (or the same), now about the employer; each is
    marked matched by the KvK number when it named that number, else by the name."""
    result = session.execute(
        update(Signal)
        .where(col(Signal.case_id) == from_case)
        .values(
            case_id=to_case,
            employer_id=employer.id,
            matched_by=sql_case(
                (col(Signal.kvk_number) == employer.kvk_number, "kvk"), else_="name"
            ),
        )
        .execution_options(synchronize_session=False)
    )
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Signal):
            session.expire(obj)
    return int(getattr(result, "rowcount", 0) or 0)


def _merge(session: Session, orphan: Case, target: Case, employer: Employer, now: datetime) -> None:
    """Move an orphan case's signals and notes into the employer's case; close it as merged."""
    moved = _move_signals(session, orphan.id, target.id, employer)
    notes = session.execute(
        update(CaseNote)
        .where(col(CaseNote.case_id) == orphan.id)
        .values(case_id=target.id)
        .execution_options(synchronize_session=False)
    )
    unverified = orphan.signals_unverified
    orphan.signals_unverified = 0
    orphan.status = CaseStatus.CLOSED
    orphan.outcome = CaseOutcome.MERGED
    orphan.closing_note = (
        f"Samengevoegd met zaak {target.reference}: de werkgever is nu bekend "
        f"(Merged into case {target.reference}: the employer is now known)."
    )
    orphan.closed_at = now
    orphan.updated_at = now
    session.add(orphan)
    session.flush()
    if unverified:
        _count(session, target.id, unverified, now)
    details = {"employer_id": str(employer.id), "signals": moved}
    audit.record(
        session,
        LINK_ACTOR,
        "case.merged",
        "case",
        orphan.id,
        {
            "into_case_id": str(target.id),
            "notes": int(getattr(notes, "rowcount", 0) or 0),
            **details,
        },
    )
    audit.record(
        session,
        LINK_ACTOR,
        "case.signals_joined",
        "case",
        target.id,
        {"from_case_id": str(orphan.id), **details},
    )
