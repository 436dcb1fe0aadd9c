"""Retention: past the legal term notifications are anonymised and payroll records deleted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from meldplicht.audit.models import AuditEvent
from meldplicht.core.clock import utcnow
from meldplicht.core.config import Settings
from meldplicht.core.crypto import cipher_for
from meldplicht.core.idempotency import IdempotencyRecord
from meldplicht.flags.models import Flag, FlagSource, SubjectType
from meldplicht.flags.sync import Subject, sync_flags
from meldplicht.notifications.models import Notification, NotificationVersion, Worker
from meldplicht.payroll.models import PayrollRecord
from meldplicht.privacy.retention import (
    ANONYMISED_PREFIX,
    RetentionSettings,
    cutoff,
    purge,
    scrub,
)
from meldplicht.rules.facts import Finding, Severity
from tests.conftest import EmployerWithKey
from tests.payroll.helpers import deliver, month, notify, row
from tests.security.conftest import Actor, client_as

OLD_BSN = "999996356"
CURRENT_BSN = "999993653"
BOTH_BSN = "999990019"  # an old notice and a current one at the same employer


def _age(session: Session, notification: Notification, on: date) -> None:
    """The service stamps updated_at with now; an old notice was last touched back then."""
    notification.updated_at = datetime(on.year, on.month, on.day, 12, tzinfo=UTC)
    session.add(notification)
    session.flush()


@pytest.fixture
def world(session: Session, settings: Settings, employer: EmployerWithKey) -> dict[str, object]:
    e = employer.employer
    # Late (received on the start day), so intake raises a flag carrying the person's hash.
    old = notify(
        session,
        settings,
        e,
        bsn=OLD_BSN,
        received=date(2022, 4, 1),
        start=date(2022, 4, 1),
        end=date(2022, 6, 30),
    )
    _age(session, old, date(2022, 4, 1))
    _flag(session, old)
    both_old = notify(
        session,
        settings,
        e,
        bsn=BOTH_BSN,
        received=date(2022, 4, 2),
        start=date(2022, 4, 15),
        end=date(2022, 6, 30),
    )
    _age(session, both_old, date(2022, 4, 2))
    start = utcnow().date() + timedelta(days=40)
    current = notify(session, settings, e, bsn=CURRENT_BSN, received=utcnow().date(), start=start)
    both_new = notify(session, settings, e, bsn=BOTH_BSN, received=utcnow().date(), start=start)
    deliver(session, settings, [row(OLD_BSN, *month(2022, 5), "152", "2508.00")])
    deliver(session, settings, [row(CURRENT_BSN, *month(2025, 3), "152", "2508.00")])
    session.add(
        IdempotencyRecord(
            owner="k",
            key="old",
            request_hash="h",
            status_code=201,
            response={"worker": {"surname": "Kovalenko"}},
            created_at=datetime(2027, 10, 1, tzinfo=UTC),
        )
    )
    session.add(
        IdempotencyRecord(
            owner="k",
            key="new",
            request_hash="h",
            status_code=201,
            created_at=datetime(2027, 12, 20, tzinfo=UTC),
        )
    )
    session.flush()
    return {"old": old, "both_old": both_old, "current": current, "both_new": both_new}


def _flag(session: Session, notification: Notification) -> None:
    """A flag about the notice, as intake or the sweep would raise one."""
    worker = session.get(Worker, notification.worker_id)
    assert worker is not None
    finding = Finding(
        code="LATE_NOTICE",
        severity=Severity.MEDIUM,
        rule_version="1.0.0",
        legal_basis="Besluit uitvoering Wav 2022 art. 6.5",
        message_nl="te laat",
        message_en="late",
        evidence={"days_late": 3},
    )
    sync_flags(
        session,
        Subject(
            type=SubjectType.NOTIFICATION,
            id=str(notification.id),
            employer_id=notification.employer_id,
            notification_id=notification.id,
            person_hash=worker.bsn_hash,
        ),
        [finding],
        scope={"LATE_NOTICE"},
        source=FlagSource.SWEEP,
        as_of=date(2022, 4, 1),
    )


def _audit_count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(AuditEvent)).one())


def test_cutoff_runs_from_the_end_of_the_calendar_year() -> None:
    # Work ended 2022-06-30: kept through 2027-12-31, gone from 2028-01-01 (5 years).
    assert cutoff(date(2027, 12, 31), 5) == date(2022, 1, 1)
    assert cutoff(date(2028, 1, 1), 5) == date(2023, 1, 1)
    with pytest.raises(ValueError, match="greater than or equal to 5"):
        RetentionSettings(retention_years=4, _env_file=None)  # type: ignore[call-arg]


def test_nothing_is_purged_within_the_term(
    session: Session, settings: Settings, world: dict[str, object]
) -> None:
    counts = purge(session, date(2027, 12, 31), 10, cipher=cipher_for(settings))
    assert counts.notifications == 0
    assert counts.workers == 0
    assert counts.payroll_records == 0


def test_purge_anonymises_past_the_term_and_keeps_the_rest(
    session: Session,
    settings: Settings,
    world: dict[str, object],
    api: TestClient,
    actors: dict[str, Actor],
    employer: EmployerWithKey,
) -> None:
    cipher = cipher_for(settings)
    audit_before = _audit_count(session)
    old = world["old"]
    assert isinstance(old, Notification)
    flags_before = session.exec(select(Flag).where(Flag.notification_id == old.id)).all()
    assert flags_before, "the late notice should have raised a flag"
    outcomes = {f.id: (f.rule_code, f.status) for f in flags_before}

    counts = purge(session, date(2028, 1, 1), batch_size=1, cipher=cipher)
    assert counts.notifications == 2
    assert counts.workers == 1  # the person with a current notice keeps their worker row
    assert counts.payroll_records == 1
    assert counts.flags_unlinked >= 1
    assert counts.idempotency_records == 1
    session.expire_all()

    n = session.get(Notification, old.id)
    assert n is not None
    assert n.signatory_name == ""
    assert n.job_title  # aggregate fields stay
    assert n.wage_amount > 0
    worker = session.get(Worker, n.worker_id)
    assert worker is not None
    assert (worker.given_names, worker.surname, worker.bsn_last3) == ("", "", "")
    assert worker.bsn_hash.startswith(ANONYMISED_PREFIX)
    assert worker.birth_date == date(1995, 1, 1)
    assert worker.document_number_encrypted is None
    assert cipher.decrypt(worker.bsn_encrypted) == ""
    for version in session.exec(
        select(NotificationVersion).where(NotificationVersion.notification_id == old.id)
    ):
        assert "Kovalenko" not in str(version.declaration)
        assert "Jan de Vries" not in str(version.declaration)
        assert version.declaration["job_title"]
    # Flags keep their outcome; the link to the person is gone.
    for flag in session.exec(select(Flag).where(Flag.notification_id == old.id)):
        assert flag.person_hash is None
        assert (flag.rule_code, flag.status) == outcomes[flag.id]

    both_new = world["both_new"]
    assert isinstance(both_new, Notification)
    kept = session.get(Worker, both_new.worker_id)
    assert kept is not None
    assert kept.surname == "Kovalenko"
    assert kept.bsn_hash == cipher.keyed_hash(BOTH_BSN)
    assert session.get(Notification, both_new.id).signatory_name  # type: ignore[union-attr]
    hashes = set(session.exec(select(PayrollRecord.bsn_hash)))
    assert hashes == {cipher.keyed_hash(CURRENT_BSN)}
    assert session.exec(select(IdempotencyRecord.key)).all() == ["new"]

    # Audit entries are never removed; the purge adds its own.
    assert _audit_count(session) == audit_before + 1
    purged = session.exec(select(AuditEvent).where(AuditEvent.action == "retention.purged")).one()
    assert purged.details["notifications"] == 2

    # Idempotent: a second run finds nothing.
    again = purge(session, date(2028, 1, 1), batch_size=1, cipher=cipher)
    assert not any(again.as_dict().values())

    # Readers keep working on anonymised rows.
    employer_client = client_as(api, settings, actors["employer"])
    listing = api.get("/api/v1/notifications", headers=employer.headers)
    assert listing.status_code == 200
    supervisor = client_as(api, settings, actors["supervisor"])
    for flag in flags_before:
        view = supervisor.get(
            f"/api/v1/inspection/flags/{flag.id}/personal-data", params={"reason": "audit"}
        )
        assert view.status_code < 500, view.text
        assert OLD_BSN not in view.text
    gone = supervisor.post("/api/v1/privacy/subjects", json={"bsn": OLD_BSN, "reason": "check"})
    assert gone.status_code == 200
    assert gone.json()["workers"] == []
    assert gone.json()["payroll_records"] == []
    assert employer_client is supervisor  # one client, switched between roles


def test_scrub_drops_personal_keys_at_any_depth() -> None:
    stored = {
        "worker": {"surname": "K", "nationality": "UKR", "bsn_masked": "******333"},
        "declaration": {"signatory_name": "J", "truthful": True},
        "worker.given_names": {"from": "A", "to": "B"},
        "list": [{"address": "x", "postcode": "2671 AB"}],
    }
    assert scrub(stored) == {
        "worker": {"nationality": "UKR"},
        "declaration": {"truthful": True},
        "list": [{"postcode": "2671 AB"}],
    }


def test_batches_cover_everything(
    session: Session, settings: Settings, employer: EmployerWithKey
) -> None:
    for i, bsn in enumerate(["999996356", "999993653", "999990019", "200000044"]):
        n = notify(
            session,
            settings,
            employer.employer,
            bsn=bsn,
            received=date(2022, 4, 2 + i),
            start=date(2022, 5, 2),
            end=date(2022, 6, 30),
        )
        _age(session, n, date(2022, 4, 2))
    counts = purge(session, date(2028, 1, 1), batch_size=3, cipher=cipher_for(settings))
    assert counts.notifications == 4
    assert counts.workers == 4
    left = session.exec(
        select(func.count())
        .select_from(Worker)
        .where(~col(Worker.bsn_hash).startswith(ANONYMISED_PREFIX))
    ).one()
    assert left == 0
