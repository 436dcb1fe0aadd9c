"""Migrations build an empty database of either kind; the server refuses a stale one."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from meldplicht.core.db import create_db_engine
from meldplicht.core.migrations import (
    SchemaNotCurrent,
    alembic_config,
    ensure_schema_current,
    head_revision,
    upgrade,
)
from tests.conftest import drop_postgres, fresh_postgres_url, require_backend, unique_pg_name

TABLES = {
    "employer",
    "notification",
    "notification_version",
    "notification_finding",
    "worker",
    "work_location",
    "api_key",
    "user_account",
    "audit_event",
    "idempotency_record",
}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_upgrade_empty_database(backend: str, tmp_path: Path) -> None:
    require_backend(backend)
    name = unique_pg_name("meldplicht_migrations")
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else fresh_postgres_url(name)
    engine = create_db_engine(url)
    try:
        with pytest.raises(SchemaNotCurrent, match="meldplicht db upgrade"):
            ensure_schema_current(engine)
        upgrade(url)
        ensure_schema_current(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        upgrade(url)  # a second upgrade is a no-op
        assert head_revision() is not None
    finally:
        engine.dispose()
        if backend == "postgres":
            drop_postgres(name)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0016_keeps_cases_and_their_notes_and_lets_a_case_have_no_employer(
    backend: str, tmp_path: Path
) -> None:
    """Signals (0016): the case table is rebuilt on SQLite with notes pointing at it; the
    one-open-case-per-employer index survives, and cases without an employer may be many."""
    require_backend(backend)
    name = unique_pg_name("meldplicht_m0016")
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else fresh_postgres_url(name)
    engine = create_db_engine(url)
    employer, case, now = uuid.uuid4(), uuid.uuid4(), "2026-12-01 10:00:00+00:00"
    case_row = (
        "INSERT INTO inspection_case (id, reference, employer_id, status, risk_score,"
        " risk_breakdown, active_flags, flags_high, flags_medium, flags_low, rules,"
        " workers_affected, back_pay, opened_at, updated_at{extra}) VALUES (:id, :ref, :e,"
        " 'open', 0, '{{}}', 0, 0, 0, 0, '[]', 0, 0, :now, :now{extra_values})"
    )
    try:
        upgrade(url, "0014")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO employer (id, kvk_number, name, is_staffing_agency, created_at)"
                    " VALUES (:id, '12345678', 'Tuin B.V.', false, :now)"
                ),
                {"id": _id(backend, employer), "now": now},
            )
            conn.execute(
                text(case_row.format(extra="", extra_values="")),
                {
                    "id": _id(backend, case),
                    "ref": "Z-2026-0001",
                    "e": _id(backend, employer),
                    "now": now,
                },
            )
            conn.execute(
                text(
                    "INSERT INTO case_note (id, case_id, author_id, author_name, body, created_at)"
                    " VALUES (:id, :c, 'u', 'U', 'kept', :now)"
                ),
                {"id": _id(backend, uuid.uuid4()), "c": _id(backend, case), "now": now},
            )
        upgrade(url)
        columns = {c["name"]: c for c in inspect(engine).get_columns("inspection_case")}
        assert columns["employer_id"]["nullable"] is True
        assert {"reported_name", "reported_kvk_number", "signals_unverified"} <= set(columns)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT body FROM case_note")).scalar_one() == "kept"
            assert (
                conn.execute(text("SELECT signals_unverified FROM inspection_case")).scalar_one()
                == 0
            )
            for ref in ("Z-2026-0002", "Z-2026-0003"):  # two open cases without an employer
                conn.execute(
                    text(case_row.format(extra="", extra_values="")),
                    {"id": _id(backend, uuid.uuid4()), "ref": ref, "e": None, "now": now},
                )
        with pytest.raises(IntegrityError), engine.begin() as conn:  # still one per employer
            conn.execute(
                text(case_row.format(extra="", extra_values="")),
                {
                    "id": _id(backend, uuid.uuid4()),
                    "ref": "Z-2026-0004",
                    "e": _id(backend, employer),
                    "now": now,
                },
            )
        # And back: the cases without an employer go, the employer's case and its note stay.
        command.downgrade(alembic_config(url), "0014")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM inspection_case")).scalar_one() == 1
            assert conn.execute(text("SELECT body FROM case_note")).scalar_one() == "kept"
        after = {c["name"]: c for c in inspect(engine).get_columns("inspection_case")}
        assert after["employer_id"]["nullable"] is False
    finally:
        engine.dispose()
        if backend == "postgres":
            drop_postgres(name)


def _id(backend: str, value: uuid.UUID) -> str:
    # SQLAlchemy's Uuid is CHAR(32) hex on SQLite and a native uuid on PostgreSQL.
    return value.hex if backend == "sqlite" else str(value)


_FLAG_ROW = (
    "INSERT INTO flag (id, fingerprint, rule_code, rule_version, subject_type, subject_id,"
    " period_key, employer_id, case_id, severity, status, risk_score, risk_breakdown,"
    " workers_affected, legal_basis, message_nl, message_en, evidence, parameters, source,"
    " condition_present, first_seen_at, last_seen_at, reopened_count, updated_at)"
    " VALUES (:id, :fp, :rule, '1', 'employer', 's', '', :e, :c, 'low', :status, 1, '{}', 1,"
    " '-', '-', '-', '{}', '[]', 'sweep', true, :now, :now, 0, :now)"
)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0019_fills_case_rule_from_the_active_flags_and_goes_back(
    backend: str, tmp_path: Path
) -> None:
    """case_rule (0019) is backfilled with one row per case and rule with active flags (the
    case's status beside it); downgraded, the table goes and the flags stay."""
    require_backend(backend)
    name = unique_pg_name("meldplicht_m0019")
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else fresh_postgres_url(name)
    engine = create_db_engine(url)
    employer, now = uuid.uuid4(), "2026-12-01 10:00:00+00:00"
    open_case, closed_case = uuid.uuid4(), uuid.uuid4()
    case_row = (
        "INSERT INTO inspection_case (id, reference, employer_id, status, risk_score,"
        " risk_breakdown, active_flags, flags_high, flags_medium, flags_low, rules,"
        " workers_affected, back_pay, opened_at, updated_at) VALUES (:id, :ref, :e,"
        " :status, 0, '{}', 0, 0, 0, 0, '[]', 0, 0, :now, :now)"
    )
    flags = [
        (open_case, "LATE_NOTICE", "open"),
        (open_case, "LATE_NOTICE", "claimed"),
        (open_case, "UNDERAGE_WORK", "resolved"),  # not active: no row
        (open_case, "PAST_DECLARED_END", "cleared"),
        (closed_case, "UNDERAGE_WORK", "investigating"),  # a closed case's active flag
    ]
    try:
        upgrade(url, "0018")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO employer (id, kvk_number, name, is_staffing_agency, created_at)"
                    " VALUES (:id, '12345678', 'Tuin B.V.', false, :now)"
                ),
                {"id": _id(backend, employer), "now": now},
            )
            for case, ref, status in (
                (open_case, "Z-2026-0001", "claimed"),
                (closed_case, "Z-2026-0002", "closed"),
            ):
                conn.execute(
                    text(case_row),
                    {
                        "id": _id(backend, case),
                        "ref": ref,
                        "e": _id(backend, employer),
                        "status": status,
                        "now": now,
                    },
                )
            for case, rule, status in flags:
                flag = uuid.uuid4()
                conn.execute(
                    text(_FLAG_ROW),
                    {
                        "id": _id(backend, flag),
                        "fp": flag.hex * 2,
                        "rule": rule,
                        "e": _id(backend, employer),
                        "c": _id(backend, case),
                        "status": status,
                        "now": now,
                    },
                )
        upgrade(url, "0019")
        with engine.begin() as conn:
            rows = conn.execute(
                text(
                    "SELECT case_id, rule_code, case_status, open_flags FROM case_rule"
                    " ORDER BY rule_code"
                )
            ).all()
        assert [(str(c).replace("-", ""), r, s, n) for c, r, s, n in rows] == [
            (open_case.hex, "LATE_NOTICE", "claimed", 2),
            (closed_case.hex, "UNDERAGE_WORK", "closed", 1),
        ]
        assert "ix_case_rule_count" in {i["name"] for i in inspect(engine).get_indexes("case_rule")}
        case_indexes = {i["name"] for i in inspect(engine).get_indexes("inspection_case")}
        assert "ix_case_age_count" in case_indexes
        command.downgrade(alembic_config(url), "0018")
        assert "case_rule" not in inspect(engine).get_table_names()
        case_indexes = {i["name"] for i in inspect(engine).get_indexes("inspection_case")}
        assert "ix_case_age_count" not in case_indexes
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM flag")).scalar_one() == len(flags)
        upgrade(url)  # and up again
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM case_rule")).scalar_one() == 2
    finally:
        engine.dispose()
        if backend == "postgres":
            drop_postgres(name)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0021_stamps_existing_cases_with_their_last_recomputation_and_goes_back(
    backend: str, tmp_path: Path
) -> None:
    """risk_computed_at (0021) on flag and case: existing cases get their updated_at; the
    downgrade drops both columns and keeps the rows."""
    require_backend(backend)
    name = unique_pg_name("meldplicht_m0021")
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else fresh_postgres_url(name)
    engine = create_db_engine(url)
    try:
        upgrade(url, "0018")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO inspection_case (id, reference, status, risk_score,"
                    " risk_breakdown, active_flags, flags_high, flags_medium, flags_low, rules,"
                    " workers_affected, back_pay, signals_unverified, opened_at, updated_at)"
                    " VALUES (:id, 'Z-2026-0001', 'open', 7, '{}', 0, 0, 0, 0, '[]', 0, 0, 0,"
                    " '2026-11-01 10:00:00+00:00', '2026-12-01 10:00:00+00:00')"
                ),
                {"id": _id(backend, uuid.uuid4())},
            )
        command.upgrade(alembic_config(url), "0021")
        for table in ("flag", "inspection_case"):
            assert "risk_computed_at" in {c["name"] for c in inspect(engine).get_columns(table)}
        with engine.begin() as conn:
            stamp = conn.execute(text("SELECT risk_computed_at FROM inspection_case")).scalar_one()
        assert str(stamp).startswith("2026-12-01 10:00:00")
        command.downgrade(alembic_config(url), "0018")
        for table in ("flag", "inspection_case"):
            assert "risk_computed_at" not in {c["name"] for c in inspect(engine).get_columns(table)}
        with engine.begin() as conn:
            assert conn.execute(text("SELECT risk_score FROM inspection_case")).scalar_one() == 7
    finally:
        engine.dispose()
        if backend == "postgres":
            drop_postgres(name)
