"""The readiness checks behind /readyz: database, schema, legal parameters, nightly sweep.

Each check says ok, degraded or down, and why. Only a database that cannot be reached or a
schema behind the newest migration make the service "down" (HTTP 503: take this process out
of the load balancer). An out-of-date legal table or a missing or stale sweep make it
"degraded" (HTTP 200): intake still works and stays correct, findings say the table may be
out of date, and an operator must act, but taking every process out would stop notifications
altogether, which helps nobody.
"""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, func, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlmodel import col, select

from meldplicht.core import migrations
from meldplicht.core.clock import legal_date
from meldplicht.flags.models import Flag
from meldplicht.rules.params import DUE_WARNING, Parameters, get_parameters
from meldplicht.sweeps.models import SweepRun

OK, DEGRADED, DOWN, SKIPPED = "ok", "degraded", "down", "skipped"
# The nightly sweep runs once a day; two hours of grace so a slower run does not flap.
SWEEP_MAX_AGE = timedelta(hours=26)
# A legal table that ends within this many days is mentioned (still ok).
TABLE_ENDS_SOON = timedelta(days=31)
STATEMENT_TIMEOUT_MS = 2000


@dataclass
class Check:
    status: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


_probe_engines: dict[str, Engine] = {}


def probe_engine(engine: Engine) -> Engine:
    """The engine the probes read with.

    On SQLite the application's engine opens every transaction with BEGIN IMMEDIATE (the write
    lock), so a probe through it would queue behind writers for up to the busy timeout. Probes
    only read: they use a plain connection that reads the WAL snapshot without any lock.
    """
    url = engine.url
    if engine.dialect.name != "sqlite" or url.database in (None, "", ":memory:"):
        return engine
    key = url.render_as_string(hide_password=False)
    if key not in _probe_engines:
        _probe_engines[key] = create_engine(url, poolclass=NullPool, connect_args={"timeout": 2})
    return _probe_engines[key]


@functools.cache
def _newest_migration() -> str | None:
    # Reading the migration scripts is the only slow part; they do not change while we run.
    return migrations.head_revision()


def _limit_statement_time(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))


def check_database(conn: Connection) -> Check:
    started = time.perf_counter()
    conn.execute(text("SELECT 1"))
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    return Check(
        OK,
        f"The {conn.dialect.name} database answered in {elapsed_ms} ms.",
        {"backend": conn.dialect.name, "latency_ms": elapsed_ms},
    )


def check_schema(conn: Connection) -> Check:
    current = MigrationContext.configure(conn).get_current_revision()
    newest = _newest_migration()
    details = {"current": current, "newest": newest}
    if current == newest:
        return Check(OK, f"The schema is at the newest migration ({newest}).", details)
    return Check(
        DOWN,
        f"The schema is at {current or 'nothing (empty database)'} but this version needs "
        f"{newest}: run `meldplicht db upgrade`.",
        details,
    )


