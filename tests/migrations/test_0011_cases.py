"""Migration 0011 gathers existing active flags into cases in plain SQL; the sweep computes them.

The database is built up to 0010, employers and flags are planted with plain SQL as they were
then, and the upgrade to the newest revision must open one case per employer with active
flags, put exactly those flags in it, and leave the figures for the application: the first
sweep computes them. The way back must still work.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, select

from meldplicht.core.config import Environment, Settings
from meldplicht.core.db import create_db_engine
from meldplicht.core.migrations import alembic_config, upgrade
from meldplicht.flags.models import Flag
from meldplicht.inspection.models import Case
from meldplicht.sweeps.sweep import run_sweep
from tests.conftest import drop_postgres, fresh_postgres_url, require_backend, unique_pg_name

SEEN = "2026-11-02 09:00:00+00:00"  # when the planted flags were first seen
AS_OF = date(2026, 12, 1)


@pytest.fixture(params=["sqlite", "postgres"])
def at_0010(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, Engine]]:
    backend: str = request.param
    require_backend(backend)
    name = unique_pg_name("meldplicht_m0011")
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else fresh_postgres_url(name)
    upgrade(url, "0010")
    engine = create_db_engine(url)
    try:
        yield backend, url, engine
    finally:
        engine.dispose()
        if backend == "postgres":
            drop_postgres(name)


def _id(backend: str, value: uuid.UUID) -> str:
    # SQLAlchemy's Uuid is CHAR(32) hex on SQLite and a native uuid on PostgreSQL.
    return value.hex if backend == "sqlite" else str(value)


def _employer(conn: object, backend: str, kvk: str, name: str) -> uuid.UUID:
    employer_id = uuid.uuid4()
    conn.execute(  # type: ignore[attr-defined]
        text(
            "INSERT INTO employer (id, kvk_number, name, is_staffing_agency, sector, created_at)"
            " VALUES (:id, :kvk, :name, false, 'Glastuinbouw', :now)"
        ),
        {"id": _id(backend, employer_id), "kvk": kvk, "name": name, "now": SEEN},
    )
    return employer_id


def _flag(
    conn: object,
    backend: str,
    employer_id: uuid.UUID | None,
    status: str,
    rule: str = "LATE_NOTICE",
    severity: str = "high",
    score: int = 60,
) -> uuid.UUID:
    """A flag as 0010 stored it; its subject is a notification no sweep will find again."""
    flag_id = uuid.uuid4()
    conn.execute(  # type: ignore[attr-defined]
        text(
            "INSERT INTO flag (id, fingerprint, rule_code, rule_version, subject_type,"
            " subject_id, period_key, employer_id, severity, status, risk_score,"
            " risk_breakdown, workers_affected, legal_basis, message_nl, message_en, evidence,"
            " parameters, source, condition_present, first_seen_at, last_seen_at,"
            " reopened_count, updated_at) VALUES (:id, :fp, :rule, '1', 'notification', :subject,"
            " '', :employer, :severity, :status, :score, '{}', 1, 'Wav art. 2a', 'nl', 'en',"
            " '{}', '[]', 'intake', true, :seen, :seen, 0, :seen)"
        ),
        {
            "id": _id(backend, flag_id),
            "fp": uuid.uuid4().hex,
            "rule": rule,
            "subject": str(uuid.uuid4()),
            "employer": _id(backend, employer_id) if employer_id else None,
            "severity": severity,
            "status": status,
            "score": score,
            "seen": SEEN,
        },
    )
    return flag_id


def test_0011_opens_one_case_per_employer_with_active_flags_and_the_sweep_computes_it(
    at_0010: tuple[str, str, Engine],
) -> None:
    backend, url, engine = at_0010
    with engine.begin() as conn:
        tuin = _employer(conn, backend, "12345678", "Kwekerij De Tuin B.V.")
        quiet = _employer(conn, backend, "87654321", "Schoonmaak Snel B.V.")
        _employer(conn, backend, "11223344", "Nergens B.V.")  # no flags at all
        active = {
            _flag(conn, backend, tuin, "open"),
            _flag(conn, backend, tuin, "claimed", "LATE_NOTICE", score=40),
            _flag(conn, backend, tuin, "investigating", "NO_HOURS", "medium", 30),
        }
        worked = {
            _flag(conn, backend, tuin, "resolved"),
            _flag(conn, backend, quiet, "cleared"),
            _flag(conn, backend, None, "open"),  # a person's flag: no employer, no case
        }

    upgrade(url)

    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, employer_id, status, sector, reference, active_flags,"
                " condition_since FROM inspection_case"
            )
        ).all()
        assert len(rows) == 1
        case_id, employer_id, status, sector, reference, flags, since = rows[0]
        assert uuid.UUID(str(employer_id)) == tuin
        assert (status, sector, flags, since) == ("open", "Glastuinbouw", 0, None)
        assert reference.startswith("Z-")
        assert len(reference) == len("Z-2026-ABCDEF12")
        linked = {
            uuid.UUID(str(f)): c
            for f, c in conn.execute(text("SELECT id, case_id FROM flag")).all()
        }
        assert {f for f, c in linked.items() if c is not None} == active
        assert all(str(linked[f]) == str(case_id) for f in active)
        assert all(linked[f] is None for f in worked)
        audit = conn.execute(
            text(
                "SELECT actor_id, subject_id, details FROM audit_event WHERE action = 'case.opened'"
            )
        ).all()
        assert [(a, uuid.UUID(s)) for a, s, _ in audit] == [
            ("system:migration", uuid.UUID(str(case_id)))
        ]
        details = audit[0][2]
        details = json.loads(details) if isinstance(details, str) else details
        assert details["employer_id"] == str(tuin)

    # The application computes what the migration left out: the first sweep does it.
    settings = Settings(environment=Environment.TEST, database_url=url, _env_file=None)  # type: ignore[call-arg]
    run = run_sweep(engine, AS_OF, settings=settings)
    assert run.counts["cases_computed"] == 1
    with Session(engine) as session:
        case = session.exec(select(Case)).one()
        assert case.active_flags == 3
        assert (case.flags_high, case.flags_medium, case.flags_low) == (2, 1, 0)
        assert case.rules == ["LATE_NOTICE", "NO_HOURS"]
        assert case.risk_score == 60 + 30  # each rule's worst flag
        assert case.condition_since == date(2026, 11, 2)  # first seen (no start of work known)
        assert case.due_on == date(2026, 11, 7)  # a high flag: five days
        flags = session.exec(select(Flag).where(Flag.case_id == case.id)).all()
        assert {f.condition_since for f in flags} == {date(2026, 11, 2)}
    again = run_sweep(engine, AS_OF, settings=settings)
    assert again.counts["cases_computed"] == 0

    # And back to 0010: the cases and their links are gone, the flags stay.
    command.downgrade(alembic_config(url), "0010")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM flag")).scalar_one() == 6
        assert "inspection_case" not in inspect(conn).get_table_names()
