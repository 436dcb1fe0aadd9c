"""Enrichment from a local KvK register and the register checks as flags (SQLite + PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from meldplicht.core.config import Settings
from meldplicht.flags.models import Flag, FlagStatus, SubjectType
from meldplicht.registers.kvk import KvkClient, LookupStatus, OfflineRegister
from meldplicht.registers.service import check_employer, enrich_employer, refresh_registers
from tests.conftest import EmployerWithKey, make_employer
from tests.payroll.helpers import notify
from tests.registers import kvk_server as srv

NOW = datetime(2025, 6, 30, 8, 0, tzinfo=UTC)
AS_OF = date(2025, 6, 30)


@pytest.fixture
def kvk() -> Iterator[tuple[KvkClient, srv.Register]]:
    with srv.kvk_server() as (base, register):
        client = KvkClient(base, timeout=0.3, backoff=0.01)
        yield client, register
        client.close()


def flags(session: Session, employer_id: object) -> dict[str, Flag]:
    rows = session.exec(
        select(Flag).where(
            Flag.subject_type == SubjectType.EMPLOYER, Flag.employer_id == employer_id
        )
    )
    return {f.rule_code: f for f in rows}


def test_enrichment_stores_the_register_answer(
    session: Session, kvk: tuple[KvkClient, srv.Register]
) -> None:
    client, _ = kvk
    e = make_employer(session, "12345670", "Voorbeeld B.V.").employer
    e.sbi_code = None
    e.sector = None
    lookup = enrich_employer(session, e, client, now=NOW)
    assert lookup.status is LookupStatus.FOUND
    assert e.register_status == "found"
    assert e.registered_on == date(2019, 4, 1)  # the earlier of registration and start
    assert e.register_active is True
    assert e.register_sbi_codes == ["78201"]
    assert e.sbi_code == "78201"
    assert e.sector == "Uitzendbureaus / temporary employment agencies"
    assert e.register_checked_at == NOW


def test_failed_lookup_keeps_the_last_answer_and_flags(
    session: Session, kvk: tuple[KvkClient, srv.Register]
) -> None:
    client, _ = kvk
    e = make_employer(session, srv.NOT_FOUND).employer
    enrich_employer(session, e, client, now=NOW)
    check_employer(session, e, AS_OF, now=NOW)
    assert set(flags(session, e.id)) == {"EMPLOYER_NOT_IN_REGISTER"}
    # The register goes down: the look-up fails, nothing is stored, the flag stays open.
    down = KvkClient("http://127.0.0.1:9", timeout=0.2, backoff=0.0, attempts=1)
    lookup = enrich_employer(session, e, down, now=NOW)
    assert lookup.status is LookupStatus.FAILED
    assert down.counters.failed == 1
    assert e.register_status == "not_found"
    check_employer(session, e, AS_OF, now=NOW)
    assert flags(session, e.id)["EMPLOYER_NOT_IN_REGISTER"].status == FlagStatus.OPEN


def test_refresh_flags_agencies_and_ended_employers(
    session: Session, settings: Settings, kvk: tuple[KvkClient, srv.Register]
) -> None:
    client, register = kvk
    agency = make_employer(session, srv.NOT_A_LENDER, "Flex B.V.").employer
    agency.is_staffing_agency = True
    ended = make_employer(session, srv.ENDED, "Gestopt B.V.").employer
    broken = make_employer(session, srv.ALWAYS_500, "Storing B.V.").employer
    fine = make_employer(session, "12345670", "Goed B.V.").employer
    fine.is_staffing_agency = True
    notify(
        session,
        settings,
        ended,
        bsn="111222333",
        received=date(2025, 1, 20),
        start=date(2025, 2, 3),
    )
    counts = refresh_registers(session, client, AS_OF, now=NOW, batch_size=2)
    assert counts.errors == 0
    assert counts.lookups == {"found": 3, "failed": 1}
    assert counts.cursor is None
    assert set(flags(session, agency.id)) == {"AGENCY_NOT_REGISTERED_AS_LENDER"}
    assert set(flags(session, ended.id)) == {"EMPLOYER_INACTIVE"}
    assert flags(session, broken.id) == {}
    assert broken.register_checked_at is None
    assert flags(session, fine.id) == {}
    # Answers younger than 30 days are not asked again.
    asked = len(register.requests)
    stamps = {
        code: flag.updated_at
        for employer in (agency, ended)
        for code, flag in flags(session, employer.id).items()
    }
    again = refresh_registers(session, client, AS_OF, now=NOW + timedelta(hours=1))
    assert len(register.requests) == asked + 3  # only the failing one, with its retries
    # The verdicts are the same: the flags are confirmed, not rewritten.
    assert again.refreshed == 2
    session.expire_all()
    assert {
        code: flag.updated_at
        for employer in (agency, ended)
        for code, flag in flags(session, employer.id).items()
    } == stamps


def valid_bsns(count: int) -> list[str]:
    """Nine-digit numbers passing the 11-test (weights 9..2 and -1)."""
    found: list[str] = []
    n = 100000000
    while len(found) < count:
        n += 7
        digits = [int(c) for c in str(n)]
        total = sum(d * w for d, w in zip(digits, [9, 8, 7, 6, 5, 4, 3, 2, -1], strict=True))
        if total % 11 == 0:
            found.append(str(n))
    return found


def test_new_employer_many_notices(
    session: Session, settings: Settings, kvk: tuple[KvkClient, srv.Register]
) -> None:
    client, _ = kvk
    e = make_employer(session, "12345670").employer
    enrich_employer(session, e, client, now=NOW)
    e.registered_on = date(2025, 3, 1)  # as if registered four months before
    bsns = valid_bsns(10)
    for bsn in bsns[:9]:
        notify(session, settings, e, bsn=bsn, received=date(2025, 5, 5), start=date(2025, 5, 19))
    check_employer(session, e, AS_OF, now=NOW)
    assert flags(session, e.id) == {}  # 9 < threshold 10
    notify(session, settings, e, bsn=bsns[9], received=date(2025, 5, 6), start=date(2025, 5, 19))
    check_employer(session, e, AS_OF, now=NOW)
    flag = flags(session, e.id)["NEW_EMPLOYER_MANY_NOTICES"]
    assert "notified 10 different workers in the last 90 days" in flag.message_en
    assert flag.workers_affected == 10


def test_offline_register_changes_nothing(session: Session, employer: EmployerWithKey) -> None:
    counts = refresh_registers(session, OfflineRegister(), AS_OF, now=NOW)
    assert counts.lookups == {"offline": counts.looked_up}
    assert employer.employer.register_checked_at is None
    assert session.exec(select(Flag)).all() == []
