"""Signals about an employer not yet registered: when it registers, their cases become its case.

On both databases: the oldest such case becomes the employer's case, a second is merged into
it (signals and notes moved, closed as merged, audited without the content); an employer
with an open case takes them in; a name shared with another employer links nothing.
"""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from meldplicht.audit.models import AuditEvent
from meldplicht.core.clock import utcnow
from meldplicht.core.security import Principal
from meldplicht.inspection import cases, signals
from meldplicht.inspection.models import (
    Case,
    CaseNote,
    CaseOutcome,
    CaseStatus,
    Signal,
    SignalSource,
)
from meldplicht.inspection.signals import SignalIn
from tests.conftest import make_employer
from tests.inspection.conftest import StaffWithKey

WHAT = "We krijgen 8 euro per uur, contant."
CONTACT = "olena@example.org"
ACTOR = Principal(role="system", actor_id="test:signals", display_name="test")


def _signal(session: Session, name: str | None, kvk: str | None) -> Signal:
    return signals.receive(
        session,
        SignalIn(
            employer_name=name,
            kvk_number=kvk,
            place="Naaldwijk",
            what_happened=WHAT,
            contact=CONTACT,
        ),
        source=SignalSource.WORKER_PAGE,
        language="uk",
    )


def _audits(session: Session, action: str, case_id: uuid.UUID) -> list[AuditEvent]:
    return list(
        session.exec(
            select(AuditEvent).where(
                AuditEvent.action == action, AuditEvent.subject_id == str(case_id)
            )
        )
    )


def test_registering_makes_the_signal_case_its_case_and_merges_a_second(
    session: Session,
) -> None:
    by_kvk = _signal(session, "Tuin B.V.", "12345678")
    by_name = _signal(session, "Kwekerij De Tuin", None)
    first, second = by_kvk.case_id, by_name.case_id
    assert first != second  # two cases of their own: different names, one without KvK
    session.add(CaseNote(case_id=second, author_id="u", author_name="U", body="bellen"))
    session.flush()

    employer = make_employer(session, "12345678", "Kwekerij De Tuin B.V.").employer

    session.expire_all()
    case = session.get(Case, first)
    merged = session.get(Case, second)
    assert case is not None
    assert merged is not None
    assert (case.employer_id, case.status, case.signals_unverified) == (
        employer.id,
        CaseStatus.OPEN,
        2,
    )
    assert case.reported_kvk_number == "12345678"  # what was reported stays on the file
    assert case.condition_since is not None  # its figures computed
    assert (merged.status, merged.outcome, merged.signals_unverified) == (
        CaseStatus.CLOSED,
        CaseOutcome.MERGED,
        0,
    )
    assert merged.closing_note is not None
    assert case.reference in merged.closing_note
    assert merged.employer_id is None
    moved = {s.id: s for s in session.exec(select(Signal))}
    assert {s.case_id for s in moved.values()} == {first}
    assert {s.employer_id for s in moved.values()} == {employer.id}
    assert moved[by_kvk.id].matched_by == "kvk"
    assert moved[by_name.id].matched_by == "name"
    note = session.exec(select(CaseNote)).one()
    assert note.case_id == first

    linked = _audits(session, "case.employer_linked", first)
    assert [e.details["employer_id"] for e in linked] == [str(employer.id)]
    [merge] = _audits(session, "case.merged", second)
    assert merge.actor_id == "system:signals"
    assert merge.details["into_case_id"] == str(first)
    assert (merge.details["signals"], merge.details["notes"]) == (1, 1)
    assert len(_audits(session, "case.signals_joined", first)) == 1
    for event in [*linked, merge]:
        text = str(event.details)
        assert WHAT not in text
        assert CONTACT not in text

    # The employer's later flags and signals go to that case.
    assert cases.case_for_employer(session, employer.id, ACTOR, utcnow()) == first
    assert _signal(session, None, "12345678").case_id == first


def test_an_employer_with_an_open_case_takes_the_signal_case_in(session: Session) -> None:
    employer = make_employer(session, "12345678", "Kwekerij De Tuin B.V.").employer
    own = cases.case_for_employer(session, employer.id, ACTOR, utcnow())
    # A case of its own about the same KvK number (from before the number was known here).
    orphan = cases.case_for_unknown_employer(
        session,
        name="De Tuin",
        kvk_number="12345678",
        name_key="tuin",
        actor=ACTOR,
        now=utcnow(),
    )
    session.add(
        Signal(
            case_id=orphan,
            matched_by="none",
            employer_name="De Tuin",
            kvk_number="12345678",
            place="Naaldwijk",
            what_happened=WHAT,
            source=SignalSource.PARTNER,
        )
    )
    session.execute(
        Case.__table__.update()  # type: ignore[attr-defined]
        .where(Case.__table__.c.id == orphan)  # type: ignore[attr-defined]
        .values(signals_unverified=1)
    )
    session.flush()

    assert signals.link_to_employer(session, employer) == own

    session.expire_all()
    target, closed = session.get(Case, own), session.get(Case, orphan)
    assert target is not None
    assert closed is not None
    assert (target.signals_unverified, closed.status, closed.outcome) == (
        1,
        CaseStatus.CLOSED,
        CaseOutcome.MERGED,
    )
    assert session.exec(select(Signal.case_id)).all() == [own]
    assert _audits(session, "case.employer_linked", orphan) == []


def test_a_name_shared_by_another_employer_or_another_kvk_links_nothing(
    session: Session,
) -> None:
    other_kvk = _signal(session, "Schoonmaak Snel", "87654321").case_id
    make_employer(session, "11111110", "Schoonmaak Snel B.V.")  # the name, another KvK number
    make_employer(session, "22222220", "Glas en Zo B.V.")
    make_employer(session, "33333330", "Glas en Zo")
    ambiguous = _signal(session, "Glas en Zo", None).case_id  # two employers by that name
    make_employer(session, "44444440", "Glas en Zo V.O.F.")  # a third: still not one

    session.expire_all()
    rows = session.exec(
        select(Case.id, Case.employer_id, Case.status).where(
            col(Case.id).in_([other_kvk, ambiguous])
        )
    ).all()
    assert sorted((r[1], r[2]) for r in rows) == [(None, CaseStatus.OPEN)] * 2


def test_no_person_closes_a_case_as_merged(
    api: TestClient, inspector: StaffWithKey, session: Session
) -> None:
    case_id = _signal(session, "Tuin B.V.", "12345678").case_id
    assert api.post(f"/api/v1/cases/{case_id}/claim", headers=inspector.headers).status_code == 200
    refused = api.post(
        f"/api/v1/cases/{case_id}/close",
        json={"outcome": "merged", "note": "Zelf samengevoegd."},
        headers=inspector.headers,
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["code"] == "outcome_not_allowed"
    session.expire_all()
    case = session.get(Case, case_id)
    assert case is not None
    assert case.status == CaseStatus.CLAIMED