def check_parameters(on: date, parameters: Parameters | None = None) -> Check:
    params = parameters or get_parameters()
    stale = []
    for name in params.out_of_date_on(on):
        parameter = params.parameter(name)
        stale.append(
            {
                "name": name,
                "description": parameter.description,
                "newest_entry": parameter.entries[-1].effective_from.isoformat(),
                "table_ends": params.table_ends(name).isoformat(),
            }
        )
    soon = [
        {"name": name, "table_ends": params.table_ends(name).isoformat()}
        for name in params.names()
        if name not in {s["name"] for s in stale}
        and params.table_ends(name) != date.max
        and on <= params.table_ends(name) < on + TABLE_ENDS_SOON
    ]
    indexed = params.indexed_status(on)
    due = [s for s in indexed if s.state == "due_soon"]
    details: dict[str, Any] = {
        "as_of": on.isoformat(),
        "out_of_date": stale,
        "ending_soon": soon,
        "indexed": [s.as_json() for s in indexed],
        "warning_weeks": DUE_WARNING.days // 7,
    }
    if stale:
        listed = "; ".join(
            f"{s['name']}: newest value from {s['newest_entry']}, known current only until "
            f"{s['table_ends']}"
            for s in stale
        )
        return Check(
            DEGRADED,
            f"Legal parameter tables may be out of date on {on.isoformat()}: {listed}. "
            "Wage checks use the least the minimum can be (the last known amount) and say so. "
            "Add the new period to rules/parameters/<name>.yaml (a data change, see "
            "docs/OPERATIONS.md).",
            details,
        )
    if due:
        names = ", ".join(f"{s.name} (new values expected {s.next_expected})" for s in due)
        return Check(
            OK,
            f"Every legal table is current; due within {DUE_WARNING.days // 7} weeks: {names}. "
            "Enter the new values when they are published.",
            details,
        )
    if soon:
        names = ", ".join(f"{s['name']} (until {s['table_ends']})" for s in soon)
        return Check(OK, f"Every legal table is current; ending within a month: {names}.", details)
    return Check(OK, f"Every legal parameter table is current on {on.isoformat()}.", details)


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def check_sweep(conn: Connection, now: datetime) -> Check:
    last_run = conn.execute(
        select(
            col(SweepRun.status),
            col(SweepRun.started_at),
            col(SweepRun.finished_at),
            col(SweepRun.as_of),
        )
        .order_by(col(SweepRun.started_at).desc())
        .limit(1)
    ).first()
    last_success = conn.execute(
        select(col(SweepRun.finished_at), col(SweepRun.as_of))
        .where(SweepRun.status == "succeeded", col(SweepRun.finished_at).is_not(None))
        .order_by(col(SweepRun.finished_at).desc())
        .limit(1)
    ).first()
    details: dict[str, Any] = {
        "max_age_hours": SWEEP_MAX_AGE.total_seconds() / 3600,
        "last_run": None,
        "last_success": None,
    }
    if last_run is not None:
        details["last_run"] = {
            "status": last_run.status,
            "as_of": last_run.as_of.isoformat(),
            "started_at": _iso(last_run.started_at),
            "finished_at": _iso(last_run.finished_at),
        }
    if last_success is None:
        return Check(
            DEGRADED,
            "No sweep has succeeded yet: the nightly re-check (birthdays, new minimum wage, "
            "expired documents) has not run. Run `meldplicht sweep` or start the scheduler.",
            details,
        )
    finished = _as_utc(last_success.finished_at)
    assert finished is not None
    age = now - finished
    details["last_success"] = {
        "as_of": last_success.as_of.isoformat(),
        "finished_at": _iso(finished),
        "age_hours": round(age.total_seconds() / 3600, 2),
    }
    if age > SWEEP_MAX_AGE:
        return Check(
            DEGRADED,
            f"The last successful sweep finished {age.total_seconds() / 3600:.1f} hours ago "
            f"(more than {SWEEP_MAX_AGE.total_seconds() / 3600:.0f}): is the scheduler running?",
            details,
        )
    if last_run is not None and last_run.status == "failed":
        return Check(
            DEGRADED,
            "The newest sweep run failed; the one before it succeeded within a day.",
            details,
        )
    return Check(
        OK, f"The last sweep succeeded {age.total_seconds() / 3600:.1f} hours ago.", details
    )


def _iso(moment: datetime | None) -> str | None:
    moment = _as_utc(moment)
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def readiness(
    engine: Engine, now: datetime, parameters: Parameters | None = None
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) for /readyz. Never raises for a database problem."""
    checks: dict[str, Check] = {}
    try:
        with probe_engine(engine).connect() as conn, conn.begin():
            _limit_statement_time(conn)
            checks["database"] = check_database(conn)
            checks["schema"] = check_schema(conn)
            if checks["schema"].status == OK:
                checks["sweep"] = check_sweep(conn, now)
            else:
                checks["sweep"] = Check(SKIPPED, "Skipped: the schema is not current.")
    except SQLAlchemyError as exc:
        failed = "schema" if "database" in checks else "database"
        reason = (
            f"The database cannot be reached ({type(exc).__name__}); nothing can be stored "
            "until it is back."
            if failed == "database"
            else f"The schema could not be read ({type(exc).__name__})."
        )
        checks[failed] = Check(DOWN, reason, {"error": type(exc).__name__})
        for name in ("database", "schema", "sweep"):
            checks.setdefault(name, Check(SKIPPED, f"Skipped: the {failed} check failed."))
    checks["parameters"] = check_parameters(legal_date(now), parameters)
    statuses = {c.status for c in checks.values()}
    overall = DOWN if DOWN in statuses else DEGRADED if DEGRADED in statuses else OK
    body = {
        "status": overall,
        "checked_at": _iso(now),
        "checks": {name: asdict(check) for name, check in checks.items()},
    }
    return (503 if overall == DOWN else 200), body


def database_snapshot(engine: Engine) -> dict[str, Any]:
    """What the /metrics DatabaseCollector reports: one GROUP BY and two tiny lookups."""
    with probe_engine(engine).connect() as conn, conn.begin():
        _limit_statement_time(conn)
        flags = {
            str(status): int(n)
            for status, n in conn.execute(
                select(Flag.status, func.count()).group_by(Flag.status)
            ).all()
        }
        last_success = conn.execute(
            select(func.max(SweepRun.finished_at)).where(SweepRun.status == "succeeded")
        ).scalar()
        last = conn.execute(
            select(SweepRun.status, SweepRun.started_at, SweepRun.finished_at, SweepRun.counts)
            .order_by(col(SweepRun.started_at).desc())
            .limit(1)
        ).first()
    last_run = None
    if last is not None:
        last_run = {
            "status": last.status,
            "started_at": _as_utc(last.started_at),
            "finished_at": _as_utc(last.finished_at),
            "counts": last.counts or {},
        }
    return {"flags": flags, "last_success": _as_utc(last_success), "last_run": last_run}
