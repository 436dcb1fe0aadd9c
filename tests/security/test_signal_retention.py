"""Retention of signals from outside: the contact goes 6 months after the case was closed, the
text from 1 January of the sixth year after; audited without the content; open cases keep all."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from meldplicht.audit.models import AuditEvent
from meldplicht.inspection import signals
from meldplicht.inspection.models import Case, CaseStatus, Signal, SignalSource
from meldplicht.inspection.signals import SignalIn
from meldplicht.privacy.retention import RetentionSettings, months_before, purge

AS_OF = date(2027, 7, 1)
CONTACT = "olena@example.org, +31 6 1234 5678"
WHAT = "Olena en haar broer krijgen 8 euro per uur, contant."
SETTINGS = RetentionSettings(_env_file=None)  # type: ignore[call-arg]


def _signal_in_case(
    session: Session, kvk: str, closed_at: datetime | None, contact: str | None = CONTACT
) -> uuid.UUID:
    """A signal about an employer not registered here (a case of its own), closed then."""
    row = signals.receive(
        session,
        SignalIn(
            employer_name=f"Werkgever {kvk}",
            kvk_number=kvk,
            place="Naaldwijk",
            what_happened=WHAT,
            contact=contact,
        ),
        source=SignalSource.WORKER_PAGE,
        language="uk",
        now=datetime(2020, 3, 1, 9, tzinfo=UTC),
    )
    if closed_at is not None:
        session.execute(
            update(Case)
            .where(col(Case.id) == row.case_id)
            .values(status=CaseStatus.CLOSED, outcome="no_violation", closed_at=closed_at)
        )
    session.flush()
    return row.id


def _stored(session: Session, signal_id: uuid.UUID) -> tuple[str | None, str]:
    session.expire_all()
    row = session.get(Signal, signal_id)
    assert row is not None
    return row.contact, row.what_happened


def test_months_before_keeps_the_day_or_takes_the_months_last() -> None:
    assert months_before(date(2027, 7, 1), 6) == date(2027, 1, 1)
    assert months_before(date(2027, 8, 31), 6) == date(2027, 2, 28)
    assert months_before(date(2028, 8, 31), 6) == date(2028, 2, 29)
    assert months_before(date(2027, 3, 15), 15) == date(2025, 12, 15)


def test_old_contact_and_text_are_erased_recent_and_open_kept_and_audited(
    session: Session,
) -> None:
    # Closed 2026-12-31: more than 6 months before 2027-07-01, well within five years.
    contact_due = _signal_in_case(session, "11111110", datetime(2026, 12, 31, 12, tzinfo=UTC))
    # Closed 2027-01-02: not yet 6 months ago.
    recent = _signal_in_case(session, "22222220", datetime(2027, 1, 2, 12, tzinfo=UTC))
    # Closed in 2021: from 1 January 2027 the text goes too (5 years after 2021).
    text_due = _signal_in_case(session, "33333330", datetime(2021, 6, 1, 12, tzinfo=UTC))
    # Closed in 2022: its text is kept through 2027.
    text_kept = _signal_in_case(session, "44444440", datetime(2022, 1, 3, 12, tzinfo=UTC))
    still_open = _signal_in_case(session, "55555550", None)

    counts = purge(session, AS_OF, settings=SETTINGS)

    assert _stored(session, contact_due) == (None, WHAT)
    assert _stored(session, recent) == (CONTACT, WHAT)
    assert _stored(session, text_due) == (None, "")
    assert _stored(session, text_kept) == (None, WHAT)
    assert _stored(session, still_open) == (CONTACT, WHAT)
    assert (counts.signal_contacts, counts.signal_texts) == (3, 1)

    events = list(session.exec(select(AuditEvent).where(AuditEvent.action == "signal.erased")))
    erased = sorted((e.subject_id, e.details["erased"]) for e in events)
    assert erased == sorted(
        [
            (str(contact_due), ["contact"]),
            (str(text_due), ["contact"]),  # the contact first, then the text
            (str(text_due), ["what_happened"]),
            (str(text_kept), ["contact"]),
        ]
    )
    assert all(e.actor_id == "system:retention" for e in events)
    summary = session.exec(select(AuditEvent).where(AuditEvent.action == "retention.purged")).one()
    assert (summary.details["signal_contacts"], summary.details["signal_texts"]) == (3, 1)
    for event in [*events, summary]:
        assert "olena" not in str(event.details).lower()
        assert "8 euro" not in str(event.details)

    # Idempotent: nothing more to erase, nothing more audited.
    again = purge(session, AS_OF, settings=SETTINGS)
    assert (again.signal_contacts, again.signal_texts) == (0, 0)
    erasures = select(AuditEvent).where(AuditEvent.action == "signal.erased")
    assert len(list(session.exec(erasures))) == 4


def test_the_contact_goes_no_later_than_the_text(session: Session) -> None:
    long_contact = RetentionSettings(signal_contact_months=120, _env_file=None)  # type: ignore[call-arg]
    old = _signal_in_case(session, "33333330", datetime(2021, 6, 1, 12, tzinfo=UTC))
    recent = _signal_in_case(session, "22222220", datetime(2026, 1, 2, 12, tzinfo=UTC))
    purge(session, AS_OF, settings=long_contact)
    assert _stored(session, old) == (None, "")
    assert _stored(session, recent) == (CONTACT, WHAT)
