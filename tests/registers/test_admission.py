"""LENDER_NOT_ADMITTED as employer flags, from a local admission register (SQLite + PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from meldplicht.core.config import Settings
from meldplicht.employers.models import Employer
from meldplicht.flags.models import Flag, FlagStatus, SubjectType
from meldplicht.registers.admission import check_lender, refresh_admissions
from meldplicht.registers.nau import NauClient, OfflineAdmissionRegister
from meldplicht.sweeps.sweep import SweepStatus, run_sweep
from tests.conftest import make_employer
from tests.payroll.helpers import notify
from tests.registers import nau_server as srv
from tests.sweeps.conftest import SweepDb, add_employer, body_for, sweep_db, sweep_template
from tests.sweeps.conftest import notify as sweep_notify

__all__ = ["sweep_db", "sweep_template"]  # fixtures used here

NOW = datetime(2027, 8, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def nau() -> Iterator[tuple[NauClient, srv.Register]]:
    with srv.nau_server() as (base, register):
        client = NauClient(base, timeout=0.3, backoff=0.01, cache_seconds=0)
        yield client, register
        client.close()


def flags(session: Session, employer_id: object) -> dict[str, Flag]:
    rows = session.exec(
        select(Flag).where(
            Flag.subject_type == SubjectType.EMPLOYER, Flag.employer_id == employer_id
        )
    )
    return {f.rule_code: f for f in rows}


def agency(session: Session, settings: Settings, kvk: str, name: str) -> Employer:
    employer = make_employer(session, kvk, name).employer
    employer.is_staffing_agency = True
    notify(
        session,
        settings,
        employer,
        bsn="111222333",
        received=date(2027, 6, 1),
        start=date(2027, 6, 14),
    )
    return employer


def test_unlisted_lender_low_in_2027_high_from_2028(
    session: Session, settings: Settings, nau: tuple[NauClient, srv.Register]
) -> None:
    client, _ = nau
    unlisted = agency(session, settings, srv.NOT_FOUND, "Flex Onbekend B.V.")
    admitted = agency(session, settings, "12345670", "Flex Toegelaten B.V.")
    counts = refresh_admissions(session, client, date(2027, 8, 2), now=NOW)
    assert counts.errors == 0
    assert counts.opened == 1
    flag = flags(session, unlisted.id)["LENDER_NOT_ADMITTED"]
    assert flag.severity == "low"
    assert "from 1 January 2028 lending without admission" in flag.message_en
    assert flags(session, admitted.id) == {}
    refresh_admissions(session, client, date(2028, 1, 3), now=NOW)
    flag = flags(session, unlisted.id)["LENDER_NOT_ADMITTED"]
    assert flag.status == FlagStatus.OPEN
    assert flag.severity == "high"
    assert "Since 1 January 2028" in flag.message_en


def test_no_lookup_before_the_register_is_online(
    session: Session, settings: Settings, nau: tuple[NauClient, srv.Register]
) -> None:
    client, register = nau
    agency(session, settings, srv.NOT_FOUND, "Flex Vroeg B.V.")
    refresh_admissions(session, client, date(2027, 6, 30), now=NOW)
    assert register.requests == []


def test_failed_or_offline_lookup_keeps_the_flag(
    session: Session, settings: Settings, nau: tuple[NauClient, srv.Register]
) -> None:
    client, _ = nau
    lender = agency(session, settings, srv.REVOKED, "Flex Ingetrokken B.V.")
    check_lender(session, lender, client, date(2028, 2, 1), now=NOW)
    assert flags(session, lender.id)["LENDER_NOT_ADMITTED"].status == FlagStatus.OPEN
    down = NauClient("http://127.0.0.1:9", timeout=0.2, backoff=0.0, attempts=1)
    check_lender(session, lender, down, date(2028, 2, 2), now=NOW)
    check_lender(session, lender, OfflineAdmissionRegister(), date(2028, 2, 3), now=NOW)
    assert flags(session, lender.id)["LENDER_NOT_ADMITTED"].status == FlagStatus.OPEN
    down.close()


def test_employer_that_does_not_lend_is_not_asked(
    session: Session, settings: Settings, nau: tuple[NauClient, srv.Register]
) -> None:
    client, register = nau
    grower = make_employer(session, srv.NOT_FOUND, "Kwekerij B.V.").employer
    notify(
        session,
        settings,
        grower,
        bsn="111222333",
        received=date(2027, 6, 1),
        start=date(2027, 6, 14),
    )
    refresh_admissions(session, client, date(2028, 1, 3), now=NOW)
    assert register.requests == []
    assert flags(session, grower.id) == {}


def test_refresh_is_resumable_by_cursor(
    session: Session, settings: Settings, nau: tuple[NauClient, srv.Register]
) -> None:
    client, _ = nau
    agency(session, settings, srv.NOT_FOUND, "Flex Een B.V.")
    agency(session, settings, srv.REVOKED, "Flex Twee B.V.")
    first = refresh_admissions(session, client, date(2028, 1, 3), batch_size=1, max_batches=1)
    assert first.cursor is not None
    assert first.employers == 1
    rest = refresh_admissions(session, client, date(2028, 1, 3), cursor=first.cursor)
    assert rest.cursor is None
    assert first.opened + rest.opened == 2
    assert rest.as_dict()["admission_employers"] == rest.employers


def test_the_nightly_sweep_runs_the_admission_phase(
    sweep_db: SweepDb, nau: tuple[NauClient, srv.Register]
) -> None:
    _, register = nau
    base = f"http://127.0.0.1:{register.port}"
    with sweep_db.session() as session, session.begin():
        lender = add_employer(session, srv.NOT_FOUND, "Flex Onbekend B.V.")
        lender_id = lender.id
    body = body_for(
        start=date(2027, 6, 14),
        contract_type="temporary_agency",
        hirer={"kvk_number": "87654321", "name": "Kwekerij De Kas"},
    )
    sweep_notify(sweep_db, lender_id, body, date(2027, 6, 1))
    settings = sweep_db.settings.model_copy(update={"nau_base_url": base})
    run = run_sweep(sweep_db.engine, date(2028, 1, 3), settings=settings)
    assert run.status == SweepStatus.SUCCEEDED
    with sweep_db.session() as session:
        flag = flags(session, lender_id)["LENDER_NOT_ADMITTED"]
    assert flag.severity == "high"
    assert "Kwekerij De Kas (KvK number 87654321)" in flag.message_en
    assert f"/v1/uitleners/{srv.NOT_FOUND}" in register.requests
    # Offline (the default): the phase asks nothing and the flag stays.
    asked = len(register.requests)
    run = run_sweep(sweep_db.engine, date(2028, 1, 4), settings=sweep_db.settings)
    assert run.status == SweepStatus.SUCCEEDED
    assert len(register.requests) == asked
    with sweep_db.session() as session:
        assert flags(session, lender_id)["LENDER_NOT_ADMITTED"].status == FlagStatus.OPEN
